import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkInputValues,
  fillValue,
  otherInputsNotice,
  pickInput,
} from '../../src/core/capture/common/modelInputs';

void describe('the input a probe feeds, when none is named', () => {
  void it('is the only batch-first input: Silero VAD v5 and its legacy form', () => {
    // v5: input [?, ?], state [2, ?, 128], sr [] (scalar).
    assert.deepEqual(
      pickInput(
        'vad.onnx',
        [
          { name: 'input', dims: [null, null] },
          { name: 'state', dims: [2, null, 128] },
          { name: 'sr', dims: [] },
        ],
        undefined,
      ),
      { index: 0, reason: 'the only input with a batch dimension first that is not a mask' },
    );
    // legacy: input, sr, h [2, ?, 64], c [2, ?, 64]; TF.js writes an unknown size as -1.
    const legacy = [
      { name: 'sr', dims: [1] },
      { name: 'h', dims: [2, -1, 64] },
      { name: 'input', dims: [-1, -1] },
      { name: 'c', dims: [2, -1, 64] },
    ];
    assert.equal(pickInput('vad.json', legacy, undefined).index, 2);
  });

  void it('leaves out masks, and refuses to guess between two example inputs', () => {
    const ids = { name: 'input_ids', dims: [null, 16] };
    const mask = { name: 'attention_mask', dims: [null, 16] };
    const types = { name: 'token_type_ids', dims: [null, 16] };
    assert.equal(pickInput('bert.onnx', [mask, ids], undefined).index, 1);
    assert.throws(
      () => pickInput('bert.onnx', [ids, mask, types], undefined),
      /bert\.onnx: the model has 3 inputs \(input_ids, attention_mask, token_type_ids\): expected the name of the one the probe feeds \(CLI --input, setting memlens\.modelInput\)$/,
    );
    // A fixed batch (1) says nothing: both candidates are refused the same way.
    assert.throws(
      () =>
        pickInput(
          'rvm.json',
          [
            { name: 'src', dims: [1, null, null, 3] },
            { name: 'r1i', dims: [1, null, null, 16] },
          ],
          undefined,
        ),
      /the model has 2 inputs \(src, r1i\)/,
    );
  });

  void it('a named input wins, with no reason; an unknown name is refused', () => {
    const inputs = [
      { name: 'input', dims: [null, null] },
      { name: 'state', dims: [2, null, 128] },
    ];
    assert.deepEqual(pickInput('m.onnx', inputs, 'state'), { index: 1 });
    assert.throws(
      () => pickInput('m.onnx', inputs, 'x'),
      /m\.onnx: unknown input 'x': expected one of input, state/,
    );
    assert.deepEqual(pickInput('m.onnx', [inputs[1]], undefined), { index: 0 });
  });
});

void describe('what the other inputs get', () => {
  void it('ones for a mask, 16000 for a sample rate, 1 for a ratio, else zeros; a given value wins', () => {
    assert.equal(fillValue('attention_mask'), 1);
    assert.equal(fillValue('sr'), 16000);
    assert.equal(fillValue('Sample_Rate'), 16000);
    assert.equal(fillValue('sampling_rate'), 16000);
    assert.equal(fillValue('src'), 0);
    // Multipliers get their neutral 1 (RVM's downsample_ratio: 0 breaks the run).
    assert.equal(fillValue('downsample_ratio'), 1);
    assert.equal(fillValue('scale'), 1);
    assert.equal(fillValue('scale_factor'), 1);
    assert.equal(fillValue('upscale'), 0);
    assert.equal(
      otherInputsNotice('rvm.json', 'src', ['r1i', 'downsample_ratio'], undefined, {}),
      "rvm.json: the probe feeds input 'src'; 'r1i' gets zeros, 'downsample_ratio' gets 1 (a ratio or scale; --input-value downsample_ratio=N sets another)",
    );
    assert.equal(fillValue('state'), 0);
    assert.equal(
      otherInputsNotice('vad.onnx', 'input', ['state', 'sr'], 'why', {}),
      "vad.onnx: the probe feeds input 'input' (why; --input chooses another); 'state' gets zeros, 'sr' gets 16000 (a sample rate; --input-value sr=N sets another)",
    );
    assert.equal(
      otherInputsNotice('vad.onnx', 'input', ['state', 'sr'], undefined, { sr: 8000 }),
      "vad.onnx: the probe feeds input 'input'; 'state' gets zeros, 'sr' gets 8000",
    );
  });

  void it('a value for the fed input, an unknown one, or a non-finite one is refused', () => {
    assert.throws(
      () => checkInputValues('m.json', 'x', ['sr'], { x: 1 }),
      /m\.json: input 'x' is the one the probe feeds: expected a value for another input \(sr\)/,
    );
    assert.throws(
      () => checkInputValues('m.json', 'x', ['sr'], { rate: 1 }),
      /m\.json: a value is given for input 'rate': expected one of the inputs the probe does not feed \(sr\)/,
    );
    assert.throws(
      () => checkInputValues('m.json', 'x', ['sr'], { sr: Infinity }),
      /m\.json: input 'sr' is given Infinity: expected a finite number/,
    );
    checkInputValues('m.json', 'x', ['sr'], { sr: 8000 });
  });
});
