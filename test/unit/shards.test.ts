// Sharding of the MI pairs: the tiling covers every pair exactly once in small tiles of the
// pair matrix, and a merge of the shards' tiles gives the single run's matrix bit for bit, for
// even and uneven splits, all, sampled and diagonal pairs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fromRowMajor } from '../../src/core/activations';
import { computeMiMatrix, disposeMiPool } from '../../src/core/mi/miMatrix';
import { samplePairs } from '../../src/core/mi/pairs';
import type { ShardPart } from '../../src/core/mi/shards';
import { runMerged, runShard } from '../../src/core/mi/shards';
import {
  TiledPairs,
  listPairs,
  pairCount,
  tilePairs,
  tilePosition,
  tileRange,
  tiling,
} from '../../src/core/mi/tiles';
import { Rng } from '../../src/core/random';

after(() => disposeMiPool());

function sameBits(x: Float64Array, y: Float64Array): boolean {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(
    Buffer.from(y.buffer, y.byteOffset, y.byteLength),
  );
}

/** The columns pairs (a[t], b[t]) touch. */
function touched(list: { a: Int32Array; b: Int32Array }): number {
  const seen = new Set<number>();
  for (let t = 0; t < list.a.length; t++) seen.add(list.a[t]).add(list.b[t]);
  return seen.size;
}

void test('tiling: shard tiles in shard order cover every position once, balanced, each a small tile of the pair matrix', () => {
  for (const m of [0, 1, 2, 3, 7, 30, 100, 257, 1024]) {
    for (const diagonal of [false, true]) {
      const total = (m * (m - 1)) / 2 + (diagonal ? m : 0);
      for (const count of [1, 2, 3, 4, 7, 13, 16, 64]) {
        const t = tiling(m, diagonal, count);
        const all = tilePairs(t, 0, total);
        let next = 0;
        const sizes: number[] = [];
        const columns: number[] = [];
        for (let index = 0; index < count; index++) {
          const { start, end } = tileRange(t, index);
          assert.equal(
            start,
            next,
            `${m}/${count}: shard ${index} starts where ${index - 1} ended`,
          );
          assert.deepEqual(tileRange(tiling(m, diagonal, count), index), { start, end });
          const pairs = tilePairs(t, start, end);
          // A tile enumerated alone is the same run of the whole order.
          assert.deepEqual(pairs.a, all.a.slice(start, end));
          assert.deepEqual(pairs.b, all.b.slice(start, end));
          sizes.push(end - start);
          columns.push(touched(pairs));
          next = end;
        }
        assert.equal(next, total, `${m}/${count}: every position`);
        // Balanced to within a row's pairs (and a few percent when a shard has few pairs).
        for (const size of sizes)
          assert.ok(
            Math.abs(size - total / count) <= 0.05 * (total / count) + m,
            `${m}/${count}: ${size} of ${total}`,
          );
        // Each shard touches about 2 m / sqrt(2 N) columns: its rows and its columns.
        if (count >= 3 && m >= 30) {
          const bound = (2 * m) / Math.sqrt(2 * count);
          assert.ok(
            Math.max(...columns) <= 1.2 * bound + 2,
            `${m}/${count}: ${Math.max(...columns)} columns, bound ${bound}`,
          );
        }
        if (m > 257) continue;
        // Every pair once, i < j (i = j with the diagonal), and its position is where it is listed.
        const seen = new Set<number>();
        for (let p = 0; p < total; p++) {
          const [i, j] = [all.a[p], all.b[p]];
          assert.ok(i < j || (diagonal && i === j), `${i}, ${j}`);
          seen.add(i * m + j);
          assert.equal(tilePosition(t, i, j), p);
        }
        assert.equal(seen.size, total);
      }
    }
  }
  assert.throws(() => tileRange(tiling(10, false, 4), 4), RangeError);
  assert.throws(() => tileRange(tiling(10, false, 4), -1), RangeError);
});

