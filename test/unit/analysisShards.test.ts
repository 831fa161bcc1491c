// A shard of analyze or compare never holds the whole activation matrix of an .npy,
// .safetensors or stored .npz dump or a model: it reads the dump a band of columns at a time (the scan), then only the columns its
// tile touches, never the file whole; a model is captured to a temporary float64 .npy, read
// alike and removed, also on a failure or a cancellation. Its blocks are those a shard of the
// run in memory writes (same fingerprints, same values), so the merge takes either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
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
import type { ShardSpec } from '../../src/core/mi/shards';
import { runShard } from '../../src/core/mi/shards';
import { TiledPairs } from '../../src/core/mi/tiles';
import { Rng } from '../../src/core/random';
import { encodeSafetensors } from '../fuzz/formats';
import { spyReads } from '../fixtures/readSpy';
import { savez } from '../fixtures/savez';
import { shardTestEnv } from '../fixtures/shardTestEnv';

const root = path.resolve(__dirname, '..', '..');
const model = path.join(root, 'examples', 'shortcut', 'model.json');
const probe = path.join(root, 'examples', 'probe.npy');
const { dir, temp } = shardTestEnv('memlens-analysis-shards-');

const seen = spyReads();

/** The blocks of the shard of `fn`, and what it read meanwhile. */
async function shardOf(shard: ShardSpec, fn: () => Promise<unknown>) {
  seen.reads.length = 0;
  seen.whole.length = 0;
  const { blocks } = await runShard(shard, fn);
  return { blocks, reads: [...seen.reads], whole: [...seen.whole] };
}

/**
 * Asserts that shards 0 and 3 of 4 of analyze on `file` (N neurons, every one measurable, in
 * layers a = 0..16 and b; 12 MI neurons) read the scan (one band of every column), then only the columns of
 * their tile, never the file whole, and write the blocks of the run in memory, whose whole
 * read the spy sees.
 */
