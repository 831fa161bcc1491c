// Capture speed: a 3 x 64 MLP (input 128) on 1,000 probe inputs (goal: under 2 s), the
// throughput of a convolutional layers-model and graph-model on 64 x 64 RGB inputs, per backend,
// and a real-size graph-model (224 x 224 input saved with batch 1, as exported graph-models
// often are) with the peak RSS of its capture, and the peak RSS of `memlens capture` (TF.js and
// ONNX) on a 30,000 x 8,192 matrix streamed to disk (over --memory-budget) against held in memory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { fileSystemHandler } from '../src/core/capture/tfjs/fsHandler';
import { openModel } from '../src/core/capture/registry';
import { encodeNpy } from '../src/core/io/npy';
import { encodeOnnxModel } from '../src/core/capture/onnx/onnxProto';
import { mlp } from './onnx';
import { loadTf, requireTfjsNode } from '../src/core/capture/tfjs/tfjsRuntime';
import type { BackendName, CapturePoint } from '../src/core/capture/format';
import type { ProbeSet } from '../src/core/probe/types';
import { Rng } from '../src/core/random';

/** S x ... standard-normal probe inputs, seeded. */
export function randomProbe(seed: number, shape: number[]): ProbeSet {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    source: 'random',
    shape,
    data: Float32Array.from({ length: size }, () => rng.normal()),
    sampleIndices: Array.from({ length: shape[0] }, (_, i) => i),
  };
}

async function saveLayersModel(dir: string, model: TfModule.LayersModel): Promise<string> {
  const file = path.join(dir, 'model.json');
  await model.save(fileSystemHandler(file));
  model.dispose();
  return file;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/**
 * A graph-model written as GraphDef JSON: four 3x3 stride-2 SAME convolutions (32, 64, 128,
 * 256 filters) with BiasAdd + Relu, then a mean and a MatMul head, on `size` x `size` RGB
 * inputs with batch dimension `batch` (-1: any). Weights are seeded.
 */
function writeConvGraph(dir: string, size = 64, batch = -1): { file: string; params: number } {
  const rng = new Rng(5);
  const nodes: object[] = [
    {
      name: 'image',
      op: 'Placeholder',
      attr: {
        dtype: { type: 'DT_FLOAT' },
        shape: { shape: { dim: [batch, size, size, 3].map((d) => ({ size: String(d) })) } },
      },
    },
  ];
  const weights: { name: string; shape: number[]; data: Float32Array }[] = [];
  const constant = (name: string, shape: number[], scale: number): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    weights.push({
      name,
      shape,
      data: Float32Array.from({ length: n }, () => rng.normal() * scale),
    });
    nodes.push({
      name,
      op: 'Const',
      attr: {
        value: {
          tensor: {
            dtype: 'DT_FLOAT',
            tensorShape: { dim: shape.map((d) => ({ size: String(d) })) },
          },
        },
        dtype: { type: 'DT_FLOAT' },
      },
    });
  };
  let input = 'image';
  let channels = 3;
  [32, 64, 128, 256].forEach((filters, i) => {
    const block = `block${i + 1}`;
    constant(`${block}/kernel`, [3, 3, channels, filters], Math.sqrt(2 / (9 * channels)));
    constant(`${block}/bias`, [filters], 0.01);
    nodes.push(
      {
        name: `${block}/Conv2D`,
        op: 'Conv2D',
        input: [input, `${block}/kernel`],
        attr: {
          T: { type: 'DT_FLOAT' },
          strides: { list: { i: ['1', '2', '2', '1'] } },
          padding: { s: b64('SAME') },
          data_format: { s: b64('NHWC') },
          dilations: { list: { i: ['1', '1', '1', '1'] } },
        },
      },
      {
        name: `${block}/BiasAdd`,
        op: 'BiasAdd',
        input: [`${block}/Conv2D`, `${block}/bias`],
        attr: { T: { type: 'DT_FLOAT' }, data_format: { s: b64('NHWC') } },
      },
      {
        name: `${block}/Relu`,
        op: 'Relu',
        input: [`${block}/BiasAdd`],
        attr: { T: { type: 'DT_FLOAT' } },
      },
    );
    input = `${block}/Relu`;
    channels = filters;
  });
  constant('pool/axes', [2], 0);
  weights[weights.length - 1].data = Float32Array.from([1, 2]);
  // Axes must be int32: rewrite that Const's dtype.
  const axes = nodes[nodes.length - 1] as {
    attr: { value: { tensor: { dtype: string } }; dtype: { type: string } };
  };
  axes.attr.value.tensor.dtype = 'DT_INT32';
  axes.attr.dtype.type = 'DT_INT32';
  nodes.push({
    name: 'pool',
    op: 'Mean',
    input: [input, 'pool/axes'],
    attr: { T: { type: 'DT_FLOAT' }, keep_dims: { b: false }, Tidx: { type: 'DT_INT32' } },
  });
  constant('head/kernel', [channels, 10], 0.1);
  nodes.push({
    name: 'logits',
    op: 'MatMul',
    input: ['pool', 'head/kernel'],
    attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } },
  });
  const bytes = Buffer.concat(
    weights.map((w) =>
      w.name === 'pool/axes'
        ? Buffer.from(Int32Array.from(w.data).buffer)
        : Buffer.from(w.data.buffer),
    ),
  );
  writeFileSync(path.join(dir, 'weights.bin'), bytes);
  const manifest = weights.map((w) => ({
    name: w.name,
    shape: w.shape,
    dtype: w.name === 'pool/axes' ? 'int32' : 'float32',
  }));
  const file = path.join(dir, 'model.json');
  writeFileSync(
    file,
    JSON.stringify({
      format: 'graph-model',
      generatedBy: 'memlens bench',
      convertedBy: 'memlens bench',
      modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
      weightsManifest: [{ paths: ['weights.bin'], weights: manifest }],
    }),
  );
  const params = weights
    .filter((w) => w.name !== 'pool/axes')
    .reduce((a, w) => a + w.data.length, 0);
  return { file, params };
}

