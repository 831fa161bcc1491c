// Reads by columns, never the whole activation matrix: the merge of analyze or compare parts
// reads a dump a band of columns at a time (never whole, not even to hash it) and captures a
// model to a temporary float64 .npy that it reads alike and removes; a single run does the
// same with a dump or a model's capture over its memory budget, holding only the MI columns.
// Either report is the in-memory run's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { analyzeAgainstBaseline } from '../../src/core/analysis/againstBaseline';
import type { AnalyzeOptions } from '../../src/core/analysis/analyze';
import { analyzeDetailed } from '../../src/core/analysis/analyze';
import { shardAnalyze } from '../../src/core/analysis/shardAnalysis';
import { analyzeOptionsFrom, MEASURE_FLAGS_HELP } from '../../src/cli/commands/measureFlags';
import { UserError } from '../../src/core/errors';
import { SCAN_BYTES } from '../../src/core/dumps/dumpShard';
import { encodeNpy } from '../../src/core/io/npy';
import type { ShardPart } from '../../src/core/mi/shards';
import { runMerged, runShard } from '../../src/core/mi/shards';
import type { AnalysisReport } from '../../src/core/report/schema';
import { Rng } from '../../src/core/random';
import { spyReads } from '../fixtures/readSpy';
import { shardTestEnv } from '../fixtures/shardTestEnv';

const root = path.resolve(__dirname, '..', '..');
const { dir, temp } = shardTestEnv('memlens-analysis-merge-');

const seen = spyReads();

/** A report without what measures the run rather than the data. */
function values(report: AnalysisReport | object): unknown {
  return JSON.parse(JSON.stringify(report), (key, v: unknown) =>
    key === 'timing' || key === 'createdAt' ? undefined : v,
  );
}

/** The parts of `count` shards of analyze on `source` (with `baseline`), in memory. */
async function parts(
  source: string,
  baseline: string | undefined,
  opts: AnalyzeOptions,
  count: number,
): Promise<ShardPart[]> {
  const out: ShardPart[] = [];
  for (let index = 0; index < count; index++) {
    const shard = { index, count };
    const { blocks } = await runShard(shard, () => shardAnalyze(source, baseline, opts));
    out.push({ file: `part${index}`, shard, blocks });
  }
  return out;
}

// 4,200 columns of S = 2,000 float64: two bands (4,194 columns fill 64 MiB).
const S = 2000;
const N = 4200;
const band = Math.floor(SCAN_BYTES / (8 * S));

/** The S x N float32 dump, neurons 3 and 7 dependent. */
function wideDump(): string {
  const rng = new Rng(11);
  const v = Float32Array.from({ length: S * N }, () => rng.normal());
  for (let s = 0; s < S; s++) v[s * N + 7] = v[s * N + 3] + 0.2 * v[s * N + 7];
  const file = path.join(dir, 'wide.npy');
  writeFileSync(file, encodeNpy(v, [S, N]));
  return file;
}
const wide = wideDump();

void test('an analyze merge of an .npy dump wider than a scan band reads it band by band, never whole; its report is the single run', async () => {
  const file = wide;
  const opts: AnalyzeOptions = { threads: 1, pairs: 50, seed: 4 };
  const single = await analyzeDetailed(file, null, opts);
  const split = await parts(file, undefined, opts, 3);
  seen.reads.length = 0;
  seen.whole.length = 0;
  const merged = await runMerged(split, () => analyzeDetailed(file, null, opts));
  assert.deepEqual(values(merged.report), values(single.report));
  assert.deepEqual(merged.pairValues, single.pairValues);
  assert.deepEqual(seen.whole, [], 'the dump is never read whole');
  const widths = seen.reads.map((r) => r.columns.length);
  assert.ok(
    widths.every((w) => w <= band),
    `reads of at most one band (${band} columns): ${widths.join(', ')}`,
  );
  // The scan, then the entropies: each a pass over every column, a band at a time.
  assert.deepEqual(widths, [band, N - band, band, N - band]);
  assert.ok(seen.reads.every((r) => r.file === file));
});