async function readsScanThenTiles(file: string, N: number) {
  const layers = [
    { name: 'a', start: 0, end: 16 },
    { name: 'b', start: 16, end: N },
  ];
  const opts: AnalyzeOptions = { threads: 1, miNeuronCap: 12, seed: 3 };
  // The single run's MI columns and its pairs, in tiles of 4.
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
  await readsScanThenTiles(file, N);
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

/**
 * A .safetensors dump of S rows: layer 'a' F32 (S x 16), layer 'b' BF16 (S x 14, its neuron 0
 * dependent on a's 4), listed a then b by __metadata__.order but b's bytes stored first.
 */
function safetensorsDump(name: string, S: number, seed: number): string {
  const rng = new Rng(seed);
  const a = Float32Array.from({ length: S * 16 }, () => rng.normal());
  const bf = Float32Array.from({ length: S * 14 }, () => rng.normal());
  for (let s = 0; s < S; s++) bf[s * 14] = a[s * 16 + 4] + 0.3 * bf[s * 14];
  // bfloat16: the top 16 bits of each float32.
  const b = Uint16Array.from(new Uint32Array(bf.buffer), (u) => u >>> 16);
  const data = new Uint8Array(b.byteLength + a.byteLength);
  data.set(new Uint8Array(b.buffer), 0);
  data.set(new Uint8Array(a.buffer), b.byteLength);
  const header = {
    __metadata__: { order: 'a,b' },
    b: { dtype: 'BF16', shape: [S, 14], data_offsets: [0, b.byteLength] },
    a: { dtype: 'F32', shape: [S, 16], data_offsets: [b.byteLength, data.length] },
  };
  const file = path.join(dir, name);
  writeFileSync(file, encodeSafetensors(header, data));
  return file;
}

void test('an analyze shard of a .safetensors dump (F32 and BF16 tensors) reads it by columns: the blocks of the run in memory, no whole read', async () => {
  const file = safetensorsDump('acts.safetensors', 300, 6);
  await readsScanThenTiles(file, 30);
  await selectsLikeInMemory(file, safetensorsDump('base.safetensors', 300, 7));
});

/**
 * Asserts that shard 1 of 3 of analyze on `file` against the baseline `other`, layers b and a
 * (in that order) of 150 rows, writes the blocks of the run in memory and reads neither whole.
 */
async function selectsLikeInMemory(file: string, other: string) {
  const selected = { threads: 1, layers: ['b', 'a'], samples: 150, seed: 2 };
  const shard = { index: 1, count: 3 };
  const got = await shardOf(shard, () => shardAnalyze(file, other, selected));
  const inMemory = await shardOf(shard, () => analyzeAgainstBaseline(file, other, selected));
  assert.deepEqual(got.whole, []);
  assert.equal(got.blocks.length, 2, 'the model, then the baseline');
  assert.deepEqual(got.blocks, inMemory.blocks);
}

/**
 * An .npz dump of S rows by numpy: layer 'a' float32 (S x 16), layer 'b' float64 (S x 14, its
 * neuron 0 dependent on a's 4), stored (np.savez) or deflated (np.savez_compressed).
 */
function npzDump(name: string, S: number, seed: number, how?: 'savez_compressed'): string {
  const rng = new Rng(seed);
  const a = Float32Array.from({ length: S * 16 }, () => rng.normal());
  const b = Float64Array.from({ length: S * 14 }, () => rng.normal());
  for (let s = 0; s < S; s++) b[s * 14] = a[s * 16 + 4] + 0.3 * b[s * 14];
  const file = path.join(dir, name);
  savez(file, { a: { data: a, shape: [S, 16] }, b: { data: b, shape: [S, 14] } }, how);
  return file;
}

void test('an analyze shard of an np.savez dump (float32 and float64 arrays) reads it by columns: the blocks of the run in memory, no whole read; np.savez_compressed is read whole, alike', async () => {
  const file = npzDump('acts.npz', 300, 6);
  await readsScanThenTiles(file, 30);
  await selectsLikeInMemory(file, npzDump('base.npz', 300, 7));
  // The same arrays deflated: read whole, as before, into the same blocks.
  const deflated = npzDump('deflated.npz', 300, 6, 'savez_compressed');
  const opts: AnalyzeOptions = { threads: 1, miNeuronCap: 12, seed: 3 };
  const shard = { index: 2, count: 4 };
  const whole = await shardOf(shard, () => shardAnalyze(deflated, undefined, opts));
  assert.deepEqual(whole.reads, []);
  assert.deepEqual(whole.whole, [deflated]);
  const stored = await shardOf(shard, () => shardAnalyze(file, undefined, opts));
  assert.deepEqual(stored.whole, []);
  assert.equal(stored.blocks.length, 1);
  assert.deepEqual(whole.blocks, stored.blocks);
});

void test('a shard of a hostile .safetensors dump: the one-line error of the reader, before any data is read', async () => {
  const data = new Uint8Array(64);
  const tensor = (shape: number[], offsets: number[]) => ({
    h: { dtype: 'F32', shape, data_offsets: offsets },
  });
  const huge = encodeSafetensors({}, data);
  new DataView(huge.buffer).setBigUint64(0, 2n ** 60n, true);
  for (const [name, bytes, message] of [
    [
      'past.safetensors',
      encodeSafetensors(tensor([4, 4], [0, 640]), data),
      /within the 64 data bytes.*\[0, 640\]/,
    ],
    [
      'shape.safetensors',
      encodeSafetensors(tensor([1e15, 1e15], [0, 64]), data),
      /needs more than 64 bytes/,
    ],
    [
      'header.safetensors',
      huge,
      /expected a \.safetensors header of at most \d+ bytes, found a length of/,
    ],
    [
      'cube.safetensors',
      encodeSafetensors(tensor([2, 2, 4], [0, 64]), data),
      /array 'h' has shape \[2, 2, 4\]: expected samples x neurons/,
    ],
    [
      'overlap.safetensors',
      encodeSafetensors(
        { ...tensor([2, 4], [0, 32]), g: { dtype: 'F32', shape: [2, 4], data_offsets: [16, 48] } },
        data,
      ),
      /overlapping/,
    ],
  ] as const) {
    const file = path.join(dir, name);
    writeFileSync(file, bytes);
    const got = shardOf({ index: 0, count: 2 }, () =>
      shardAnalyze(file, undefined, { threads: 1 }),
    );
    await assert.rejects(got, (err: Error) => {
      assert.match(err.message, message);
      assert.ok(err.message.startsWith(`${file}: `) && !err.message.includes('\n'), err.message);
      return true;
    });
    assert.deepEqual(seen.reads, [], name);
    assert.deepEqual(seen.whole, [], name);
  }
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