/** Times open + capture; returns milliseconds. */
function tfjsNodeStarts(): boolean {
  try {
    requireTfjsNode();
    return true;
  } catch {
    return false;
  }
}

async function timeCapture(
  file: string,
  backend: BackendName,
  probe: ProbeSet,
  point?: CapturePoint,
): Promise<{ openMs: number; captureMs: number; neurons: number }> {
  const t0 = performance.now();
  const handle = await openModel(file, { backend });
  const t1 = performance.now();
  const r = await handle.capture(probe, { point });
  const t2 = performance.now();
  handle.dispose();
  return { openMs: t1 - t0, captureMs: t2 - t1, neurons: r.acts.neurons };
}

/**
 * Capture of the real-size graph-model on the backends that start, with the process's peak RSS
 * sampled every 10 ms during each capture (run first: maxRSS is the process's peak so far).
 */
async function benchRealSize(
  dir: string,
  backends: BackendName[],
  log: (line: string) => void,
): Promise<void> {
  const realDir = path.join(dir, 'graph224');
  mkdirSync(realDir);
  const real = writeConvGraph(realDir, 224, 1);
  for (const backend of backends) {
    const images = randomProbe(3, [backend === 'cpu' ? 8 : 64, 224, 224, 3]);
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
    try {
      const r = await timeCapture(real.file, backend, images);
      peak = Math.max(peak, process.memoryUsage.rss());
      const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
      log(
        `capture ${backend}: real-size conv graph-model 224x224x3 (input batch fixed at 1), ${real.params} params, 4 conv blocks GAP (${r.neurons} neurons), ${images.shape[0]} images: ${((images.shape[0] / r.captureMs) * 1000).toFixed(1)} images/s, peak RSS ${mb(peak)} MB (${mb(before)} MB before; process maxRSS ${mb(process.resourceUsage().maxRSS * 1024)} MB)`,
      );
    } finally {
      clearInterval(sampler);
    }
  }
}

/**
 * Peak RSS of `memlens capture` (the built CLI, a child process each) on a matrix far above
 * its memory budget, streamed, against the same capture held in memory (a budget above it:
 * the path every capture took before streaming): a 16 -> 8,192 Dense layer (TF.js, wasm) and
 * Gemm (ONNX; the CLI process's peak, the ONNX child holds a batch) measured on 30,000 probe
 * inputs, 30,000 x 8,192 (1.9 GiB as float64, 0.9 GiB on disk).
 */
