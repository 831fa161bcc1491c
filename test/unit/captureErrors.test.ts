import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fileSystemHandler } from '../../src/core/capture/tfjs/fsHandler';
import { openModel } from '../../src/core/capture/registry';
import { CancelledError, UserError } from '../../src/core/errors';
import type { ProbeSet } from '../../src/core/probe/types';
import { randn, tempDir } from '../fixtures/capture/helpers';

const tmp = tempDir();
after(tmp.cleanup);

/** Saves a 4 -> 3 -> 2 model into its own folder and returns the model.json path. */
async function saveModel(name: string): Promise<string> {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu', name: 'hidden' }),
      tf.layers.dense({ units: 2, name: 'out' }),
    ],
  });
  const file = path.join(tmp.dir, name, 'model.json');
  await model.save(fileSystemHandler(file));
  model.dispose();
  return file;
}

function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

const probe = (rows: number, cols: number): ProbeSet => ({
  source: 'probe.npy',
  shape: [rows, cols],
  data: randn(3, rows, cols),
  sampleIndices: Array.from({ length: rows }, (_, i) => i),
});

void describe('capture: bad input gives one-line UserErrors', () => {
  void it('a missing weight shard', async () => {
    const file = await saveModel('missing');
    rmSync(path.join(path.dirname(file), 'weights.bin'));
    await rejectsWith(
      openModel(file),
      /model\.json: weight shard 'weights\.bin': expected a file inside the model's folder, found nothing there \(ENOENT\)/,
    );
  });

  void it('a short weight shard', async () => {
    const file = await saveModel('short');
    truncateSync(path.join(path.dirname(file), 'weights.bin'), 20);
    // 4x3 + 3 + 3x2 + 2 = 23 float32 values = 92 bytes.
    await rejectsWith(
      openModel(file),
      /weight shards weights\.bin are short: expected 92 bytes for 4 weights, found 20/,
    );
  });

  void it('a model.json that is not JSON, or not a TF.js model', async () => {
    const dir = path.join(tmp.dir, 'json');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.json'), '{ "modelTopology": ');
    await rejectsWith(
      openModel(path.join(dir, 'a.json')),
      /a\.json: expected a TF\.js model\.json, found invalid JSON/,
    );
    writeFileSync(path.join(dir, 'b.json'), '{"name": "my config", "epochs": 3}');
    await rejectsWith(
      openModel(path.join(dir, 'b.json')),
      /expected a TF\.js model\.json with "modelTopology" and "weightsManifest", found keys name, epochs/,
    );
    writeFileSync(path.join(dir, 'c.json'), '{"modelTopology": {"foo": 1}, "weightsManifest": []}');
    await rejectsWith(
      openModel(path.join(dir, 'c.json')),
      /expected a TF\.js layers-model or graph-model, found format 'none'/,
    );
    writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array([1, 2, 3]));
    await rejectsWith(
      openModel(path.join(dir, 'weights.bin')),
      /expected a model \(TF\.js model\.json, [^)]*\), found a '\.bin' file starting with bytes 01 02 03/,
    );
    await rejectsWith(
      openModel(tmp.dir),
      /expected a model file or a model folder \(holding model\.json, saved_model\.pb or config\.json\), found a folder with none of them/,
    );
  });

  void it('an unsupported layer class', async () => {
    const file = await saveModel('unsupported');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        '"class_name":"Dense","config":{"units":3',
        '"class_name":"FancyDense","config":{"units":3',
      ),
    );
    await rejectsWith(openModel(file, { backend: 'cpu' }), /unsupported layer 'FancyDense'/);
  });

  void it('an unknown layer name lists the available ones; a probe that does not fit gives both shapes', async () => {
    const handle = await openModel(await saveModel('names'), { backend: 'cpu' });
    await rejectsWith(
      handle.capture(probe(5, 4), { layers: ['hidden', 'dense_9'] }),
      /unknown layer 'dense_9': expected one of hidden, out/,
    );
    await rejectsWith(
      handle.capture(probe(5, 7)),
      /probe\.npy: probe does not fit the model: expected examples of shape \[4\], found \[7\] \(probe shape \[5, 7\]\)/,
    );
    await rejectsWith(
      handle.capture(probe(0, 4)),
      /expected at least one probe example, found an empty probe set/,
    );
    handle.dispose();
  });

  void it('stops on an aborted signal', async () => {
    const handle = await openModel(await saveModel('abort'), { backend: 'cpu' });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(handle.capture(probe(5, 4), { signal: ac.signal }), CancelledError);
    handle.dispose();
  });
});
