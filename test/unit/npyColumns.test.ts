// NpyColumns reads columns of an S x N .npy straight from the file: the values equal the
// matrix's own columns (float32 and float64, a narrow band or columns spread over the row,
// over several read blocks, rows dropped by a mask), and a broken file is a one-line error
// naming it. shardDumpMi, the column-reading shard of measure, reads only the columns its
// tile of pairs touches and computes the values a single run computes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fromRowMajor } from '../../src/core/activations';
import { scanDump, shardDumpMi, touchedColumns } from '../../src/core/dumps/dumpShard';
import { UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { NpyColumns } from '../../src/core/io/npyColumns';
import { neuronMiMeasurable } from '../../src/core/measures/ties';
import { computeMiMatrix, disposeMiPool } from '../../src/core/mi/miMatrix';
import { runShard } from '../../src/core/mi/shards';
import { TiledPairs } from '../../src/core/mi/tiles';
import { Rng } from '../../src/core/random';

const dir = mkdtempSync(path.join(tmpdir(), 'memlens-columns-'));
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await disposeMiPool();
});

function matrix(seed: number, S: number, N: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: S * N }, () => rng.normal());
}

/** Column c of the row-major S x N values, the rows `keep` marks. */
function expectedColumn(v: ArrayLike<number>, N: number, c: number, keep: Uint8Array): number[] {
  const out: number[] = [];
  for (let s = 0; s < keep.length; s++) if (keep[s]) out.push(v[s * N + c]);
  return out;
}

void test('read: the columns of float32 and float64 files, narrow or spread, masked rows', () => {
  // 3,000 x 800 float32 is 9.6 MB: whole rows come in two blocks of 8 MiB at the most.
  for (const [S, N, dtype] of [
    [3000, 800, 'f4'],
    [37, 11, 'f8'],
  ] as const) {
    const v = matrix(S, S, N);
    const stored = dtype === 'f4' ? Float32Array.from(v) : v;
    const file = path.join(dir, `m${S}.npy`);
    writeFileSync(file, encodeNpy(stored, [S, N]));
    const dump = NpyColumns.open(file);
    try {
      assert.deepEqual(
        [dump.samples, dump.neurons, dump.dtype],
        [S, N, dtype === 'f4' ? 'float32' : 'float64'],
      );
      const all = new Uint8Array(S).fill(1);
      const some = all.map((_, s) => (s % 3 === 1 ? 0 : 1));
      for (const columns of [
        [0],
        [N - 1],
        [2, 3, 4, 5],
        [0, 5, N - 1],
        Array.from({ length: N }, (_, i) => i),
      ]) {
        for (const keep of [undefined, some]) {
          const got = dump.read(columns, keep);
          const rows = keep ?? all;
          const R = rows.reduce((n, x) => n + x, 0);
          assert.equal(got.length, columns.length * R);
          columns.forEach((c, i) =>
            assert.deepEqual(
              Array.from(got.subarray(i * R, (i + 1) * R)),
              expectedColumn(stored, N, c, rows),
              `${dtype} column ${c} of [${columns.length} columns]${keep ? ', masked' : ''}`,
            ),
          );
        }
      }
    } finally {
      dump.close();
    }
  }
});

