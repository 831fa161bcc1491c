// An ONNX model whose image input is uint8 (as MoveNet- and BlazeFace-style exports are) takes
// pixels as 0-255: a probe of 0-1 floats is scaled, with a notice, before ONNX Runtime rounds
// it, as the TF.js reader does; otherwise every pixel would round to 0 or 1.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import { openModel } from '../../src/core/capture/registry';
import { affine, probeOf, randn, tempDir } from '../fixtures/capture/helpers';
import { floatTensor, valueInfo } from '../fixtures/capture/onnxModels';

const tmp = tempDir('memlens-onnx-u8-');
after(tmp.cleanup);

const W = randn(31, 12, 2);
const B = randn(32, 1, 2);

/** x uint8 [batch, 2, 2, 3] -> Cast(float) -> Flatten -> Gemm(2) = y. */
function uint8ImageModel(): string {
  const input = valueInfo('x', ['batch', 2, 2, 3]);
  input.type.tensorType.elemType = 2; // uint8
  const file = path.join(tmp.dir, 'u8.onnx');
  writeFileSync(
    file,
    encodeOnnxModel({
      irVersion: 8,
      producerName: 'memlens-test',
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'u8',
        node: [
          {
            name: 'cast',
            opType: 'Cast',
            input: ['x'],
            output: ['xf'],
            attribute: [{ name: 'to', type: 2, i: 1 }],
          },
          { name: 'flat', opType: 'Flatten', input: ['xf'], output: ['f'], attribute: [] },
          { name: 'fc', opType: 'Gemm', input: ['f', 'w', 'b'], output: ['y'], attribute: [] },
        ],
        initializer: [floatTensor('w', [12, 2], W), floatTensor('b', [2], B)],
        input: [input],
        output: [valueInfo('y', ['batch', 2])],
        valueInfo: [],
      },
    } as never),
  );
  return file;
}

void test('a uint8 image input: 0-1 probe values scaled to 0-255 and rounded, with a notice', async () => {
  const file = uint8ImageModel();
  const handle = await openModel(file);
  try {
    assert.equal(handle.imageScale, '0-255');
    const s = 9;
    const pixels = Float32Array.from({ length: s * 12 }, (_, i) => ((i * 37) % 101) / 100);
    const notices: string[] = [];
    const result = await handle.capture(probeOf(pixels, [s, 2, 2, 3]), {
      layers: ['fc'],
      onWarning: (m) => notices.push(m),
    });
    assert.ok(
      notices.some((n) => /input is uint8: probe values in \[0, 1\] were scaled to 0-255/.test(n)),
      notices.join(' | '),
    );
    // What the model computes on the pixels as bytes: 255 x in float32 (the probe's type),
    // rounded as the ONNX reader rounds every integer input, through the Gemm.
    const bytes = Float64Array.from(pixels, (v) => Math.round(Math.fround(v * 255)));
    const want = affine(bytes, W, B, s, 12, 2);
    for (let i = 0; i < s; i++)
      for (let o = 0; o < 2; o++) {
        const got = result.acts.data[o * s + i];
        assert.ok(
          Math.abs(got - want[i * 2 + o]) < 1e-3 * Math.max(1, Math.abs(want[i * 2 + o])),
          `${i},${o}: ${got} vs ${want[i * 2 + o]}`,
        );
      }
  } finally {
    handle.dispose();
  }
});
