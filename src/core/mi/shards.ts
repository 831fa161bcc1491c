import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { UserError } from '../errors';
import type { KsgEstimator } from '../measures/ksgKernel';
import type { KsgKernelName } from './kernel';
import { slowerKernel } from './kernel';
import type { PairList } from './pairs';
import type { PairSet } from './tiles';
import { TiledPairs, pairCount } from './tiles';

/**
 * Sharding of the MI pair work. A job's pairs (all pairs of its m columns or a seeded sample,
 * and the diagonal when asked) are tiled among `count` shards (./tiles.ts): shard `index`
 * computes only the pairs of its tile of every MI matrix the command computes, and enumerates
 * only those. A merge re-runs the command with the tiles supplied instead of computed, so
 * everything else (entropy, ties, summaries, densities) is computed once, at the merge, by the
 * same code as a single run, and the result is the single run's bit for bit. A shard of
 * `measure`, `analyze` or `compare` reads only the columns of its tile from an .npy dump (or a
 * model's capture to one: src/core/dumps/dumpShard.ts, src/core/analysis/shardAnalysis.ts).
 */

/** Shard `index` (0-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** One MI job as computeMiMatrix hands it to the pool. */
export interface PairJobView {
  samples: number;
  k: number;
  estimator: KsgEstimator;
  /** {@link jobFingerprint} of the job. */
  fingerprint: string;
  /** Its pairs, described rather than listed (a shard enumerates only its own). */
  pairs: PairSet;
}

/** Pair values, with the kernel that computed them (the slowest, if several did). */
export interface PairValues {
  values: Float64Array;
  kernel: KsgKernelName;
}

/** Computes the MI of the given pairs (indices into the job's columns) in the worker pool. */
export type RunPairs = (a: Int32Array, b: Int32Array) => Promise<PairValues>;

/**
 * Replaces the pool run of computeMiMatrix: returns the values of the pairs (a[t], b[t]) of
 * `job` (a shard's tile; a merge's: every pair); the others read NaN.
 */
export type PairHook = (job: PairJobView, run: RunPairs) => Promise<PairValues & PairList>;

const hookStore = new AsyncLocalStorage<{ hook: PairHook; shard?: ShardSpec; merge?: true }>();

/** The hook of the running shard or merge, if any (read by computeMiMatrix). */
export function currentPairHook(): PairHook | undefined {
  return hookStore.getStore()?.hook;
}

/** Whether a merge is running (inside {@link runMerged}): MI values come from the parts. */
export function inMerge(): boolean {
  return hookStore.getStore()?.merge === true;
}

/** The shard running (inside {@link runShard}), if any: not during a merge. */
export function currentShard(): ShardSpec | undefined {
  return hookStore.getStore()?.shard;
}

/** The SHA-256 of one column's S float64 values, as {@link jobFingerprint} takes them. */
export function columnDigest(values: Float64Array): Uint8Array {
  return createHash('sha256')
    .update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .digest();
}

/**
 * A digest of what decides a job's pair values: the data (the {@link columnDigest} of each of
 * its m columns, in order, so that a shard holding only some columns can compute it), the
 * pairs (all of them, or the sample's list) and the estimator.
 */
export function jobFingerprint(
  job: Omit<PairJobView, 'fingerprint'>,
  columns: readonly Uint8Array[],
): string {
  const { m, diagonal, sample } = job.pairs;
  const h = createHash('sha256');
  h.update(`${job.samples}/${job.k}/${job.estimator}/${m}/${diagonal}/${columns.length}/`);
  for (const c of columns) h.update(c);
  if (sample === null) h.update('all');
  else {
    h.update(`sample/${sample.a.length}/`);
    h.update(new Uint8Array(sample.a.buffer, sample.a.byteOffset, sample.a.byteLength));
    h.update(new Uint8Array(sample.b.buffer, sample.b.byteOffset, sample.b.byteLength));
  }
  return h.digest('hex');
}

/**
 * One MI job's block in a part: which job, its size (pairs), the shard's tile (positions
 * [start, end) of the tiling, ./tiles.ts) and the values of the job's pairs in it, in
 * position order: `pairs` of them (end - start, or a sample's pairs in the tile).
 */
export interface ShardBlock {
  fingerprint: string;
  total: number;
  start: number;
  end: number;
  pairs: number;
  /** The kernel that computed the values. */
  kernel: KsgKernelName;
  values: Float64Array;
}

/**
 * Runs `fn` (a whole command) computing only shard `shard`'s tile of each MI job it starts,
 * in order; the other pairs read NaN. Returns fn's result and the blocks.
 */
export async function runShard<T>(
  shard: ShardSpec,
  fn: () => Promise<T>,
): Promise<{ result: T; blocks: ShardBlock[] }> {
  const blocks: ShardBlock[] = [];
  const hook: PairHook = async (job, run) => {
    const { start, end, a, b } = new TiledPairs(job.pairs, shard.count).block(shard.index);
    const { values, kernel } = await run(a, b);
    const total = pairCount(job.pairs);
    blocks.push({
      fingerprint: job.fingerprint,
      total,
      start,
      end,
      pairs: a.length,
      kernel,
      values,
    });
    return { a, b, values, kernel };
  };
  const result = await hookStore.run({ hook, shard }, fn);
  return { result, blocks };
}

/** One part as the merge sees it: where it came from, its shard and its blocks. */
export interface ShardPart {
  file: string;
  shard: ShardSpec;
  blocks: ShardBlock[];
}

/**
 * Runs `fn` (the command the parts came from) with every MI job's values taken from the
 * parts instead of computed. The parts must be shards 0..count-1 of the same command (the
 * caller checks); each job must match the parts' job of the same position, by fingerprint.
 */
export async function runMerged<T>(parts: ShardPart[], fn: () => Promise<T>): Promise<T> {
  const jobs = parts[0]?.blocks.length ?? 0;
  let next = 0;
  const hook: PairHook = async (job) => {
    const j = next++;
    if (j >= jobs) {
      throw new UserError(
        `merge: the command computes more MI matrices than the parts hold (${jobs}); were they made by another version of memlens?`,
      );
    }
    const { fingerprint } = job;
    const total = pairCount(job.pairs);
    const a = new Int32Array(total);
    const b = new Int32Array(total);
    const values = new Float64Array(total);
    const tiles = new TiledPairs(job.pairs, parts[0].shard.count);
    let kernel = parts[0].blocks[j].kernel;
    let at = 0;
    for (const part of parts) {
      const block = part.blocks[j];
      if (block.fingerprint !== fingerprint || block.total !== total) {
        throw new UserError(
          `${part.file}: expected a part of MI job ${j + 1} as computed now (${total} pairs), found another job's (${block.total} pairs): the inputs or options changed since the shards ran`,
        );
      }
      const want = tiles.block(part.shard.index);
      if (block.start !== want.start || block.end !== want.end || block.pairs !== want.a.length) {
        throw new UserError(
          `${part.file}: expected the ${want.a.length} pairs of tile [${want.start}, ${want.end}) of shard ${part.shard.index}/${part.shard.count}, found ${block.pairs} of [${block.start}, ${block.end})`,
        );
      }
      a.set(want.a, at);
      b.set(want.b, at);
      values.set(block.values, at);
      at += want.a.length;
      kernel = slowerKernel(kernel, block.kernel);
    }
    return { a, b, values, kernel };
  };
  const result = await hookStore.run({ hook, merge: true }, fn);
  if (next !== jobs) {
    throw new UserError(
      `merge: the parts hold ${jobs} MI matrices, the command computed ${next}; were they made by another version of memlens?`,
    );
  }
  return result;
}
