import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { OnnxModelProto } from '../../src/core/capture/onnx/onnxProto';
import { encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import { exposeTensors } from '../../src/core/capture/onnx/onnxExpose';
import { onnxLayers } from '../../src/core/capture/onnx/onnxGraph';
import { selectLayers } from '../../src/core/capture/common/layerSelection';
import { openModel } from '../../src/core/capture/registry';
import { assertColumns, probeOf, randn, tempDir } from '../fixtures/capture/helpers';
import { floatTensor } from '../fixtures/capture/onnxModels';
import type { QuantParams } from '../fixtures/capture/onnxQuantModels';
import {
  channelMeans,
  dynamicBlock,
  dynamicBlockRef,
  node,
  qlinearConv,
  qlinearConvRef,
  quantModel,
  quantWeight,
  quantize,
  scalar,
  uint8Tensor,
} from '../fixtures/capture/onnxQuantModels';

/** Quantized ONNX models as onnxruntime's quantizer writes them (ISNet small, docs/real-models.md). */

const tmp = tempDir('memlens-onnx-quant-');
after(tmp.cleanup);

function save(name: string, model: OnnxModelProto): string {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, encodeOnnxModel(model));
  return file;
}

const C = 2;
const H = 5;
const SAMPLES = 5;
const x = randn(61, SAMPLES, C * H * H);
const example = (s: number): Float32Array => x.subarray(s * C * H * H, (s + 1) * C * H * H);
const relu = (v: Float32Array): Float32Array => v.map((a) => Math.max(0, a));

/** Example-major rows of `f` channel means of `map(example)`. */
function rows(f: number, map: (s: number) => ArrayLike<number>): Float64Array {
  return Float64Array.from(
    Array.from({ length: SAMPLES }, (_, s) => channelMeans(map(s), f)).flat(),
  );
}

