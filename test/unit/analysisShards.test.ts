// A shard of analyze or compare never holds the whole activation matrix of an .npy dump or a
// model: it reads the dump a band of columns at a time (the scan), then only the columns its
// tile touches, never the file whole; a model is captured to a temporary float64 .npy, read
// alike and removed, also on a failure or a cancellation. Its blocks are those a shard of the
// run in memory writes (same fingerprints, same values), so the merge takes either.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AnalyzeOptions, ProbeInput } from '../../src/core/analysis/analyze';
import { analyzeAgainstBaseline } from '../../src/core/analysis/againstBaseline';
import { analyzeDetailed } from '../../src/core/analysis/analyze';
import { compare, compareShard } from '../../src/core/analysis/compare';
import { shardAnalyze } from '../../src/core/analysis/shardAnalysis';
import { touchedColumns } from '../../src/core/dumps/dumpShard';
import { CancelledError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { NpyColumns } from '../../src/core/io/npyColumns';
import { capNeurons } from '../../src/core/measures/neuronCap';
import { disposeMiPool } from '../../src/core/mi/miMatrix';
import type { ShardSpec } from '../../src/core/mi/shards';
import { runShard } from '../../src/core/mi/shards';
import { TiledPairs } from '../../src/core/mi/tiles';
import { Rng } from '../../src/core/random';

const root = path.resolve(__dirname, '..', '..');
const model = path.join(root, 'examples', 'shortcut', 'model.json');
const probe = path.join(root, 'examples', 'probe.npy');
const dir = mkdtempSync(path.join(tmpdir(), 'memlens-analysis-shards-'));
// The shards' temporary captures go here: none may be left.
const temp = path.join(dir, 'tmp');
const saved = { TMPDIR: process.env.TMPDIR, MEMLENS_MI_RATE: process.env.MEMLENS_MI_RATE };

before(() => {
  fs.mkdirSync(temp);
  process.env.TMPDIR = temp;
  process.env.MEMLENS_MI_RATE = '6400';
});
after(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  rmSync(dir, { recursive: true, force: true });
  await disposeMiPool();
});

/** What the shard read: each NpyColumns.read's columns and file, and the .npy files read whole. */
function spyReads(): { reads: { file: string; columns: number[] }[]; whole: string[] } {
  const seen = { reads: [] as { file: string; columns: number[] }[], whole: [] as string[] };
  const read = NpyColumns.prototype.read;
  NpyColumns.prototype.read = function (this: NpyColumns, columns, keep) {
    seen.reads.push({ file: this.file, columns: [...columns] });
    return read.call(this, columns, keep);
  };
  const readFile = fs.promises.readFile;
  fs.promises.readFile = ((file: fs.PathLike, ...rest: never[]) => {
    if (/\.npy$/.test(String(file))) seen.whole.push(String(file));
    return (readFile as (...a: unknown[]) => Promise<unknown>)(file, ...rest);
  }) as typeof readFile;
  after(() => {
    NpyColumns.prototype.read = read;
    fs.promises.readFile = readFile;
  });
  return seen;
}
const seen = spyReads();

/** The blocks of the shard of `fn`, and what it read meanwhile. */
async function shardOf(shard: ShardSpec, fn: () => Promise<unknown>) {
  seen.reads.length = 0;
  seen.whole.length = 0;
  const { blocks } = await runShard(shard, fn);
  return { blocks, reads: [...seen.reads], whole: [...seen.whole] };
}

/** S x N float32 normals, neurons 4 and 5 dependent, with a two-layer sidecar. */
function dump(name: string, S: number, N: number, seed: number): string {
  const rng = new Rng(seed);
  const v = Float32Array.from({ length: S * N }, () => rng.normal());
  for (let s = 0; s < S; s++) v[s * N + 5] = v[s * N + 4] + 0.3 * v[s * N + 5];
  const file = path.join(dir, name);
  writeFileSync(file, encodeNpy(v, [S, N]));
  const layers = [
    { name: 'a', start: 0, end: 16 },
    { name: 'b', start: 16, end: N },
  ];
  writeFileSync(file.replace(/\.npy$/, '.layers.json'), JSON.stringify({ layers }));
  return file;
}

