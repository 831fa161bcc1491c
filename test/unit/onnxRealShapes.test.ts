import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { otherDims } from '../../src/core/capture/onnx/onnxFeeds';
import { runtimeErrorLine } from '../../src/core/capture/onnx/onnxOutputs';
import type { OnnxModelProto } from '../../src/core/capture/onnx/onnxProto';
import { encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import { openModel } from '../../src/core/capture/registry';
import { affine, assertColumns, probeOf, randn, tempDir } from '../fixtures/capture/helpers';
import { floatTensor } from '../fixtures/capture/onnxModels';

/** Structures met in the npm packages' real models (docs/real-models.md). */

const tmp = tempDir('memlens-onnx-real-');
after(tmp.cleanup);

/** A float32 value info whose dims are sizes or unnamed symbolic axes (null), as Silero VAD v5 exports. */
function unnamed(name: string, dims: (number | null)[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: 1,
        shape: { dim: dims.map((d) => (d === null ? {} : { dimValue: d })) },
      },
    },
  };
}

const w = randn(41, 3, 4);
const b = randn(42, 1, 4);

/**
 * x[?, 3] -> Gemm(4) = h; state[2, ?, 4] -> ReduceSum over axis 0 = s; Concat(h, s) on
 * axis 1: the run fails unless the state's unnamed axis 1 carries the batch.
 */
function unnamedStateModel(): OnnxModelProto {
  return {
    irVersion: 8,
    producerName: 'memlens-test',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'unnamed-state',
      node: [
        { name: 'Gemm_0', opType: 'Gemm', input: ['x', 'w', 'b'], output: ['h'], attribute: [] },
        {
          name: 'ReduceSum_1',
          opType: 'ReduceSum',
          input: ['state', 'axes'],
          output: ['s'],
          attribute: [{ name: 'keepdims', type: 2, i: 0 }],
        },
        {
          name: 'Concat_2',
          opType: 'Concat',
          input: ['h', 's'],
          output: ['y'],
          attribute: [{ name: 'axis', type: 2, i: 1 }],
        },
      ],
      initializer: [
        floatTensor('w', [3, 4], w),
        floatTensor('b', [4], b),
        { name: 'axes', dims: [1], dataType: 7, rawData: new Uint8Array(8), externalData: [] },
      ],
      input: [unnamed('x', [null, 3]), unnamed('state', [2, null, 4])],
      output: [unnamed('y', [null, 8])],
      valueInfo: [],
    },
  } as unknown as OnnxModelProto;
}

void describe('ONNX structures of real npm models', () => {
  void it('puts the batch on the first symbolic axis when the dims have no names', () => {
    assert.deepEqual(
      otherDims([{ dimValue: 2 }, {}, { dimValue: 128 }], [{}, {}], 7, [512]),
      [2, 7, 128],
    );
    // A symbolic axis 0 is still the batch; a later unnamed one gets 1.
    assert.deepEqual(otherDims([{}, {}], [{}, {}], 7, [512]), [7, 1]);
  });

  void it('captures a model whose state input has an unnamed batch axis 1', async () => {
    const file = path.join(tmp.dir, 'unnamed-state.onnx');
    writeFileSync(file, encodeOnnxModel(unnamedStateModel()));
    const samples = 6;
    const x = randn(43, samples, 3);
    const handle = await openModel(file, { input: 'x', inputValues: { state: 0.25 } });
    try {
      const result = await handle.capture(probeOf(x, [samples, 3]), {
        layers: ['Gemm_0', 'Concat_2'],
        batchSize: 3,
      });
      assertColumns(result.acts, 0, affine(x, w, b, samples, 3, 4), 4);
      // The state's two rows of 0.25 summed: 0.5 in each of Concat's last four columns.
      const concat = result.acts.layers.find((l) => l.name === 'Concat_2');
      assert.ok(concat !== undefined);
      assertColumns(result.acts, concat.start + 4, new Float64Array(samples * 4).fill(0.5), 4);
    } finally {
      handle.dispose();
    }
  });

  void it('keeps the innermost failure of an error nested in If nodes', () => {
    const message =
      "Non-zero status code returned while running If node. Name:'If_0' Status Message: Non-zero status code returned while running If node. Name:'If_0_then_branch__Inline_0__/decoder/If_1' Status Message: Non-zero status code returned while running LSTM node. Name:'If_0_then_branch__Inline_0__/decoder/rnn/LSTM' Status Message: Input initial_h must have shape {1,255,128}. Actual:{1,1,128}";
    assert.equal(
      runtimeErrorLine(message),
      "Non-zero status code returned while running LSTM node. Name:'If_0_then_branch__Inline_0__/decoder/rnn/LSTM' Status Message: Input initial_h must have shape {1,255,128}. Actual:{1,1,128}",
    );
  });
});

void describe('an ONNX run that fails on an input filled by default', () => {
  void it('names the inputs filled by default, and how to set them, in the one line', async () => {
    // x [?, 3] reshaped to [-1, cols] before the Gemm: cols 0 (the default fill) cannot hold
    // the values; cols 3 gives x back.
    const cols = unnamed('cols', [1]);
    cols.type.tensorType.elemType = 7;
    const minusOne = new Uint8Array(new BigInt64Array([-1n]).buffer);
    const model = {
      irVersion: 8,
      producerName: 'memlens-test',
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'reshape-input',
        node: [
          {
            name: 'Concat_0',
            opType: 'Concat',
            input: ['minus_one', 'cols'],
            output: ['target'],
            attribute: [{ name: 'axis', type: 2, i: 0 }],
          },
          {
            name: 'Reshape_1',
            opType: 'Reshape',
            input: ['x', 'target'],
            output: ['xr'],
            // allowzero: a 0 is a size of 0, not "as the input".
            attribute: [{ name: 'allowzero', type: 2, i: 1 }],
          },
          { name: 'Gemm_2', opType: 'Gemm', input: ['xr', 'w', 'b'], output: ['y'], attribute: [] },
        ],
        initializer: [
          floatTensor('w', [3, 4], w),
          floatTensor('b', [4], b),
          { name: 'minus_one', dims: [1], dataType: 7, rawData: minusOne, externalData: [] },
        ],
        input: [unnamed('x', [null, 3]), cols],
        output: [unnamed('y', [null, 4])],
        valueInfo: [],
      },
    } as unknown as OnnxModelProto;
    const file = path.join(tmp.dir, 'reshape-input.onnx');
    writeFileSync(file, encodeOnnxModel(model));
    const x = randn(44, 4, 3);
    const handle = await openModel(file);
    try {
      await assert.rejects(
        handle.capture(probeOf(x, [4, 3]), { layers: ['Gemm_2'], batchSize: 4 }),
        /the ONNX runtime failed on a batch: .* \(inputs cols=0 were filled by default: --input-value NAME=VALUE, or the setting memlens\.inputValues, gives another value\)$/,
      );
      const result = await handle.capture(probeOf(x, [4, 3]), {
        layers: ['Gemm_2'],
        batchSize: 4,
        inputValues: { cols: 3 },
      });
      assertColumns(result.acts, 0, affine(x, w, b, 4, 3, 4), 4);
    } finally {
      handle.dispose();
    }
  });
});