async function benchStreamedCapture(
  dir: string,
  log: (line: string) => void,
  samples = 30_000,
  width = 8192,
): Promise<void> {
  const tf = loadTf();
  const wide = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [16], units: width, name: 'wide' }),
      tf.layers.dense({ units: 2, name: 'head' }),
    ],
  });
  const tfjsModel = await saveLayersModel(path.join(dir, 'wide'), wide);
  const onnxModel = path.join(dir, 'wide.onnx');
  writeFileSync(onnxModel, encodeOnnxModel(mlp([16, width, 2])));
  const probe = path.join(dir, 'wide-probe.npy');
  writeFileSync(probe, encodeNpy(randomProbe(7, [samples, 16]).data, [samples, 16]));
  // The child reports its own peak resident set as it exits.
  const preload = path.join(dir, 'maxrss.js');
  writeFileSync(
    preload,
    "process.on('exit', () => require('fs').writeSync(2, `maxRSS ${process.resourceUsage().maxRSS}\\n`));\n",
  );
  const cli = path.join(__dirname, 'cli.js');
  const gib = (bytes: number): string => (bytes / 2 ** 30).toFixed(2);
  for (const [format, model, flags] of [
    ['tfjs', tfjsModel, ['--layers', 'wide', '--backend', 'wasm']],
    ['onnx', onnxModel, ['--layers', '/0/Gemm']],
  ] as const) {
    for (const [label, budget] of [
      ['streamed', '256'],
      ['in memory', '100000'],
    ] as const) {
      const out = path.join(dir, `wide-${budget}.npy`);
      const t0 = performance.now();
      const run = spawnSync(
        process.execPath,
        [
          '--require',
          preload,
          cli,
          'capture',
          model,
          '--probe',
          probe,
          ...flags,
          '--memory-budget',
          budget,
          '--out',
          out,
          '--quiet',
        ],
        { encoding: 'utf8' },
      );
      const seconds = (performance.now() - t0) / 1000;
      const rss = /maxRSS (\d+)/.exec(run.stderr);
      if (run.status !== 0 || rss === null) {
        log(
          `capture ${format} ${label}: failed (${run.stderr.trim().split('\n').pop() ?? run.status})`,
        );
        continue;
      }
      log(
        `capture ${format} ${label} (--memory-budget ${budget} MiB): ${samples} x ${width} (${gib(8 * samples * width)} GiB float64, ${gib(statSync(out).size)} GiB on disk), peak RSS ${gib(Number(rss[1]) * 1024)} GiB, ${seconds.toFixed(1)} s`,
      );
      rmSync(out);
    }
  }
}

/** Prints the capture figures, one line each. */
export async function benchCapture(log: (line: string) => void = console.log): Promise<void> {
  const tf = loadTf();
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-bench-capture-'));
  try {
    const realBackends: BackendName[] = ['wasm', 'cpu'];
    if (tfjsNodeStarts()) realBackends.unshift('tfjs-node');
    await benchRealSize(dir, realBackends, log);
    await benchStreamedCapture(dir, log);
    const mlp = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [128], units: 64, activation: 'relu' }),
        tf.layers.dense({ units: 64, activation: 'relu' }),
        tf.layers.dense({ units: 64, activation: 'relu' }),
        tf.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    const mlpFile = await saveLayersModel(path.join(dir, 'mlp'), mlp);
    const mlpProbe = randomProbe(1, [1000, 128]);
    const conv = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [64, 64, 3],
          filters: 32,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
        }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 128, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 10 }),
      ],
    });
    const convParams = conv.countParams();
    const convFile = await saveLayersModel(path.join(dir, 'conv'), conv);
    const graphDir = path.join(dir, 'graph');
    mkdirSync(graphDir);
    const graph = writeConvGraph(graphDir);
    const backends: BackendName[] = ['wasm', 'cpu'];
    if (tfjsNodeStarts()) backends.push('tfjs-node');
    else log('capture tfjs-node: not installed (scripts/setupTfjsNode.sh builds it)');
    for (const backend of backends) {
      // The pure-JS cpu backend is ~30x slower on convolutions: fewer images keep the bench short.
      const images = randomProbe(2, [backend === 'cpu' ? 16 : 256, 64, 64, 3]);
      const m = await timeCapture(mlpFile, backend, mlpProbe);
      log(
        `capture ${backend}: MLP 3x64 (input 128), 1000 examples, ${m.neurons} neurons: ${(m.captureMs / 1000).toFixed(3)} s (open ${(m.openMs / 1000).toFixed(3)} s; goal < 2 s)`,
      );
      for (const point of ['preactivation', 'output'] as const) {
        const c = await timeCapture(convFile, backend, images, point);
        log(
          `capture ${backend}: conv layers-model 64x64x3, ${convParams} params, 3 conv layers GAP (${c.neurons} neurons), ${point}: ${((images.shape[0] / c.captureMs) * 1000).toFixed(0)} images/s`,
        );
      }
      const g = await timeCapture(graph.file, backend, images);
      log(
        `capture ${backend}: conv graph-model 64x64x3, ${graph.params} params, 4 conv blocks GAP (${g.neurons} neurons): ${((images.shape[0] / g.captureMs) * 1000).toFixed(0)} images/s`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
