import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { openModel } from '../../src/core/capture/registry';
import { UserError } from '../../src/core/errors';
import { parseNpy, toFloat64 } from '../../src/core/io/npy';
import { parseNpz } from '../../src/core/io/npz';
import { assertColumns, probeOf, tempDir } from '../fixtures/capture/helpers';
import { hasTfjsNode, skipWithout } from '../fixtures/optionalDeps';

const tmp = tempDir('memlens-savedmodel-');
after(tmp.cleanup);

void describe('TF SavedModel folders', () => {
  void it('without tfjs-node: says how to enable SavedModel support, naming the folder', async () => {
    const dir = path.join(tmp.dir, 'exported');
    mkdirSync(path.join(dir, 'variables'), { recursive: true });
    // saved_model_schema_version = 1: the first field of a SavedModel protobuf.
    writeFileSync(path.join(dir, 'saved_model.pb'), Buffer.from([0x08, 0x01]));
    // Where tfjs-node is installed, the loader is told to act as if it were not.
    const saved = process.env.MEMLENS_NO_TFJS_NODE;
    process.env.MEMLENS_NO_TFJS_NODE = '1';
    try {
      await assert.rejects(openModel(dir), (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.ok(!err.message.includes('\n'));
        assert.ok(!err.message.endsWith('...'), 'the whole message fits');
        assert.match(err.message, /^.*exported: a TF SavedModel needs @tensorflow\/tfjs-node/);
        assert.match(err.message, /npm install @tensorflow\/tfjs-node/);
        assert.match(err.message, /tensorflowjs_converter --input_format=tf_saved_model/);
        return true;
      });
    } finally {
      if (saved === undefined) delete process.env.MEMLENS_NO_TFJS_NODE;
      else process.env.MEMLENS_NO_TFJS_NODE = saved;
    }
  });

  void it('a folder with neither saved_model.pb nor model.json is named as such', async () => {
    const dir = path.join(tmp.dir, 'empty');
    mkdirSync(dir);
    await assert.rejects(
      openModel(dir),
      /empty: expected a model file or a model folder \(holding model\.json, saved_model\.pb or config\.json\), found a folder with none of them/,
    );
  });
});

void describe('a SavedModel exported by Keras (model.export) read through tfjs-node', () => {
  const DIR = path.resolve(__dirname, '../../test/fixtures/real-keras');
  const skip = skipWithout('tfjs-node', hasTfjsNode());

  void it(
    'lists the signature outputs and captures them as TensorFlow computed them',
    { skip },
    async () => {
      const handle = await openModel(path.join(DIR, 'savedmodel'));
      try {
        assert.equal(handle.format, 'tf-saved-model');
        assert.equal(handle.backend, 'tfjs-node');
        assert.deepEqual(handle.inputShape, [null, 8]);
        assert.deepEqual(
          handle.layers.map((l) => [l.name, l.outputShape]),
          [
            ['output_0', [null, 8]],
            ['output_1', [null, 3]],
          ],
        );
        const x = parseNpy(readFileSync(path.join(DIR, 'probe.npy')), 'probe.npy');
        const result = await handle.capture(
          probeOf(Float32Array.from(toFloat64(x.data)), x.shape),
          {
            batchSize: 7,
          },
        );
        const expected = new Map(
          parseNpz(readFileSync(path.join(DIR, 'expected.npz')), 'expected.npz').map((a) => [
            a.name,
            toFloat64(a.array.data),
          ]),
        );
        assertColumns(result.acts, 0, expected.get('savedmodel/output_0/output')!, 8, 1e-5);
        assertColumns(result.acts, 8, expected.get('savedmodel/output_1/output')!, 3, 1e-5);
        // The first output is the nested backbone's last layer: the same values the Keras file gives.
        assertColumns(result.acts, 0, expected.get('nested/fc2/output')!, 8, 1e-5);
      } finally {
        handle.dispose();
      }
    },
  );

  void it(
    'a damaged saved_model.pb gives a one-line error naming the folder',
    { skip },
    async () => {
      const dir = path.join(tmp.dir, 'damaged');
      mkdirSync(path.join(dir, 'variables'), { recursive: true });
      const pb = readFileSync(path.join(DIR, 'savedmodel', 'saved_model.pb'));
      writeFileSync(path.join(dir, 'saved_model.pb'), pb.subarray(0, pb.length >> 1));
      await assert.rejects(openModel(dir), (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.ok(!err.message.includes('\n'));
        assert.match(err.message, /damaged: cannot read the SavedModel/);
        return true;
      });
    },
  );
});