void test('an analyze shard of an .npy reads the scan, then only its tile of the columns; its blocks are the run in memory', async () => {
  const S = 300;
  const N = 40;
  const file = dump('acts.npy', S, N, 5);
  const opts: AnalyzeOptions = { threads: 1, miNeuronCap: 12, seed: 3 };
  const layers = [
    { name: 'a', start: 0, end: 16 },
    { name: 'b', start: 16, end: N },
  ];
  // The single run's MI columns (every neuron is measurable) and its pairs, in tiles of 4.
  const columns = capNeurons(layers, 12, 3);
  const m = columns.length;
  const tiles = new TiledPairs({ m, diagonal: false, sample: null }, 4);
  for (const index of [0, 3]) {
    const shard = { index, count: 4 };
    const got = await shardOf(shard, () => shardAnalyze(file, undefined, opts));
    const { a, b } = tiles.block(index);
    const touched = touchedColumns(a, b, m).map((t) => columns[t]);
    assert.deepEqual(
      got.reads.map((r) => r.columns),
      [Array.from({ length: N }, (_, c) => c), touched],
      'the scan (one band of every column), then the columns of the tile',
    );
    assert.ok(touched.length < m, `${touched.length} of ${m} columns`);
    assert.deepEqual(got.whole, [], 'the dump is never read whole');
    const inMemory = await shardOf(shard, () => analyzeDetailed(file, null, opts));
    assert.ok(inMemory.whole.includes(file), 'the spy sees a whole read');
    assert.equal(got.blocks.length, 1);
    assert.deepEqual(got.blocks, inMemory.blocks);
  }
});

void test('layers named out of order, a subset of rows, sampled pairs and a baseline: the blocks of the run in memory, no whole read', async () => {
  const file = dump('sel.npy', 260, 30, 8);
  const other = dump('base.npy', 260, 30, 9);
  for (const opts of [
    { threads: 1, layers: ['b', 'a'], samples: 150, seed: 2 },
    { threads: 1, layers: ['b'], pairs: 40, seed: 1 },
  ] satisfies AnalyzeOptions[]) {
    const shard = { index: 1, count: 3 };
    const got = await shardOf(shard, () => shardAnalyze(file, other, opts));
    const inMemory = await shardOf(shard, () => analyzeAgainstBaseline(file, other, opts));
    assert.deepEqual(got.whole, [], JSON.stringify(opts));
    assert.equal(got.blocks.length, 2, 'the model, then the baseline');
    assert.deepEqual(got.blocks, inMemory.blocks, JSON.stringify(opts));
    // Each file: the refusal scan of the whole file, the scan of the selection, the tile.
    const last = got.reads.filter((r) => r.file === file).at(-1)!;
    assert.ok(last.columns.length < 30, `${last.columns.length} columns`);
  }
});

void test('a compare shard of dumps: the blocks of a shard of compare in memory, no whole read', async () => {
  const files = [
    dump('c1.npy', 200, 24, 1),
    dump('c2.npy', 200, 24, 2),
    dump('c3.npy', 200, 24, 3),
  ];
  const opts = { threads: 1, baseline: files[1], miNeuronCap: 10 };
  const shard = { index: 2, count: 3 };
  const got = await shardOf(shard, () => compareShard(files, opts));
  const inMemory = await shardOf(shard, () => compare(files, opts));
  assert.deepEqual(got.whole, []);
  assert.equal(got.blocks.length, 3);
  assert.deepEqual(got.blocks, inMemory.blocks);
});

void test('an analyze shard of a model captures to a temporary .npy, reads it by columns, and leaves nothing, also when cancelled', async () => {
  const opts: AnalyzeOptions = { threads: 1, probe, samples: 120, backend: 'cpu', batchSize: 40 };
  const shard = { index: 0, count: 3 };
  const opened: string[] = [];
  const open = NpyColumns.open;
  NpyColumns.open = (file: string) => {
    opened.push(file);
    return open(file);
  };
  try {
    // Unlinked once open: a killed shard leaves nothing either.
    const during: boolean[] = [];
    const onPlan = () => during.push(existsSync(opened[0]));
    const got = await shardOf(shard, () => shardAnalyze(model, undefined, { ...opts, onPlan }));
    assert.deepEqual(during, [false], 'the file is gone while the shard reads it');
    assert.equal(opened.length, 1);
    assert.equal(path.dirname(path.dirname(opened[0])), temp);
    assert.match(path.basename(path.dirname(opened[0])), /^memlens-capture-/);
    assert.equal(existsSync(opened[0]), false);
    const [scan, tile] = got.reads;
    assert.equal(got.reads.length, 2);
    assert.ok(tile.columns.length < scan.columns.length, 'the tile reads fewer columns');
    const inMemory = await shardOf(shard, () =>
      analyzeDetailed(model, { path: probe } satisfies ProbeInput, opts),
    );
    assert.deepEqual(got.blocks, inMemory.blocks);
  } finally {
    NpyColumns.open = open;
  }
  assert.deepEqual(readdirSync(temp), []);
  // Cancelled during the capture (the .npy half written) and before the MI (the file open).
  for (const stage of ['capture', 'plan']) {
    const abort = new AbortController();
    const cancelled: AnalyzeOptions = {
      ...opts,
      signal: abort.signal,
      ...(stage === 'plan'
        ? { onPlan: () => abort.abort() }
        : { onProgress: (p) => p.stage === 'capture' && abort.abort() }),
    };
    await assert.rejects(
      runShard(shard, () => shardAnalyze(model, undefined, cancelled)),
      CancelledError,
      stage,
    );
    assert.deepEqual(readdirSync(temp), [], `nothing left when cancelled in ${stage}`);
  }
});
