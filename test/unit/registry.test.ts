// The format registry: which paths are models, what they are named, which files make them up,
// and that no file a model refers to is read from outside the model's folder.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { modelContentHash } from '../../src/core/analysis/analyze';
import { expandModelSources } from '../../src/core/analysis/sources';
import { parseStep } from '../../src/core/analysis/trajectory';
import { encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import {
  modelContentFiles,
  modelName,
  openModel,
  resolveModel,
  sameModel,
} from '../../src/core/capture/registry';
import { rejectsWith, tempDir } from '../fixtures/capture/helpers';
import { mlpModel } from '../fixtures/capture/onnxModels';

const tmp = tempDir('memlens-registry-');
after(tmp.cleanup);

/** A SavedModel-shaped folder: saved_model.pb (protobuf bytes) and its variables. */
function savedModel(dir: string, weights: string): string {
  mkdirSync(path.join(dir, 'variables'), { recursive: true });
  writeFileSync(path.join(dir, 'saved_model.pb'), Buffer.from([0x08, 0x01, 0x12, 0x00]));
  writeFileSync(path.join(dir, 'variables', 'variables.index'), 'index');
  writeFileSync(path.join(dir, 'variables', 'variables.data-00000-of-00001'), weights);
  return dir;
}

void describe('SavedModel checkpoints', () => {
  const runs = path.join(tmp.dir, 'runs');
  savedModel(path.join(runs, 'ckpt-100'), 'w100');
  savedModel(path.join(runs, 'ckpt-20'), 'w20');
  writeFileSync(path.join(runs, 'frozen_graph.pb'), Buffer.from([0x0a, 0x00]));
  mkdirSync(path.join(runs, 'notes'));

  void it('a folder of them compares in step order; a stray frozen_graph.pb is no model', async () => {
    const found = await expandModelSources([runs]);
    assert.deepEqual(
      found.map((p) => path.basename(p)),
      ['ckpt-20', 'ckpt-100'],
    );
    assert.deepEqual(found.map(modelName), ['ckpt-20', 'ckpt-100']);
    assert.deepEqual(found.map(parseStep), [20, 100]);
    const marker = path.join(runs, 'ckpt-100', 'saved_model.pb');
    assert.equal(modelName(marker), 'ckpt-100');
    assert.equal(parseStep(marker), 100);
    assert.ok(sameModel(marker, path.join(runs, 'ckpt-100')));
    assert.equal((await resolveModel(path.join(runs, 'ckpt-100'))).format.id, 'tf-saved-model');
    await rejectsWith(
      resolveModel(path.join(runs, 'frozen_graph.pb')),
      /frozen_graph\.pb: expected a model \(.*\), found a '\.pb' file starting with bytes 0a 00/,
    );
  });

  void it('the content covers variables/, so checkpoints differing only in weights hash apart', async () => {
    const a = path.join(runs, 'ckpt-100');
    assert.deepEqual(
      (await modelContentFiles(a)).map((f) => path.relative(a, f)),
      ['saved_model.pb', 'variables/variables.data-00000-of-00001', 'variables/variables.index'],
    );
    const twin = savedModel(path.join(tmp.dir, 'twin'), 'w100');
    assert.equal(await modelContentHash(twin), await modelContentHash(a));
    writeFileSync(path.join(twin, 'variables', 'variables.data-00000-of-00001'), 'w101');
    assert.notEqual(await modelContentHash(twin), await modelContentHash(a));
  });
});

/** A TF.js model.json whose one weight shard is `shard`, beside `dir`'s other files. */
function tfjsModel(dir: string, shard: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'model.json');
  writeFileSync(
    file,
    JSON.stringify({
      format: 'layers-model',
      modelTopology: { class_name: 'Sequential', config: { layers: [] } },
      weightsManifest: [{ paths: [shard], weights: [{ name: 'w', shape: [2], dtype: 'float32' }] }],
    }),
  );
  return file;
}

/** An ONNX model whose first initializer's bytes live in the external file `location`. */
function onnxWithExternal(dir: string, location: string): string {
  mkdirSync(dir, { recursive: true });
  const model = mlpModel();
  const t = model.graph!.initializer[0];
  t.externalData = [{ key: 'location', value: location }];
  t.dataLocation = 1;
  t.rawData = undefined;
  const file = path.join(dir, 'm.onnx');
  writeFileSync(file, encodeOnnxModel(model));
  return file;
}

void describe('every file a model refers to stays inside its folder', () => {
  const secret = path.join(tmp.dir, 'secret.bin');
  writeFileSync(secret, Buffer.alloc(64, 7));
  const fifoDir = path.join(tmp.dir, 'fifo');
  mkdirSync(fifoDir);
  execFileSync('mkfifo', [path.join(fifoDir, 'pipe.bin')]);
  symlinkSync(secret, path.join(fifoDir, 'outside.bin'));
  const cases: [string, string, RegExp][] = [
    ['relative', '../secret.bin', /found a path outside it/],
    ['absolute', secret, /found an absolute path/],
    ['symlink', 'outside.bin', /found a path outside it/],
    ['device', '../../../../../../../../dev/zero', /found a path outside it/],
    ['fifo', 'pipe.bin', /found a special file/],
    ['missing', 'gone.bin', /found nothing there \(ENOENT\)/],
  ];
  for (const [kind, ref, found] of cases) {
    void it(`TF.js weight shard, ${kind}: refused in one line naming it, nothing read`, async () => {
      const file = tfjsModel(
        kind === 'symlink' || kind === 'fifo' ? fifoDir : path.join(tmp.dir, `t-${kind}`),
        ref,
      );
      const named = new RegExp(`weight shard '${ref.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'`);
      // One call at a time: a second promise rejecting unobserved would fail another test.
      for (const call of [
        () => modelContentFiles(file),
        () => openModel(file, { backend: 'cpu' }),
      ]) {
        const p = call();
        await rejectsWith(p, named);
        await rejectsWith(p, found);
      }
    });
    void it(`ONNX external data, ${kind}: refused in one line naming it, nothing read`, async () => {
      const file = onnxWithExternal(
        kind === 'symlink' || kind === 'fifo' ? fifoDir : path.join(tmp.dir, `o-${kind}`),
        ref,
      );
      for (const call of [() => modelContentFiles(file), () => openModel(file)]) {
        const p = call();
        await rejectsWith(p, /external data file '/);
        await rejectsWith(p, found);
      }
    });
  }
});