void test('open: a broken or foreign file is one line naming it', () => {
  const cases: [string, Uint8Array | string, RegExp][] = [
    [
      'cut.npy',
      encodeNpy(new Float32Array(12), [4, 3]).subarray(0, 150),
      /cut\.npy: truncated \.npy data: shape \(4, 3\) needs 48 bytes, found \d+$/,
    ],
    [
      'flat.npy',
      encodeNpy(new Float32Array(4), [4]),
      /flat\.npy: expected a 2-D S x N array \(examples x neurons\), found 1-D shape \(4,\)$/,
    ],
    [
      'ints.npy',
      Buffer.from(
        Buffer.from(encodeNpy(new Float32Array(4), [2, 2]))
          .toString('latin1')
          .replace('<f4', '<i4'),
        'latin1',
      ),
      /ints\.npy: unsupported dtype '<i4' \(int32\): expected float32 or float64 activations$/,
    ],
    ['text.npy', 'not a npy at all', /text\.npy: expected a \.npy file/],
    ['none.npy', '', /none\.npy: expected a \.npy file/],
  ];
  for (const [name, bytes, message] of cases) {
    const file = path.join(dir, name);
    writeFileSync(file, bytes);
    assert.throws(
      () => NpyColumns.open(file),
      (err: unknown) =>
        err instanceof UserError && message.test(err.message) && !err.message.includes('\n'),
      name,
    );
  }
  assert.throws(
    () => NpyColumns.open(path.join(dir, 'missing.npy')),
    /missing\.npy: cannot read the file \(ENOENT\)/,
  );
});

void test('a shard of the dump reads only the columns of its pairs and computes what a single run does', async () => {
  const S = 300;
  const N = 40;
  const v = matrix(7, S, N);
  // A constant neuron (not MI-measurable) and a NaN row dropped under dropNonfinite.
  for (let s = 0; s < S; s++) v[s * N + 3] = 1.5;
  v[17 * N + 9] = NaN;
  const file = path.join(dir, 'shard.npy');
  writeFileSync(file, encodeNpy(Float32Array.from(v), [S, N]));
  const dump = NpyColumns.open(file);
  try {
    assert.throws(
      () => scanDump(dump, { k: 3, estimator: 'ksg', dropNonfinite: false }),
      /expected finite values, found 1 NaN\/Inf in neuron \(column\) 9;/,
    );
    const scan = scanDump(dump, { k: 3, estimator: 'ksg', dropNonfinite: true });
    assert.equal(scan.samples, S - 1);
    // The independent single run: the matrix in memory without row 17.
    const rows = Float32Array.from(v).filter((_, i) => Math.floor(i / N) !== 17);
    const acts = fromRowMajor(rows, S - 1, N);
    assert.deepEqual(scan.measurable, neuronMiMeasurable(acts, 3, 'ksg'));
    assert.equal(scan.measurable[3], false);
    const columns = Array.from({ length: N }, (_, c) => c).filter((c) => c % 2 === 1 && c !== 3);
    const single = await computeMiMatrix(acts, { columns, threads: 1 });
    const reads: number[][] = [];
    const read = dump.read.bind(dump);
    dump.read = (cols, keep) => {
      reads.push([...cols]);
      return read(cols, keep);
    };
    const m = columns.length;
    const tiles = new TiledPairs({ m, diagonal: false, sample: null }, 4);
    for (const index of [0, 3]) {
      reads.length = 0;
      const shard = { index, count: 4 };
      const { blocks } = await runShard(shard, () =>
        shardDumpMi(dump, scan, columns, {
          k: 3,
          estimator: 'ksg',
          pairs: null,
          seed: 0,
          threads: 1,
        }),
      );
      const { a, b } = tiles.block(index);
      const touched = touchedColumns(a, b, m);
      assert.deepEqual(
        reads,
        [touched.map((t) => columns[t])],
        'one read, of the touched columns only',
      );
      // A tile of 4: about 2 m / sqrt(8) of the m columns.
      assert.ok(touched.length <= Math.ceil(0.8 * m), `${touched.length} of ${m} columns`);
      assert.equal(blocks.length, 1);
      for (let t = 0; t < a.length; t++)
        assert.equal(blocks[0].values[t], single.values[a[t] * m + b[t]], `pair ${t}`);
      // The block a shard of the run in memory writes: the merge takes either.
      const inMemory = await runShard(shard, () => computeMiMatrix(acts, { columns, threads: 1 }));
      assert.deepEqual(blocks, inMemory.blocks);
    }
  } finally {
    dump.close();
  }
});
