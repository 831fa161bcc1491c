// The ONNX capture against Debian's libonnx-testdata: every single-input float model of the
// families MemLens measures, run in ONNX Runtime, must reproduce its stored output_0.pb.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { decodeOnnxFloatTensor } from '../../src/core/capture/onnx/onnxProto';
import { openModel } from '../../src/core/capture/registry';
import { UserError } from '../../src/core/errors';
import { assertColumns, probeOf } from '../fixtures/capture/helpers';
import { skipWithout } from '../fixtures/optionalDeps';

const TESTDATA = '/usr/share/libonnx-testdata/data';

/** The documented reduction of a stored output (batch first) to S x F rows. */
function reduceExpected(dims: number[], values: Float32Array, convLike: boolean): Float64Array {
  const s = dims[0];
  const per = dims.slice(1).reduce((a, b) => a * b, 1);
  if (dims.length <= 2) return Float64Array.from(values);
  if (dims.length === 3 && !convLike) {
    const [, , f] = dims;
    const out = new Float64Array(s * f);
    for (let i = 0; i < s; i++) for (let j = 0; j < f; j++) out[i * f + j] = values[i * per + j];
    return out;
  }
  const c = dims[1];
  const spatial = per / c;
  const out = new Float64Array(s * c);
  for (let i = 0; i < s; i++)
    for (let j = 0; j < c; j++) {
      let sum = 0;
      for (let k = 0; k < spatial; k++) sum += values[i * per + j * spatial + k];
      out[i * c + j] = sum / spatial;
    }
  return out;
}

void describe(
  'ONNX capture reproduces the stored outputs of Debian libonnx-testdata',
  {
    skip: skipWithout('libonnx-testdata', existsSync(TESTDATA)),
  },
  () => {
    const families =
      /gemm|matmul|conv|relu|sigmoid|tanh|softmax|pool|batchnorm|flatten|elu|linear|addmm|mm$|basic|params/i;
    const cases: string[] = [];
    for (const group of ['node', 'pytorch-converted', 'pytorch-operator']) {
      const root = path.join(TESTDATA, group);
      if (!existsSync(root)) continue;
      for (const name of readdirSync(root).sort()) {
        if (
          families.test(name) &&
          existsSync(path.join(root, name, 'test_data_set_0', 'input_0.pb'))
        )
          cases.push(path.join(root, name));
      }
    }

    void it('runs every single-input float model the runtime supports and matches output_0.pb', async () => {
      const matched: string[] = [];
      const unsupported: string[] = [];
      for (const dir of cases) {
        const data = path.join(dir, 'test_data_set_0');
        if (existsSync(path.join(data, 'input_1.pb')) || existsSync(path.join(data, 'output_1.pb')))
          continue;
        const input = decodeOnnxFloatTensor(readFileSync(path.join(data, 'input_0.pb')));
        const output = decodeOnnxFloatTensor(readFileSync(path.join(data, 'output_0.pb')));
        if (input === undefined || output === undefined) continue;
        if (input.dims.length < 2 || output.dims.length < 1 || output.dims[0] !== input.dims[0])
          continue;
        let handle;
        try {
          handle = await openModel(path.join(dir, 'model.onnx'));
        } catch (err) {
          assert.ok(err instanceof UserError, `${dir}: ${String(err)}`);
          assert.match(err.message, /cannot load the model/);
          unsupported.push(path.basename(dir));
          continue;
        }
        try {
          const last = handle.layers[handle.layers.length - 1];
          const result = await handle.capture(probeOf(input.values, input.dims), {
            layers: [last.name],
            point: 'output',
          });
          const convLike = /Conv|Pool|BatchNorm/.test(last.type);
          const expected = reduceExpected(output.dims, output.values, convLike);
          const width = result.acts.neurons;
          assert.equal(width * input.dims[0], expected.length, `${dir}: width`);
          assertColumns(result.acts, 0, expected, width, 1e-4);
          matched.push(path.basename(dir));
        } finally {
          handle.dispose();
        }
      }
      console.log(
        `libonnx-testdata: ${matched.length} models matched, ${unsupported.length} refused by the runtime (${unsupported.join(', ')})`,
      );
      assert.ok(
        matched.length >= 30,
        `expected at least 30 matched models, found ${matched.length}: ${matched.join(', ')}`,
      );
    });
  },
);
