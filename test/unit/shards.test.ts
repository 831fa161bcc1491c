// Sharding of the MI pairs: the split covers every pair exactly once, and a merge of the
// shards' blocks gives the single run's matrix bit for bit, for even and uneven splits.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fromRowMajor } from '../../src/core/activations';
import { computeMiMatrix, disposeMiPool } from '../../src/core/mi/miMatrix';
import { allPairs, samplePairs } from '../../src/core/mi/pairs';
import type { ShardPart } from '../../src/core/mi/shards';
import { runMerged, runShard, shardRange } from '../../src/core/mi/shards';
import { Rng } from '../../src/core/random';

after(() => disposeMiPool());

function sameBits(x: Float64Array, y: Float64Array): boolean {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(
    Buffer.from(y.buffer, y.byteOffset, y.byteLength),
  );
}

void test('shardRange: contiguous blocks in shard order, sizes within one, covering [0, total)', () => {
  for (const total of [0, 1, 2, 5, 21, 100, 1001, 294_528]) {
    for (const count of [1, 2, 3, 4, 7, 13, 64]) {
      let next = 0;
      const sizes: number[] = [];
      for (let index = 0; index < count; index++) {
        const { start, end } = shardRange(total, { index, count });
        assert.equal(
          start,
          next,
          `${total}/${count}: shard ${index} starts where ${index - 1} ended`,
        );
        assert.deepEqual(shardRange(total, { index, count }), { start, end }, 'deterministic');
        sizes.push(end - start);
        next = end;
      }
      assert.equal(next, total);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${total}/${count}: balanced`);
    }
  }
  assert.throws(() => shardRange(10, { index: 4, count: 4 }), RangeError);
  assert.throws(() => shardRange(10, { index: -1, count: 4 }), RangeError);
});

void test('every pair of the engine lists falls in exactly one shard (all and sampled pairs)', () => {
  for (const m of [2, 7, 30]) {
    for (const list of [allPairs(m), samplePairs(m, Math.ceil((m * (m - 1)) / 5), 3)]) {
      for (const count of [1, 3, 4, 10]) {
        const seen = new Map<string, number>();
        for (let index = 0; index < count; index++) {
          const { start, end } = shardRange(list.a.length, { index, count });
          for (let t = start; t < end; t++) {
            const key = `${list.a[t]},${list.b[t]}`;
            seen.set(key, (seen.get(key) ?? 0) + 1);
          }
        }
        assert.equal(seen.size, list.a.length, `m ${m}, ${count} shards: every pair`);
        assert.ok(
          [...seen.values()].every((n) => n === 1),
          'each once',
        );
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