void describe('ONNX dynamically quantized models (ConvInteger, MatMulInteger)', () => {
  const w1 = quantWeight(71, 3, C, 3, 0.004);
  const b1 = randn(72, 1, 3);
  const w2 = quantWeight(73, 2, 3, 1, 0.01);
  const b2 = randn(74, 1, 2);

  /** x -> /conv1/Conv (3x3, 3 maps) -> Relu -> /conv2/Conv (1x1, 2 maps) = y, as ISNet small. */
  function convModel(intBias: boolean): OnnxModelProto {
    const one = dynamicBlock('/conv1/Conv', 'x', '/conv1/Conv_output_0', w1, b1, { intBias });
    const two = dynamicBlock('/conv2/Conv', '/relu/Relu_output_0', 'y', w2, b2, { intBias });
    return quantModel(
      'dynamic-conv',
      [C, H, H],
      [
        ...one.nodes,
        node('Relu', '/relu/Relu', ['/conv1/Conv_output_0'], ['/relu/Relu_output_0']),
        ...two.nodes,
      ],
      [...one.inits, ...two.inits],
    );
  }

  for (const intBias of [false, true]) {
    void it(`measures the dequantized Conv output under the Conv's name (${intBias ? 'integer bias before the Cast' : 'float bias after the Mul'})`, async () => {
      const file = save(`dynamic-conv-${intBias}.onnx`, convModel(intBias));
      const handle = await openModel(file, {});
      try {
        // One layer per float node; the bias Reshape and the scale Muls are not layers.
        assert.deepEqual(
          handle.layers.map((l) => [l.name, l.type, l.activation, l.measuredByDefault]),
          [
            ['x_QuantizeLinear', 'DynamicQuantizeLinear', null, false],
            ['/conv1/Conv', 'ConvInteger', 'relu', true],
            ['/relu/Relu', 'Relu', 'relu', false],
            ['/relu/Relu_output_0_QuantizeLinear', 'DynamicQuantizeLinear', null, false],
            ['/conv2/Conv', 'ConvInteger', null, false],
          ],
        );
        // The graph declares no shapes: the shape pass found them.
        assert.deepEqual(handle.layers[1].outputShape, [null, 3, H, H]);
        // Batches of one: DynamicQuantizeLinear scales each run as a whole.
        const probe = probeOf(x, [SAMPLES, C, H, H]);
        const pre = await handle.capture(probe, { batchSize: 1 });
        assert.deepEqual(
          pre.layers.map((l) => [l.name, l.point, l.reduction]),
          [['/conv1/Conv', 'preactivation', 'global-average-pool']],
        );
        const conv1 = (s: number) => dynamicBlockRef(example(s), H, w1, b1, intBias);
        assertColumns(pre.acts, 0, rows(3, conv1), 3);
        // The float model's output tensor names the layer too; its Relu output is 'output'.
        const out = await handle.capture(probe, {
          batchSize: 1,
          layers: ['/conv1/Conv_output_0'],
          point: 'output',
        });
        assertColumns(
          out.acts,
          0,
          rows(3, (s) => relu(conv1(s))),
          3,
        );
      } finally {
        handle.dispose();
      }
    });
  }

  void it('measures a MatMulInteger through its Mul to the bias Add of the float model', async () => {
    const w = quantWeight(81, 4, 3, 1, 0.005);
    const b = randn(82, 1, 4);
    const wOut = quantWeight(83, 1, 4, 1, 0.01);
    const one = dynamicBlock('/fc1/MatMul', 'x', '/fc1/Add_output_0', w, b, { matmul: true });
    const two = dynamicBlock('/fc2/MatMul', '/relu/Relu_output_0', 'y', wOut, randn(84, 1, 1), {
      matmul: true,
    });
    const model = quantModel(
      'dynamic-mlp',
      [3],
      [
        ...one.nodes,
        node('Relu', '/relu/Relu', ['/fc1/Add_output_0'], ['/relu/Relu_output_0']),
        ...two.nodes,
      ],
      [...one.inits, ...two.inits],
    );
    const file = save('dynamic-mlp.onnx', model);
    const handle = await openModel(file, {});
    try {
      assert.deepEqual(
        handle.layers
          .filter((l) => l.measuredByDefault)
          .map((l) => [l.name, l.type, l.outputShape]),
        [['/fc1/MatMul', 'MatMulInteger', [null, 4]]],
      );
      const xs = randn(85, SAMPLES, 3);
      // No batch size given: one example a run (DynamicQuantizeLinear scales per run), so
      // each example's values are those of the example quantized alone.
      const warnings: string[] = [];
      const result = await handle.capture(probeOf(xs, [SAMPLES, 3]), {
        onWarning: (m) => warnings.push(m),
      });
      const want = Float64Array.from(
        Array.from({ length: SAMPLES }, (_, s) => [
          ...dynamicBlockRef(xs.subarray(s * 3, s * 3 + 3), 1, w, b),
        ]).flat(),
      );
      assertColumns(result.acts, 0, want, 4);
      assert.ok(
        warnings.some((m) =>
          /quantizes its activations per run \(DynamicQuantizeLinear\): one example a run/.test(m),
        ),
        warnings.join('\n'),
      );
      // A batch given: the values move with the batch-mates, and a notice says so.
      const batched: string[] = [];
      await handle.capture(probeOf(xs, [SAMPLES, 3]), {
        batchSize: 4,
        onWarning: (m) => batched.push(m),
      });
      assert.ok(batched.some((m) => /with --batch-size 4, an example's values move/.test(m)));
    } finally {
      handle.dispose();
    }
  });

  void it('does not measure an integer op whose output is never dequantized', () => {
    const model = convModel(false);
    const graph = model.graph!;
    // Drop the scale Mul and the bias Add after conv1's Cast: its output is raw int32 sums.
    const cast = graph.node.find((n) => n.name === '/conv1/Conv_output_0_output_quantized_cast')!;
    graph.node = graph.node.filter(
      (n) =>
        n.name !== '/conv1/Conv_quant_output_scale_mul' &&
        n.name !== '/conv1/Conv_output_0_bias_add',
    );
    graph.node.find((n) => n.opType === 'Relu')!.input = [cast.output[0]];
    const conv1 = onnxLayers(graph).find((l) => l.name === '/conv1/Conv')!;
    assert.equal(conv1.measuredByDefault, false);
  });
});

void describe('ONNX statically quantized models (QLinearConv, QDQ)', () => {
  // Scales whose requantizing multipliers (x scale * w scale / y scale) are not round
  // numbers: a value halfway between two steps would round by the runtime's float order.
  const xq: QuantParams = { scale: 0.0311, zeroPoint: 128 };
  const y1: QuantParams = { scale: 0.0517, zeroPoint: 128 };
  const y2: QuantParams = { scale: 0.0213, zeroPoint: 120 };
  const w1 = quantWeight(91, 3, C, 3, 0.00413);
  const w2 = quantWeight(92, 2, 3, 1, 0.0103);
  const w3 = quantWeight(93, 1, 2, 1, 0.01);
  const biasQ = (seed: number, n: number) =>
    Int32Array.from(randn(seed, 1, n), (v) => Math.round(v * 300));
  const b1 = biasQ(94, 3);
  const b2 = biasQ(95, 2);

  /**
   * x -> QuantizeLinear -> QLinearConv /conv1 -> QLinearConv /conv2 -> DequantizeLinear ->
   * Relu -> QuantizeLinear -> QLinearConv /conv3 -> DequantizeLinear = y (QOperator format).
   */
  function qlinearModel(): OnnxModelProto {
    const c1 = '/conv1/Conv_output_0_quantized';
    const c2 = '/conv2/Conv_output_0_quantized';
    const one = qlinearConv('/conv1/Conv', 'x_quantized', c1, w1, b1, y1);
    const two = qlinearConv('/conv2/Conv', c1, c2, w2, b2, y2);
    const three = qlinearConv('/conv3/Conv', 'r_quantized', 'y_quantized', w3, biasQ(96, 1), {
      scale: 0.02,
      zeroPoint: 128,
    });
    const q = (input: string, params: string) => [input, `${params}_scale`, `${params}_zero_point`];
    return quantModel(
      'qlinear-conv',
      [C, H, H],
      [
        node('QuantizeLinear', 'x_QuantizeLinear', q('x', 'x_quantized'), ['x_quantized']),
        ...one.nodes,
        ...two.nodes,
        node('DequantizeLinear', `${c2}_DequantizeLinear`, q(c2, c2), ['/conv2/Conv_output_0']),
        node('Relu', '/relu/Relu', ['/conv2/Conv_output_0'], ['r']),
        node('QuantizeLinear', 'r_QuantizeLinear', q('r', 'r_quantized'), ['r_quantized']),
        ...three.nodes,
        node('DequantizeLinear', 'y_DequantizeLinear', q('y_quantized', 'y_quantized'), ['y']),
      ],
      [
        scalar('x_quantized_scale', xq.scale),
        uint8Tensor('x_quantized_zero_point', [], Uint8Array.of(xq.zeroPoint)),
        scalar('r_quantized_scale', 0.02),
        uint8Tensor('r_quantized_zero_point', [], Uint8Array.of(128)),
        ...one.inits,
        ...two.inits,
        ...three.inits,
      ],
    );
  }

  void it('dequantizes a QLinearConv output, and reads the DequantizeLinear after one', async () => {
    const file = save('qlinear-conv.onnx', qlinearModel());
    const handle = await openModel(file, {});
    try {
      assert.deepEqual(
        handle.layers
          .filter((l) => l.type === 'QLinearConv')
          .map((l) => [l.name, l.activation, l.measuredByDefault, l.outputShape]),
        [
          ['/conv1/Conv', null, true, [null, 3, H, H]],
          ['/conv2/Conv', 'relu', true, [null, 2, H, H]],
          ['/conv3/Conv', null, false, [null, 1, H, H]],
        ],
      );
      const result = await handle.capture(probeOf(x, [SAMPLES, C, H, H]), { batchSize: 2 });
      const q1 = (s: number) =>
        qlinearConvRef(quantize(example(s), xq.scale, xq.zeroPoint), xq, H, w1, b1, y1);
      const q2 = (s: number) => qlinearConvRef(q1(s), y1, H, w2, b2, y2);
      const dequantized = (q: Uint8Array, p: QuantParams) =>
        Float32Array.from(q, (v) => Math.fround((v - p.zeroPoint) * p.scale));
      assertColumns(
        result.acts,
        0,
        rows(3, (s) => dequantized(q1(s), y1)),
        3,
      );
      assertColumns(
        result.acts,
        3,
        rows(2, (s) => dequantized(q2(s), y2)),
        2,
      );
    } finally {
      handle.dispose();
    }
  });

  void it('measures a float MatMul whose weights are a DequantizeLinear of int8 (QDQ)', async () => {
    const w = quantWeight(101, 4, 3, 1, 0.005);
    const b = randn(102, 1, 4);
    const xp: QuantParams = { scale: 0.02, zeroPoint: 128 };
    const dq = (name: string, input: string, params: string) =>
      node(
        'DequantizeLinear',
        name,
        [input, `${params}_scale`, `${params}_zero_point`],
        [`${input}_dq`],
      );
    // w.q is F x C; the MatMul takes C x F.
    const wT = Uint8Array.from(w.q, (_, i) => w.q[(i % 4) * 3 + Math.floor(i / 4)]);
    const model = quantModel(
      'qdq-mlp',
      [3],
      [
        node('QuantizeLinear', 'x_q', ['x', 'x_scale', 'x_zero_point'], ['xq']),
        dq('xq_dq', 'xq', 'x'),
        dq('w_dq', 'w', 'w'),
        node('MatMul', '/fc1/MatMul', ['xq_dq', 'w_dq'], ['/fc1/MatMul_output_0']),
        node('Add', '/fc1/Add', ['/fc1/MatMul_output_0', 'b'], ['/fc1/Add_output_0']),
        node('Relu', '/relu/Relu', ['/fc1/Add_output_0'], ['r']),
        node('MatMul', '/fc2/MatMul', ['r', 'w2'], ['y']),
      ],
      [
        scalar('x_scale', xp.scale),
        uint8Tensor('x_zero_point', [], Uint8Array.of(xp.zeroPoint)),
        uint8Tensor('w', [3, 4], wT),
        scalar('w_scale', w.scale),
        uint8Tensor('w_zero_point', [], Uint8Array.of(w.zeroPoint)),
        floatTensor('b', [4], b),
        floatTensor('w2', [4, 1], randn(103, 4, 1)),
      ],
    );
    const handle = await openModel(save('qdq-mlp.onnx', model), {});
    try {
      // The weights' DequantizeLinear is not a layer: the input does not reach it.
      assert.deepEqual(
        handle.layers.map((l) => [l.name, l.measuredByDefault]),
        [
          ['x_q', false],
          ['xq_dq', false],
          ['/fc1/MatMul', true],
          ['/relu/Relu', false],
          ['/fc2/MatMul', false],
        ],
      );
      const xs = randn(104, SAMPLES, 3);
      const result = await handle.capture(probeOf(xs, [SAMPLES, 3]));
      const xd = Array.from(
        quantize(xs, xp.scale, xp.zeroPoint),
        (v) => (v - xp.zeroPoint) * xp.scale,
      );
      const want = new Float64Array(SAMPLES * 4);
      for (let s = 0; s < SAMPLES; s++)
        for (let f = 0; f < 4; f++) {
          let acc = b[f];
          for (let c = 0; c < 3; c++)
            acc += xd[s * 3 + c] * (w.q[f * 3 + c] - w.zeroPoint) * w.scale;
          want[s * 4 + f] = acc;
        }
      assertColumns(result.acts, 0, want, 4, 1e-5);
    } finally {
      handle.dispose();
    }
  });
});

void describe('ONNX shape pass and layer lists of large graphs', () => {
  void it('exposes the Shape of each tensor, not the tensor, in the shape pass', () => {
    const model = quantModel(
      'relus',
      [3],
      [
        node('Relu', 'a', ['x'], ['ra']),
        node('Relu', 'b', ['ra'], ['rb']),
        node('Identity', 'c', ['rb'], ['y']),
      ],
      [],
    );
    const exposed = exposeTensors(
      model,
      ['ra', 'rb'].map((tensor) => ({ tensor, scope: [] })),
      'm.onnx',
      'shapes',
    );
    const graph = model.graph!;
    for (const { output } of exposed.values()) {
      assert.ok(graph.output.some((o) => o.name === output));
      assert.equal(graph.node.find((n) => n.output[0] === output)?.opType, 'Shape');
    }
    assert.deepEqual(
      graph.output.map((o) => o.name),
      ['y', 'ra_shape__memlens', 'rb_shape__memlens'],
    );
  });

  void it('names the first few layers and counts the rest when none is measured', () => {
    const layers = Array.from({ length: 1087 }, (_, i) => ({
      name: `/stage${i}/rebnconv/conv_s1/Conv_output_0_bias_reshape_output`,
      type: 'Reshape',
      outputShape: [],
      activation: null,
      measuredByDefault: false,
    }));
    assert.throws(
      () => selectLayers('isnet_small.onnx', layers),
      (err: Error) => {
        assert.match(
          err.message,
          /^isnet_small\.onnx: no layer is measured by default: expected --layers naming some of \/stage0\/\S+, \/stage1\/\S+ \.\.\. and 1085 more; run `memlens layers isnet_small\.onnx`$/,
        );
        return true;
      },
    );
  });
});
