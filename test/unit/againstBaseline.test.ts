// One model read against a baseline (core analyzeAgainstBaseline), and the measurement cache
// every job shares: checked against compare's own reading and against fresh measurements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { analyzeAgainstBaseline } from '../../src/core/analysis/againstBaseline';
import { analyze } from '../../src/core/analysis/analyze';
import { compare } from '../../src/core/analysis/compare';
import { diskMeasurementCache } from '../../src/core/analysis/measurementCache';
import { UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { Rng } from '../../src/core/random';
import { tempDir } from '../fixtures/capture/helpers';

const S = 400;

/**
 * An S x 4 dump: with `coupling` 0.95 its neurons share one latent (I high); with 0 they are
 * independent normals (I near 0). Written with a .layers.json sidecar of `widths`.
 */
function writeDump(file: string, coupling: number, seed: number, widths = [2, 2]): void {
  const rng = new Rng(seed);
  const n = widths.reduce((a, b) => a + b, 0);
  const values = new Float64Array(S * n);
  for (let i = 0; i < S; i++) {
    const z = rng.normal();
    for (let j = 0; j < n; j++)
      values[i * n + j] = coupling * z + Math.sqrt(1 - coupling ** 2) * rng.normal();
  }
  writeFileSync(file, encodeNpy(values, [S, n]));
  let start = 0;
  const layers = widths.map((w, i) => {
    const layer = { name: `fc${i + 1}`, start, end: start + w };
    start += w;
    return layer;
  });
  writeFileSync(file.replace(/\.npy$/, '.layers.json'), JSON.stringify({ layers }));
}

const opts = { threads: 1, bins: 20 };

void test('a model against its baseline reads the signature compare reads with that baseline', async () => {
  const { dir, cleanup } = tempDir('memlens-baseline-');
  try {
    const coupled = path.join(dir, 'coupled.npy');
    const independent = path.join(dir, 'independent.npy');
    writeDump(coupled, 0.95, 1);
    writeDump(independent, 0, 2);
    const { report, signature, baselineReport } = await analyzeAgainstBaseline(
      coupled,
      independent,
      opts,
    );
    assert.ok(signature && baselineReport);
    // Shared latent: every pair's I is far above the independent baseline's.
    assert.ok(signature.miRatio > 1.5 || signature.miComparison === 'difference');
    assert.equal(signature.reference, independent);
    assert.deepEqual(report.signature, signature);
    assert.ok(report.flags.some((f) => f.code === 'baseline-signature'));
    assert.ok(!report.flags.some((f) => f.code === 'no-reference'));
    const viaCompare = await compare([coupled, independent], { ...opts, baseline: independent });
    const mine = viaCompare.models.find((m) => m.path === coupled);
    assert.deepEqual(mine?.signature, signature);
    // The baseline's own report: the numbers compare measured for it, on the model's layers.
    const theirs = viaCompare.models.find((m) => m.path === independent);
    assert.equal(baselineReport.model.path, independent);
    assert.deepEqual(baselineReport.params.layers, report.params.layers);
    assert.deepEqual(baselineReport.summary.entropy, theirs?.summary.entropy);
    assert.equal(baselineReport.summary.mi.median, theirs?.summary.mi.median);
  } finally {
    cleanup();
  }
});

void test('a baseline that cannot serve is refused in one line: itself, a model without probe, other layers', async () => {
  const { dir, cleanup } = tempDir('memlens-baseline-');
  try {
    const a = path.join(dir, 'a.npy');
    const wide = path.join(dir, 'wide.npy');
    const renamed = path.join(dir, 'renamed.npy');
    writeDump(a, 0.5, 1);
    writeDump(wide, 0.5, 2, [3, 1]);
    writeDump(renamed, 0.5, 3);
    writeFileSync(
      renamed.replace(/\.npy$/, '.layers.json'),
      JSON.stringify({
        layers: [
          { name: 'conv1', start: 0, end: 2 },
          { name: 'conv2', start: 2, end: 4 },
        ],
      }),
    );
    const refused = async (baseline: string, source: string, pattern: RegExp): Promise<void> =>
      assert.rejects(
        analyzeAgainstBaseline(source, baseline, opts),
        (err: unknown) =>
          err instanceof UserError && pattern.test(err.message) && !err.message.includes('\n'),
      );
    await refused(a, a, /the baseline is the analysed model itself/);
    // Refused before any work: the model named as source does not even exist.
    const model = path.join(dir, 'base', 'model.json');
    await refused(
      model,
      path.join(dir, 'missing.npy'),
      /runs on probe inputs: expected probe data/,
    );
    await refused(wide, a, /not comparable with .*measured layers fc1 \(3\), fc2 \(1\)/);
    await refused(renamed, a, /must have the layers of .* \(fc1, fc2\): .*unknown layer 'fc1'/);
    // A workspace-wide baseline (notComparable: 'alone'): the model is read alone, saying why.
    const lone = await analyze(a, opts);
    for (const [baseline, why] of [
      [wide, /measured layers fc1 \(3\), fc2 \(1\)/],
      [renamed, /lacks the layers fc1, fc2/],
    ] as const) {
      const alone = await analyzeAgainstBaseline(a, baseline, { ...opts, notComparable: 'alone' });
      assert.equal(alone.signature, null);
      assert.equal(alone.baselineReport, null);
      assert.equal(alone.report.signature, undefined);
      const flag = alone.report.flags.find((f) => f.code === 'baseline-not-comparable');
      assert.ok(flag && why.test(flag.message) && flag.message.includes(baseline), flag?.message);
      assert.deepEqual(alone.report.summary, lone.summary, 'the measurement is kept');
    }
  } finally {
    cleanup();
  }
});

void test('the measurement cache: measured once, read back equal, keyed by content and numbers', async () => {
  const { dir, cleanup } = tempDir('memlens-measurements-');
  try {
    const dump = path.join(dir, 'acts.npy');
    writeDump(dump, 0.8, 5);
    const store = path.join(dir, 'cache');
    const run = async (extra: object = {}) => {
      const measurements = diskMeasurementCache(store);
      const report = await analyze(dump, { ...opts, measurements, ...extra });
      return { report, hits: measurements.hits.length, stores: measurements.stores.length };
    };
    const first = await run();
    assert.deepEqual([first.hits, first.stores], [0, 1]);
    const again = await run();
    assert.deepEqual([again.hits, again.stores], [1, 0]);
    // NaN (a BIC of a degenerate fit) stays NaN, not JSON's null.
    assert.deepEqual(again.report, first.report);
    assert.ok(first.report.layers.some((l) => Number.isNaN(l.density.bic)));
    // The default layers named explicitly are the same measurement.
    assert.deepEqual((await run({ layers: ['fc1', 'fc2'] })).hits, 1);
    // Another number of bins is another measurement.
    const otherBins = await run({ bins: 10 });
    assert.deepEqual([otherBins.hits, otherBins.stores], [0, 1]);
    // A damaged entry is measured again, and the numbers are those of a fresh analysis.
    for (const f of readdirSync(store).filter((n) => n.endsWith('.f64')))
      truncateSync(path.join(store, f), 8);
    const repaired = await run();
    assert.deepEqual([repaired.hits, repaired.stores], [0, 1]);
    assert.deepEqual(repaired.report.summary, first.report.summary);
    // New content under the same name is a new measurement.
    writeDump(dump, 0.8, 6);
    const changed = await run();
    assert.deepEqual([changed.hits, changed.stores], [0, 1]);
    assert.notEqual(changed.report.model.sha256, first.report.model.sha256);
  } finally {
    cleanup();
  }
});

void test('a compare read again against another of its models measures nothing again', async () => {
  // The first model of a compare is planned by the budget, the others under its plan: with
  // every pair measured either way, a checkpoint measured one way serves the other.
  const { dir, cleanup } = tempDir('memlens-measurements-');
  try {
    const dumps = [1, 2, 3].map((i) => path.join(dir, `epoch-${i}.npy`));
    dumps.forEach((d, i) => writeDump(d, 0.3 * i, 10 + i));
    const store = path.join(dir, 'cache');
    const first = diskMeasurementCache(store);
    const a = await compare(dumps, { ...opts, reference: dumps[0], measurements: first });
    assert.deepEqual([first.hits.length, first.stores.length], [0, 3]);
    const again = diskMeasurementCache(store);
    const b = await compare(dumps, { ...opts, reference: dumps[2], measurements: again });
    assert.deepEqual([again.hits.length, again.stores.length], [3, 0]);
    assert.equal(b.reference.path, dumps[2]);
    // The same measurements: each model's medians are those of the first compare.
    for (const m of b.models) {
      const before = a.models.find((x) => x.path === m.path);
      assert.deepEqual(m.summary, before?.summary);
    }
  } finally {
    cleanup();
  }
});
