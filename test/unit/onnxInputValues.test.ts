import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inputValuesFlag } from '../../src/cli/commands/measureFlags';
import { otherDims } from '../../src/core/capture/onnx/onnxFeeds';
import { coerceSetting, isValidSetting } from '../../src/extension/logic/settingValues';

void describe('ONNX input values (--input-value, memlens.inputValues)', () => {
  void it('parses repeated NAME=VALUE flags and refuses malformed ones in one line', () => {
    assert.equal(inputValuesFlag(undefined), undefined);
    assert.deepEqual(inputValuesFlag(['sr=16000', 'state=-0.5']), { sr: 16000, state: -0.5 });
    assert.throws(() => inputValuesFlag(['sr']), /--input-value: expected NAME=NUMBER.*'sr'/);
    assert.throws(() => inputValuesFlag(['sr=fast']), /expected NAME=NUMBER/);
    assert.throws(() => inputValuesFlag(['sr=1', 'sr=2']), /'sr' is given twice/);
  });

  void it('the setting keeps finite numbers only', () => {
    assert.ok(isValidSetting('inputValues', { sr: 16000 }));
    assert.ok(!isValidSetting('inputValues', { sr: '16000' }));
    assert.deepEqual(coerceSetting('inputValues', { sr: 16000, bad: 'x' }), { sr: 16000 });
    assert.deepEqual(coerceSetting('inputValues', [1]), {});
  });

  void it('puts the batch on the axis named like the fed input batch dimension', () => {
    const fed = [{ dimParam: 'batch_size' }, { dimValue: 512 }];
    // Silero VAD's state [2, batch_size, 128] and scalar sr.
    assert.deepEqual(
      otherDims([{ dimValue: 2 }, { dimParam: 'batch_size' }, { dimValue: 128 }], fed, 7, [512]),
      [2, 7, 128],
    );
    assert.deepEqual(otherDims([], fed, 7, [512]), []);
    // No dimension carries the batch name: a symbolic axis 0 is the batch, as before.
    assert.deepEqual(otherDims([{ dimParam: 'n' }, { dimValue: 3 }], fed, 7, [512]), [7, 3]);
    // Another dimension named like a fed one takes its size.
    assert.deepEqual(
      otherDims(
        [{ dimParam: 'batch_size' }, { dimParam: 'len' }],
        [{ dimParam: 'batch_size' }, { dimParam: 'len' }],
        4,
        [9],
      ),
      [4, 9],
    );
  });
});