void test('every pair of the engine lists falls in exactly one shard (all and sampled pairs), in the columns of its tile', () => {
  for (const m of [2, 7, 30]) {
    for (const sample of [null, samplePairs(m, Math.ceil((m * (m - 1)) / 5), 3)]) {
      for (const diagonal of [false, true]) {
        const set = { m, diagonal, sample };
        const list = listPairs(set);
        for (const count of [1, 3, 4, 10]) {
          const seen = new Map<string, number>();
          const tiles = new TiledPairs(set, count);
          for (let index = 0; index < count; index++) {
            const block = tiles.block(index);
            // A sampled shard's pairs are those of the sample in its all-pairs tile.
            const tile = tilePairs(tiles.tiling, block.start, block.end);
            const inTile = new Set(Array.from(tile.a, (i, t) => `${i},${tile.b[t]}`));
            for (let t = 0; t < block.a.length; t++) {
              const key = `${block.a[t]},${block.b[t]}`;
              assert.ok(inTile.has(key), `${key} in the tile of shard ${index}`);
              seen.set(key, (seen.get(key) ?? 0) + 1);
            }
          }
          assert.equal(seen.size, list.a.length, `m ${m}, ${count} shards: every pair`);
          assert.ok(
            [...seen.values()].every((n) => n === 1),
            'each once',
          );
          assert.equal(pairCount(set), list.a.length);
        }
      }
    }
  }
});

function acts(S: number, N: number, seed: number) {
  const rng = new Rng(seed);
  const v = Float64Array.from({ length: S * N }, () => rng.normal());
  // Some dependence, so the values are not all near 0.
  for (let s = 0; s < S; s++) v[s * N + 1] = v[s * N] * 0.7 + 0.3 * v[s * N + 1];
  return fromRowMajor(v, S, N);
}

async function merged(
  count: number,
  run: () => Promise<Float64Array>,
): Promise<{ parts: ShardPart[]; values: Float64Array; computed: number[] }> {
  const parts: ShardPart[] = [];
  const computed: number[] = [];
  for (let index = 0; index < count; index++) {
    const { result, blocks } = await runShard({ index, count }, run);
    // Outside its block a shard holds nothing (NaN), so it cannot pass for a whole run.
    computed.push(result.filter((x) => !Number.isNaN(x)).length);
    parts.push({ file: `part${index}`, shard: { index, count }, blocks });
  }
  return { parts, values: await runMerged(parts, run), computed };
}

void test('merged shards equal the single run bit for bit: N = 7 (21 pairs) in 1, 2, 4 and 5 shards, sampled pairs, diagonal', async () => {
  const a = acts(200, 7, 4);
  for (const opts of [
    { threads: 2 },
    { threads: 1, pairs: 9, seed: 5 },
    { threads: 2, diagonal: true, columns: [0, 1, 3, 6] },
  ]) {
    const single = (await computeMiMatrix(a, opts)).values;
    for (const count of [1, 2, 4, 5]) {
      const got = await merged(count, async () => (await computeMiMatrix(a, opts)).values);
      assert.ok(sameBits(got.values, single), `${JSON.stringify(opts)}, ${count} shards`);
      // Each shard's matrix holds only its own pairs (both triangles).
      const pairs = single.filter((x) => !Number.isNaN(x)).length;
      assert.equal(
        got.computed.reduce((s, n) => s + n, 0),
        pairs,
      );
    }
  }
});

void test('merged tiles equal the single run bit for bit: 24 neurons in 3, 7 and 16 shards, all and sampled pairs', async () => {
  const a = acts(150, 24, 6);
  for (const opts of [{ threads: 2 }, { threads: 2, pairs: 100, seed: 1 }]) {
    const single = (await computeMiMatrix(a, opts)).values;
    for (const count of [3, 7, 16]) {
      const got = await merged(count, async () => (await computeMiMatrix(a, opts)).values);
      assert.ok(sameBits(got.values, single), `${JSON.stringify(opts)}, ${count} shards`);
    }
  }
});

void test('a merge refuses a job other than the one the parts hold', async () => {
  const x = acts(150, 5, 1);
  const y = acts(150, 5, 2);
  const { parts } = await merged(2, async () => (await computeMiMatrix(x, { threads: 1 })).values);
  await assert.rejects(
    runMerged(parts, () => computeMiMatrix(y, { threads: 1 })),
    /part0: expected a part of MI job 1 as computed now/,
  );
  await assert.rejects(
    runMerged(parts, async () => {
      await computeMiMatrix(x, { threads: 1 });
      await computeMiMatrix(x, { threads: 1 });
    }),
    /more MI matrices than the parts hold/,
  );
});
