// ONNX models with the structures of models from the world (issue 16): If subgraphs and state
// inputs (Silero VAD), float16 outputs (ISNet), dynamic H/W convs (PaddleOCR). The models are
// built by onnx.helper in Python (test/fixtures/capture/onnxWorldModels.py) and the reference
// values computed there with numpy; MemLens's captures are checked against them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ActivationMatrix } from '../../src/core/activations';
import { ONNX_BATCH_BUDGET, batchSizeFor } from '../../src/core/capture/onnx/onnxBatch';
import { exposeTensors } from '../../src/core/capture/onnx/onnxExpose';
import {
  bfloat16FromBits,
  elementReader,
  float16FromBits,
  runtimeErrorLine,
} from '../../src/core/capture/onnx/onnxOutputs';
import { decodeOnnxModel, encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import { OnnxSession } from '../../src/core/capture/onnx/onnxSession';
import { openModel } from '../../src/core/capture/registry';
import { parseNpy, toFloat64 } from '../../src/core/io/npy';
import type { ProbeSet } from '../../src/core/probe/types';
import { skipWithout } from '../fixtures/optionalDeps';
import { rejectsWith, tempDir } from '../fixtures/capture/helpers';
import { mlpModel } from '../fixtures/capture/onnxModels';

const PYTHON = '/usr/bin/python3';
const hasOnnx = spawnSync(PYTHON, ['-c', 'import onnx, numpy'], { stdio: 'ignore' }).status === 0;
const skip = skipWithout('python3-onnx', hasOnnx);
const tmp = tempDir('memlens-onnx-world-');
after(tmp.cleanup);

const file = (name: string): string => path.join(tmp.dir, name);
function npy(name: string): { shape: number[]; data: Float64Array } {
  const a = parseNpy(readFileSync(file(name)), name);
  return { shape: a.shape, data: toFloat64(a.data) };
}
function probe(name: string): ProbeSet {
  const a = npy(name);
  const samples = a.shape[0];
  return {
    data: Float32Array.from(a.data),
    shape: a.shape,
    source: name,
    sampleIndices: Array.from({ length: samples }, (_, i) => i),
  } as unknown as ProbeSet;
}
/** Largest |captured - reference| over the first `rows` examples of a layer's columns. */
function worstDiff(
  acts: ActivationMatrix,
  layer: string,
  ref: { shape: number[]; data: Float64Array },
): number {
  const slice = acts.layers.find((l) => l.name === layer);
  assert.ok(slice, `layer ${layer} captured`);
  const width = slice.end - slice.start;
  assert.equal(width, ref.shape[1]);
  let worst = 0;
  for (let s = 0; s < ref.shape[0]; s++)
    for (let j = 0; j < width; j++)
      worst = Math.max(
        worst,
        Math.abs(acts.data[(slice.start + j) * acts.samples + s] - ref.data[s * width + j]),
      );
  return worst;
}
const maxAbs = (a: Float64Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

before(() => {
  if (!hasOnnx) return;
  const r = spawnSync(
    PYTHON,
    [path.join(__dirname, '../../test/fixtures/capture/onnxWorldModels.py'), tmp.dir],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
});

void describe('ONNX If subgraphs and state inputs (the structure of Silero VAD)', { skip }, () => {
  void it('lists the nodes of both branches under their paths, measurable', async () => {
    const handle = await openModel(file('vadlike.onnx'), { input: 'input' });
    try {
      const names = handle.layers.map((l) => l.name);
      for (const n of ['If_2/then/Gemm_t1', 'If_2/then/Add_t2', 'If_2/else/MatMul_e1'])
        assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
      assert.deepEqual(
        handle.layers.filter((l) => l.measuredByDefault).map((l) => l.name),
        ['If_2/else/MatMul_e1', 'If_2/then/Gemm_t1'],
      );
    } finally {
      handle.dispose();
    }
  });

  void it('sr=16000 and state=0.5 (batch on axis 1) take the then branch; values match numpy', async () => {
    const handle = await openModel(file('vadlike.onnx'), {
      input: 'input',
      inputValues: { sr: 16000, state: 0.5 },
    });
    const warnings: string[] = [];
    try {
      const result = await handle.capture(probe('vadlike.probe.npy'), {
        layers: ['If_2/then/Gemm_t1', 'If_2/then/Add_t2', 'If_2/else/MatMul_e1'],
        batchSize: 10,
        onWarning: (m) => warnings.push(m),
      });
      assert.deepEqual(
        result.acts.layers.map((l) => l.name),
        ['If_2/then/Gemm_t1', 'If_2/then/Add_t2'],
      );
      const gemm = npy('vadlike.then_gemm.npy');
      const add = npy('vadlike.then_add.npy');
      assert.ok(worstDiff(result.acts, 'If_2/then/Gemm_t1', gemm) <= 1e-5 * maxAbs(gemm.data));
      // Add_t2 feeds Tanh: its pre-activation includes the state summed over axis 0 (2 x 0.5).
      assert.ok(worstDiff(result.acts, 'If_2/then/Add_t2', add) <= 1e-5 * maxAbs(add.data));
      assert.ok(warnings.some((w) => /'sr' gets 16000/.test(w) && /'state' gets 0\.5/.test(w)));
      assert.ok(
        warnings.some((w) => /'If_2\/else\/MatMul_e1' has no activations.*not taken/.test(w)),
        warnings.join('\n'),
      );
    } finally {
      handle.dispose();
    }
  });

  void it('by default feeds the batch-first input, sr 16000: the then branch, as numpy gives', async () => {
    const handle = await openModel(file('vadlike.onnx'));
    const warnings: string[] = [];
    try {
      const result = await handle.capture(probe('vadlike.probe.npy'), {
        onWarning: (m) => warnings.push(m),
      });
      assert.deepEqual(
        result.acts.layers.map((l) => l.name),
        ['If_2/then/Gemm_t1'],
      );
      const ref = npy('vadlike.then_gemm.npy');
      assert.ok(worstDiff(result.acts, 'If_2/then/Gemm_t1', ref) <= 1e-5 * maxAbs(ref.data));
      assert.ok(
        warnings.some(
          (w) =>
            /the probe feeds input 'input' \(the only input with a batch dimension first that is not a mask; --input chooses another\)/.test(
              w,
            ) &&
            /'state' gets zeros/.test(w) &&
            /'sr' gets 16000 \(a sample rate; --input-value sr=N sets another\)/.test(w),
        ),
        warnings.join('\n'),
      );
    } finally {
      handle.dispose();
    }
  });

  void it('sr 8000 takes the else branch, with the values numpy gives', async () => {
    const handle = await openModel(file('vadlike.onnx'), { inputValues: { sr: 8000 } });
    try {
      const result = await handle.capture(probe('vadlike.probe.npy'));
      assert.deepEqual(
        result.acts.layers.map((l) => l.name),
        ['If_2/else/MatMul_e1'],
      );
      const ref = npy('vadlike.else_matmul.npy');
      assert.ok(worstDiff(result.acts, 'If_2/else/MatMul_e1', ref) <= 1e-5 * maxAbs(ref.data));
      await rejectsWith(
        handle.capture(probe('vadlike.probe.npy'), { layers: ['If_2/then/Gemm_t1'] }),
        /no activations on this probe \(If branches not taken\)/,
      );
    } finally {
      handle.dispose();
    }
  });

  void it('a value for an input the model lacks, or for the fed one, is refused in one line', async () => {
    await rejectsWith(
      openModel(file('vadlike.onnx'), { input: 'input', inputValues: { rate: 1 } }),
      /a value is given for input 'rate': expected one of the inputs the probe does not feed \(state, sr\)/,
    );
    await rejectsWith(
      openModel(file('vadlike.onnx'), { input: 'input', inputValues: { input: 1 } }),
      /input 'input' is the one the probe feeds/,
    );
  });
});

void describe('ONNX float16 outputs (the structure of ISNet)', { skip }, () => {
  void it('decodes fp16 tensors: Conv pre-activations equal numpy within fp16 rounding', async () => {
    const handle = await openModel(file('fp16.onnx'));
    try {
      const result = await handle.capture(probe('fp16.probe.npy'));
      assert.deepEqual(
        result.acts.layers.map((l) => l.name),
        ['Conv_1'],
      );
      const ref = npy('fp16.conv_gap.npy');
      // Raw bit patterns would read in the thousands; fp16 keeps 11 bits (2^-11 relative),
      // the runtime accumulates in fp16 over 27 products per position.
      const worst = worstDiff(result.acts, 'Conv_1', ref);
      assert.ok(worst <= 2e-2 * Math.max(1, maxAbs(ref.data)), `worst ${worst}`);
    } finally {
      handle.dispose();
    }
  });

  void it('decodes half and bfloat16 bit patterns, and refuses a non-numeric type', () => {
    assert.equal(float16FromBits(0x3c00), 1);
    assert.equal(float16FromBits(0xc000), -2);
    assert.equal(float16FromBits(0x7bff), 65504);
    assert.equal(float16FromBits(0x0001), 2 ** -24);
    assert.equal(float16FromBits(0x7c00), Infinity);
    assert.equal(bfloat16FromBits(0x3f80), 1);
    assert.equal(bfloat16FromBits(0xc020), -2.5);
    const read = elementReader('y', 'float16', Uint16Array.from([0x3555]));
    assert.equal(typeof read, 'function');
    assert.ok(Math.abs((read as (i: number) => number)(0) - 1 / 3) < 1e-3);
    assert.match(
      elementReader('names', 'string', []) as string,
      /^output 'names' has element type string: expected a numeric tensor/,
    );
  });
});

void describe('ONNX conv net with dynamic H and W', { skip }, () => {
  const perExample = 128 * 128 * (16 + 32) * 4 + 3 * 128 * 128 * 4;
  const expectedBatch = Math.floor(ONNX_BATCH_BUDGET / perExample);

  void it('sizes the batch from the first batch under the memory budget; values match numpy', async () => {
    assert.ok(expectedBatch > 1 && expectedBatch < 90, `${expectedBatch}`);
    const handle = await openModel(file('dynconv.onnx'));
    try {
      const done: number[] = [];
      const result = await handle.capture(probe('dynconv.probe.npy'), {
        onProgress: (p) => done.push(p.done),
      });
      // One example first, then batches of the size its real shapes allow.
      assert.deepEqual(done, [1, 1 + expectedBatch, 90]);
      assert.deepEqual(
        result.acts.layers.map((l) => [l.name, l.end - l.start]),
        [
          ['Conv_0', 16],
          ['Conv_2', 32],
        ],
      );
      const c0 = npy('dynconv.conv0_gap.npy');
      const c2 = npy('dynconv.conv2_gap.npy');
      assert.ok(worstDiff(result.acts, 'Conv_0', c0) <= 1e-5 * maxAbs(c0.data));
      assert.ok(worstDiff(result.acts, 'Conv_2', c2) <= 1e-5 * maxAbs(c2.data));
    } finally {
      handle.dispose();
    }
  });

  void it('the child sends pooled rows, never the feature maps, and stays within a memory bound', async () => {
    const model = decodeOnnxModel(readFileSync(file('dynconv.onnx')), 'dynconv.onnx');
    const exposed = exposeTensors(
      model,
      [
        { tensor: 'c1', scope: [] },
        { tensor: 'c2', scope: [] },
      ],
      'dynconv.onnx',
    );
    const session = await OnnxSession.open('dynconv.onnx', encodeOnnxModel(model));
    try {
      const run = expectedBatch;
      const x = Float32Array.from(npy('dynconv.probe.npy').data.subarray(0, run * 3 * 128 * 128));
      const out = await session.run(
        { x: { type: 'float32', dims: [run, 3, 128, 128], data: x } },
        [...exposed.values()].map((e) => ({
          name: e.output,
          mode: 'reduce',
          convLike: true,
          sequence: 'first',
          stacked: 0,
        })),
      );
      assert.deepEqual(out.c2.dims, [run, 32, 128, 128]);
      assert.equal(out.c2.reduction, 'global-average-pool');
      assert.equal(out.c2.data.length, run * 32);
      assert.equal(out.c1.data.length, run * 16);
      assert.equal(batchSizeFor([out.c1, out.c2], run, 3 * 128 * 128 * 4), expectedBatch);
      // The fetched maps of one batch are the budget; the runtime's own work space and the
      // library come on top: the child stays under 1.5 GB (a batch of 256 would need 3.3 GB
      // for the two fetched maps alone).
      assert.ok(session.maxRss > 0 && session.maxRss < 1.5e9, `child peak RSS ${session.maxRss}`);
    } finally {
      session.close();
    }
  });
});

void describe('ONNX runtime errors', () => {
  void it('keep the line that says what was expected', async () => {
    const session = await OnnxSession.open('mlp.onnx', encodeOnnxModel(mlpModel()));
    try {
      const spec = {
        name: 'y',
        mode: 'reduce',
        convLike: false,
        sequence: 'first',
        stacked: 0,
      } as const;
      await rejectsWith(
        session.run({ x: { type: 'float32', dims: [2, 5], data: new Float32Array(10) } }, [spec]),
        /mlp\.onnx: the ONNX runtime failed on a batch: .*input: x.*index: 1 Got: 5 Expected: 3/,
      );
    } finally {
      session.close();
    }
  });

  void it('one informative line from a multi-line message', () => {
    const message =
      '[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions for input: state for the following indices\n index: 0 Got: 256 Expected: 2\n Please fix either the inputs/the model.';
    assert.equal(
      runtimeErrorLine(message),
      'Got invalid dimensions for input: state for the following indices; index: 0 Got: 256 Expected: 2',
    );
  });
});
