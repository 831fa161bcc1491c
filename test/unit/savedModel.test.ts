import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { openModel } from '../../src/core/capture/registry';
import { UserError } from '../../src/core/errors';
import { tempDir } from '../fixtures/capture/helpers';

const tmp = tempDir('memlens-savedmodel-');
after(tmp.cleanup);

function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

void describe('TF SavedModel folders', () => {
  void it(
    'without tfjs-node: says how to enable SavedModel support, naming the folder',
    { skip: tfjsNodeInstalled() ? 'tfjs-node is installed here' : false },
    async () => {
      const dir = path.join(tmp.dir, 'exported');
      mkdirSync(path.join(dir, 'variables'), { recursive: true });
      // saved_model_schema_version = 1: the first field of a SavedModel protobuf.
      writeFileSync(path.join(dir, 'saved_model.pb'), Buffer.from([0x08, 0x01]));
      await assert.rejects(openModel(dir), (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.ok(!err.message.includes('\n'));
        assert.match(err.message, /^.*exported: a TF SavedModel needs @tensorflow\/tfjs-node/);
        assert.match(err.message, /npm install @tensorflow\/tfjs-node/);
        assert.match(err.message, /tensorflowjs_converter --input_format=tf_saved_model/);
        return true;
      });
    },
  );

  void it('a folder with neither saved_model.pb nor model.json is named as such', async () => {
    const dir = path.join(tmp.dir, 'empty');
    mkdirSync(dir);
    await assert.rejects(
      openModel(dir),
      /empty: expected a model file or a folder holding model.json or saved_model.pb, found a folder with neither/,
    );
  });
});
