// `memlens capture` over its --memory-budget streams the rows into the .npy as they are
// captured: the file is the in-memory capture's byte for byte, a failure half way leaves no
// output (an existing one untouched) and no temporary file, and the writer refuses rows out
// of order or a commit before the last row.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { runCapture } from '../../src/cli/commands/capture';
import { fromRowMajor, toRowMajorFloat32 } from '../../src/core/activations';
import { fileSystemHandler } from '../../src/core/capture/tfjs/fsHandler';
import { UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { NpyRowWriter } from '../../src/core/io/npyStream';
import { randn, tempDir } from '../fixtures/capture/helpers';

const tmp = tempDir('memlens-stream-');
after(tmp.cleanup);
const signal = new AbortController().signal;
const modelFile = path.join(tmp.dir, 'model', 'model.json');
const probeFile = path.join(tmp.dir, 'probe.npy');
const S = 53;

async function capture(args: string[]): Promise<string> {
  let out = '';
  const code = await runCapture(args, signal, (text) => (out += text));
  assert.equal(code, 0);
  return out;
}

const common = (out: string, probe = probeFile): string[] => [
  modelFile,
  '--probe',
  probe,
  '--out',
  out,
  '--backend',
  'cpu',
  '--batch',
  '8',
  '--quiet',
];

/** The files of the temp folder that are not the fixtures: outputs and any leftovers. */
function leftovers(): string[] {
  return readdirSync(tmp.dir).filter((f) => f.startsWith('.'));
}

before(async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [5], units: 7, activation: 'tanh', name: 'h1' }),
      tf.layers.dense({ units: 3, name: 'h2' }),
      tf.layers.dense({ units: 2, name: 'logits' }),
    ],
  });
  // h1's weights all 1: five inputs of 3e38 sum past float32's largest value.
  const h1 = model.getLayer('h1');
  h1.setWeights([tf.ones([5, 7]), tf.zeros([7])]);
  await model.save(fileSystemHandler(modelFile));
  model.dispose();
  writeFileSync(probeFile, encodeNpy(randn(5, S, 5), [S, 5]));
});

void describe('memlens capture --memory-budget', () => {
  void it('streams a matrix over the budget into the same bytes as the in-memory capture', async () => {
    const whole = path.join(tmp.dir, 'whole.npy');
    const streamed = path.join(tmp.dir, 'streamed.npy');
    const said = await capture(common(whole));
    assert.doesNotMatch(said, /streamed/);
    // 53 x 10 values at 16 bytes each are over 0.001 MiB (1,048 bytes).
    assert.match(await capture([...common(streamed), '--memory-budget', '0.001']), /streamed/);
    assert.ok(readFileSync(streamed).equals(readFileSync(whole)), 'byte for byte');
    assert.equal(
      readFileSync(path.join(tmp.dir, 'streamed.layers.json'), 'utf8'),
      readFileSync(path.join(tmp.dir, 'whole.layers.json'), 'utf8').replace('whole', 'streamed'),
    );
    assert.deepEqual(leftovers(), []);
  });

  void it('a capture failing half way leaves the old output and no temporary file', async () => {
    // Example 40 (the sixth batch of 8) overflows h1 to Infinity: a finite probe, so the
    // capture starts, and the first five batches are on disk when it fails.
    const x = randn(5, S, 5);
    x.fill(3e38, 40 * 5, 41 * 5);
    const badProbe = path.join(tmp.dir, 'bad.npy');
    writeFileSync(badProbe, encodeNpy(x, [S, 5]));
    const out = path.join(tmp.dir, 'kept.npy');
    writeFileSync(out, 'the old output');
    await assert.rejects(
      runCapture([...common(out, badProbe), '--memory-budget', '0'], signal, () => undefined),
      (err: unknown) =>
        err instanceof UserError && /example 40/.test(err.message) && !err.message.includes('\n'),
    );
    assert.equal(readFileSync(out, 'utf8'), 'the old output');
    assert.equal(existsSync(path.join(tmp.dir, 'kept.layers.json')), false);
    assert.deepEqual(leftovers(), []);
  });

  void it('refuses a budget that is not a number, in one line', async () => {
    await assert.rejects(
      runCapture(
        [...common(path.join(tmp.dir, 'x.npy')), '--memory-budget', 'lots'],
        signal,
        () => undefined,
      ),
      /^UserError: --memory-budget: expected a number >= 0, found 'lots'$/,
    );
  });
});

void describe('NpyRowWriter', () => {
  void it('writes encodeNpy bytes batch by batch, and refuses rows out of order or too few', async () => {
    const rows = 9;
    const cols = 4;
    const values = Float64Array.from({ length: rows * cols }, (_, i) => Math.sin(i) * 1e3);
    const file = path.join(tmp.dir, 'rows.npy');
    const w = await NpyRowWriter.open(file, rows, cols);
    await w.rows(0, 4, values.subarray(0, 16));
    await assert.rejects(w.rows(5, 1, values.subarray(20, 24)), RangeError);
    await w.rows(4, 5, values.subarray(16));
    await w.commit();
    const expected = encodeNpy(toRowMajorFloat32(fromRowMajor(values, rows, cols)), [rows, cols]);
    assert.ok(readFileSync(file).equals(expected));

    const short = path.join(tmp.dir, 'short.npy');
    const partial = await NpyRowWriter.open(short, rows, cols);
    await partial.rows(0, 2, values.subarray(0, 8));
    await assert.rejects(partial.commit(), RangeError);
    assert.equal(existsSync(short), false);
    assert.deepEqual(leftovers(), []);
  });
});
