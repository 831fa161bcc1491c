// Models that npm packages ship wrapped: a UMD JavaScript module with the weight shards as
// base64 strings, or a weights manifest whose topology lives in the package's JavaScript.
// Each is refused in one line that names the wrapper, by open and by the content hash alike.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { modelContentFiles, openModel } from '../../src/core/capture/registry';
import { UserError } from '../../src/core/errors';
import { tempDir } from '../fixtures/capture/helpers';

const tmp = tempDir('memlens-wrapped-');
after(tmp.cleanup);

const shard = Buffer.from(new Float32Array(2048).fill(0.5).buffer).toString('base64');
const manifest = [
  { paths: ['group1-shard1of1.bin'], weights: [{ name: 'w', shape: [2048], dtype: 'float32' }] },
];

const cases: [string, string, string][] = [
  [
    'blazeface.umd.js',
    `(function (global, factory) {
  typeof exports === 'object' && typeof module !== 'undefined' ? factory(exports) :
  typeof define === 'function' && define.amd ? define(['exports'], factory) : factory(global.model = {});
}(this, function (exports) {
  exports.weights = "data:application/octet-stream;base64,${shard}";
}));`,
    "a UMD JavaScript module with the weight shards inlined as base64 strings: expected a TF.js model.json with its weight files (MemLens does not run a package's JavaScript)",
  ],
  [
    'model.esm.js',
    `import * as tf from '@tensorflow/tfjs';\nexport const load = () => tf.loadGraphModel('https://example.invalid/model.json');\n`,
    "a JavaScript module: expected a TF.js model.json with its weight files (MemLens does not run a package's JavaScript)",
  ],
  [
    'weights_manifest.json',
    JSON.stringify(manifest),
    "a weights manifest without a model topology: the topology is in the package's JavaScript; expected a TF.js model.json with modelTopology",
  ],
  [
    'model-weights.json',
    JSON.stringify({ format: 'layers-model', weightsManifest: manifest }),
    "a weights manifest without a model topology: the topology is in the package's JavaScript; expected a TF.js model.json with modelTopology",
  ],
];

void describe('wrapped TF.js models', () => {
  for (const [name, text, message] of cases) {
    void it(`${name}: one line naming the wrapper`, async () => {
      const file = path.join(tmp.dir, name);
      writeFileSync(file, text);
      const refused = (e: unknown): boolean =>
        e instanceof UserError && e.message === `${file}: ${message}` && !e.message.includes('\n');
      await assert.rejects(openModel(file, { backend: 'cpu' }), refused);
      await assert.rejects(modelContentFiles(file), refused);
    });
  }
});