void test('an analyze merge of a model against a baseline captures both to temporary .npy files read by columns and removed; its report is the single run', async () => {
  const model = path.join(root, 'examples', 'shortcut', 'model.json');
  const baseline = path.join(root, 'examples', 'shortcut-baseline', 'model.json');
  const probe = path.join(root, 'examples', 'probe.npy');
  const opts = { threads: 1, probe, samples: 150, seed: 1 };
  const single = await analyzeAgainstBaseline(model, baseline, opts);
  const split = await parts(model, baseline, opts, 2);
  seen.reads.length = 0;
  seen.whole.length = 0;
  // Over the budget (0 bytes), as a large model's: captured to files, not held.
  const merged = await runMerged(split, () =>
    analyzeAgainstBaseline(model, baseline, { ...opts, memoryBudget: 0 }),
  );
  assert.deepEqual(values(merged), values(single));
  const files = [...new Set(seen.reads.map((r) => r.file))];
  assert.equal(files.length, 2, `one capture per model: ${files.join(', ')}`);
  for (const f of files) assert.match(f, /memlens-capture-[^/]*\/activations\.npy$/);
  assert.deepEqual(seen.whole, [probe, probe], 'only the probe is read whole (once a model)');
  assert.deepEqual(readdirSync(temp), [], 'the merge removed its captures');
});

void test('a single analyze of a dump over --memory-budget reads it band by band and only its MI columns, never whole; its report is the in-memory run', async () => {
  const opts: AnalyzeOptions = { threads: 1, miNeuronCap: 40, pairs: 50, seed: 4 };
  seen.whole.length = 0;
  // 16 x 2,000 x 4,200 bytes = 128 MiB, within the default budget of 1 GiB: read whole.
  const inMemory = await analyzeDetailed(wide, null, opts);
  assert.deepEqual(seen.whole, [wide]);
  seen.reads.length = 0;
  seen.whole.length = 0;
  const byColumns = await analyzeDetailed(wide, null, { ...opts, memoryBudget: 128 * 2 ** 20 - 1 });
  assert.deepEqual(values(byColumns.report), values(inMemory.report));
  assert.deepEqual(byColumns.pairValues, inMemory.pairValues);
  assert.deepEqual(seen.whole, [], 'the dump is never read whole');
  // The scan and the entropies a band at a time, then the cap's 40 MI neurons of its one layer.
  assert.deepEqual(
    seen.reads.map((r) => r.columns.length),
    [band, N - band, band, N - band, 40],
  );
  assert.equal(byColumns.report.params.miNeuronCap, 40);
});

void test('a single analyze of a model whose capture is over --memory-budget streams it to a temporary .npy, read by columns and removed; its report is the in-memory run', async () => {
  const model = path.join(root, 'examples', 'shortcut', 'model.json');
  const probe = path.join(root, 'examples', 'probe.npy');
  const opts = { threads: 1, probe, samples: 150, seed: 1 };
  seen.reads.length = 0;
  const inMemory = await analyzeDetailed(model, { path: probe }, opts);
  assert.equal(seen.reads.length, 0, 'held in memory within the default budget');
  const streamed = await analyzeDetailed(model, { path: probe }, { ...opts, memoryBudget: 0 });
  assert.deepEqual(values(streamed.report), values(inMemory.report));
  assert.deepEqual(streamed.pairValues, inMemory.pairValues);
  assert.ok(seen.reads.length >= 2, 'the scan, the entropies and the MI columns');
  for (const r of seen.reads) assert.match(r.file, /memlens-capture-[^/]*\/activations\.npy$/);
  assert.deepEqual(readdirSync(temp), [], 'the capture is removed');
});

void test('--memory-budget <MB> of analyze and compare: MiB to bytes, 0 allowed, a bad value refused in one line', () => {
  const signal = new AbortController().signal;
  assert.equal(analyzeOptionsFrom({ 'memory-budget': '96' }, signal).memoryBudget, 96 * 2 ** 20);
  assert.equal(analyzeOptionsFrom({ 'memory-budget': '0' }, signal).memoryBudget, 0);
  assert.equal(analyzeOptionsFrom({}, signal).memoryBudget, undefined);
  assert.throws(
    () => analyzeOptionsFrom({ 'memory-budget': '-1' }, signal),
    (e: unknown) =>
      e instanceof UserError && e.message === "--memory-budget: expected a number >= 0, found '-1'",
  );
  assert.match(
    MEASURE_FLAGS_HELP,
    /--memory-budget <MB> {2}MiB the S x N matrix may take in memory/,
  );
});
