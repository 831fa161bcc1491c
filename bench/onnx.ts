// ONNX capture speed: a 784-256-128-10 MLP (Gemm + Relu, as PyTorch exports nn.Linear) on
// 10,000 probe inputs, run by onnxruntime-node in its child process: the time to open (fork,
// session, shape pass) and to capture the two hidden layers (384 neurons).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type {
  OnnxModelProto,
  OnnxNodeProto,
  OnnxTensorProto,
} from '../src/core/capture/onnx/onnxProto';
import { encodeOnnxModel } from '../src/core/capture/onnx/onnxProto';
import { openModel } from '../src/core/capture/registry';
import { Rng } from '../src/core/random';
import { childrenPeakRss } from './memory';

function normal(rng: Rng, size: number, scale: number): Float32Array {
  return Float32Array.from({ length: size }, () => rng.normal() * scale);
}

function tensor(name: string, dims: number[], values: Float32Array): OnnxTensorProto {
  return { name, dims, dataType: 1, rawData: new Uint8Array(values.buffer), externalData: [] };
}

export function mlp(sizes: number[]): OnnxModelProto {
  const rng = new Rng(3);
  const node: OnnxNodeProto[] = [];
  const initializer: OnnxTensorProto[] = [];
  let input = 'x';
  for (let i = 0; i + 1 < sizes.length; i++) {
    const [fanIn, fanOut] = [sizes[i], sizes[i + 1]];
    initializer.push(
      tensor(`w${i}`, [fanIn, fanOut], normal(rng, fanIn * fanOut, 1 / Math.sqrt(fanIn))),
    );
    initializer.push(tensor(`b${i}`, [fanOut], normal(rng, fanOut, 0.1)));
    const last = i + 2 === sizes.length;
    node.push({
      name: `/${2 * i}/Gemm`,
      opType: 'Gemm',
      input: [input, `w${i}`, `b${i}`],
      output: [last ? 'y' : `g${i}`],
      attribute: [],
    });
    if (!last) {
      node.push({
        name: `/${2 * i + 1}/Relu`,
        opType: 'Relu',
        input: [`g${i}`],
        output: [`r${i}`],
        attribute: [],
      });
      input = `r${i}`;
    }
  }
  const info = (name: string, width: number) => ({
    name,
    type: {
      tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] } },
    },
  });
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'mlp',
      node,
      initializer,
      input: [info('x', sizes[0])],
      output: [info('y', sizes[sizes.length - 1])],
      valueInfo: [],
    },
  };
}

export async function benchOnnx(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-bench-onnx-'));
  try {
    const file = path.join(dir, 'mlp.onnx');
    writeFileSync(file, encodeOnnxModel(mlp([784, 256, 128, 10])));
    const samples = 10_000;
    const rng = new Rng(9);
    const probe = {
      source: 'random',
      shape: [samples, 784],
      data: normal(rng, samples * 784, 1),
      sampleIndices: Array.from({ length: samples }, (_, i) => i),
    };
    const t0 = performance.now();
    const handle = await openModel(file);
    const t1 = performance.now();
    try {
      const result = await handle.capture(probe);
      const t2 = performance.now();
      console.log(
        `onnx: 784-256-128-10 MLP, open ${(t1 - t0).toFixed(0)} ms; capture ${samples} x ${result.acts.neurons} in ${((t2 - t1) / 1000).toFixed(2)} s (${Math.round(samples / ((t2 - t1) / 1000))} examples/s)`,
      );
    } finally {
      handle.dispose();
    }
    await benchDynamicConv(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** x[N, 3, H, W] -> Conv 64 -> Relu -> Conv 128 -> Relu -> Conv 256 -> Relu -> GAP: H, W dynamic. */
function dynamicConv(): OnnxModelProto {
  const rng = new Rng(5);
  const node: OnnxNodeProto[] = [];
  const initializer: OnnxTensorProto[] = [];
  let input = 'x';
  [3, 64, 128, 256].forEach((cin, i, chans) => {
    const cout = chans[i + 1];
    if (cout === undefined) return;
    initializer.push(
      tensor(`w${i}`, [cout, cin, 3, 3], normal(rng, cout * cin * 9, 1 / Math.sqrt(cin * 9))),
    );
    initializer.push(tensor(`b${i}`, [cout], normal(rng, cout, 0.1)));
    const pads = { name: 'pads', type: 7, ints: [1, 1, 1, 1] };
    const strides = { name: 'strides', type: 7, ints: i === 0 ? [1, 1] : [2, 2] };
    node.push({
      name: `/conv${i}/Conv`,
      opType: 'Conv',
      input: [input, `w${i}`, `b${i}`],
      output: [`c${i}`],
      attribute: [pads, strides],
    });
    node.push({
      name: `/relu${i}/Relu`,
      opType: 'Relu',
      input: [`c${i}`],
      output: [`r${i}`],
      attribute: [],
    });
    input = `r${i}`;
  });
  node.push({
    name: '/pool/GlobalAveragePool',
    opType: 'GlobalAveragePool',
    input: [input],
    output: ['y'],
    attribute: [],
  });
  const dims = (d: (number | string)[]) =>
    d.map((v) => (typeof v === 'number' ? { dimValue: v } : { dimParam: v }));
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'dynconv',
      node,
      initializer,
      input: [
        {
          name: 'x',
          type: { tensorType: { elemType: 1, shape: { dim: dims(['N', 3, 'H', 'W']) } } },
        },
      ],
      output: [
        {
          name: 'y',
          type: { tensorType: { elemType: 1, shape: { dim: dims(['N', 256, 1, 1]) } } },
        },
      ],
      valueInfo: [],
    },
  };
}

/**
 * A real-size conv net with a dynamic input (224 x 224): capture throughput, the batch the
 * first batch's shapes chose, and the peak RSS of the ONNX child and of this process.
 */
async function benchDynamicConv(dir: string): Promise<void> {
  const file = path.join(dir, 'dynconv.onnx');
  writeFileSync(file, encodeOnnxModel(dynamicConv()));
  const samples = 64;
  const rng = new Rng(11);
  const probe = {
    source: 'random',
    shape: [samples, 3, 224, 224],
    data: Float32Array.from({ length: samples * 3 * 224 * 224 }, () => Math.abs(rng.normal())),
    sampleIndices: Array.from({ length: samples }, (_, i) => i),
  };
  const handle = await openModel(file);
  try {
    const done: number[] = [];
    const t0 = performance.now();
    const result = await handle.capture(probe, { onProgress: (p) => done.push(p.done) });
    const s = (performance.now() - t0) / 1000;
    const child = childrenPeakRss();
    console.log(
      `onnx: conv 64-128-256 on 3x224x224 (dynamic H/W), capture ${samples} x ${result.acts.neurons} in ${s.toFixed(2)} s (${(samples / s).toFixed(1)} examples/s), batch ${(done[1] ?? samples) - 1} after a first of 1; peak RSS: ONNX child ${(child / 2 ** 20).toFixed(0)} MiB, this process ${((process.resourceUsage().maxRSS * 1024) / 2 ** 20).toFixed(0)} MiB`,
    );
  } finally {
    handle.dispose();
  }
}
