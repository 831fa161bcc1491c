// The data-driven format table (test/capture/formats.json, after Netron's test/models.json):
// every row is a model file with what the registry must say of it and the activations its own
// framework computed. One driver runs them all.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  modelContentFiles,
  modelFormats,
  modelName,
  openModel,
  resolveModel,
} from '../../src/core/capture/registry';
import type { NdArray } from '../../src/core/io/npy';
import { parseNpy, toFloat64 } from '../../src/core/io/npy';
import { parseNpz } from '../../src/core/io/npz';
import { assertColumns, probeOf } from '../fixtures/capture/helpers';
import type { OptionalDependency } from '../fixtures/optionalDeps';
import { hasTfjsNode, skipWithout } from '../fixtures/optionalDeps';

interface Row {
  file: string;
  format: string;
  requires?: string;
  name: string;
  contentFiles: string[];
  /** Every layer: name, type, measured by default. */
  layers: [string, string, boolean][];
  probe: string;
  point: 'preactivation' | 'output';
  expected: string;
  /** Layer name -> key of its values in the expected npz. */
  values: Record<string, string>;
  tolerance: number;
}

const root = path.resolve(__dirname, '..', '..');
const at = (p: string): string => path.join(root, p);
const { models } = JSON.parse(readFileSync(at('test/capture/formats.json'), 'utf8')) as {
  models: Row[];
};

const python = process.env.MEMLENS_TEST_PYTHON ?? '/usr/bin/python3';

function installed(pkg: string): boolean {
  if (pkg.startsWith('python3 with torch'))
    return spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  if (pkg === '@tensorflow/tfjs-node') return hasTfjsNode();
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** The optional dependency (test/fixtures/optionalDeps.ts) a row's `requires` names. */
function dependency(requires: string): OptionalDependency {
  if (requires.startsWith('python3 with torch')) return 'python3-torch';
  if (requires === '@tensorflow/tfjs-node') return 'tfjs-node';
  throw new Error(
    `formats.json: a row requires '${requires}', which optionalDeps.ts does not list`,
  );
}

/** Rows of features from an expected array: channels-last maps averaged over positions. */
function rowsOf(a: NdArray): { values: Float64Array; width: number } {
  const data = toFloat64(a.data);
  const [s, ...rest] = a.shape;
  const width = rest[rest.length - 1];
  const positions = rest.slice(0, -1).reduce((p, d) => p * d, 1);
  const values = new Float64Array(s * width);
  for (let i = 0; i < s; i++)
    for (let p = 0; p < positions; p++)
      for (let c = 0; c < width; c++)
        values[i * width + c] += data[(i * positions + p) * width + c] / positions;
  return { values, width };
}

void describe('the format table', () => {
  for (const row of models) {
    const skip = row.requires
      ? skipWithout(dependency(row.requires), installed(row.requires))
      : false;
    void it(`${row.file}: ${row.format}`, { skip }, async () => {
      const file = at(row.file);
      const { format, file: opened } = await resolveModel(file);
      assert.equal(format.id, row.format);
      assert.equal(modelName(file), row.name);
      const folder = path.dirname(opened);
      assert.deepEqual(
        (await modelContentFiles(file)).map((f) => path.relative(folder, f)),
        row.contentFiles,
      );
      const x = parseNpy(readFileSync(at(row.probe)), row.probe);
      const probe = probeOf(Float32Array.from(toFloat64(x.data)), x.shape);
      const handle = await openModel(file, { probe, python });
      try {
        assert.deepEqual(
          handle.layers.map((l) => [l.name, l.type, l.measuredByDefault]),
          row.layers,
        );
        const names = Object.keys(row.values);
        const result = await handle.capture(probe, {
          layers: names,
          point: row.point,
        });
        const expected = new Map(
          parseNpz(readFileSync(at(row.expected)), row.expected).map((a) => [a.name, a.array]),
        );
        assert.deepEqual(
          result.acts.layers.map((l) => l.name),
          names,
        );
        for (const slice of result.acts.layers) {
          const array = expected.get(row.values[slice.name]);
          assert.ok(array, `${row.expected} holds ${row.values[slice.name]}`);
          const want = rowsOf(array);
          assert.equal(slice.end - slice.start, want.width, slice.name);
          assertColumns(result.acts, slice.start, want.values, want.width, row.tolerance);
        }
      } finally {
        handle.dispose();
      }
    });
  }
  void it('has a row for every registered format', () => {
    const rowFormats = new Set(models.map((r) => r.format));
    for (const f of modelFormats) assert.ok(rowFormats.has(f.id), `a row for ${f.id}`);
  });
});
