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

function normal(rng: Rng, size: number, scale: number): Float32Array {
  return Float32Array.from({ length: size }, () => rng.normal() * scale);
}

function tensor(name: string, dims: number[], values: Float32Array): OnnxTensorProto {
  return { name, dims, dataType: 1, rawData: new Uint8Array(values.buffer), externalData: [] };
}

function mlp(sizes: number[]): OnnxModelProto {
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
