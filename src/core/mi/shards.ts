import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { UserError } from '../errors';
import type { KsgEstimator } from '../measures/ksgKernel';
import type { KsgKernelName } from './kernel';
import { slowerKernel } from './kernel';

/**
 * Sharding of the MI pair work. A job's pairs (as computeMiMatrix lists them: the off-diagonal
 * pairs in row order, all or sampled, then the diagonal when asked) are split into `count`
 * balanced contiguous blocks; shard `index` computes only its block of every MI matrix the
 * command computes. A merge re-runs the command with the blocks supplied instead of computed,
 * so everything else (entropy, ties, summaries, densities) is computed once, at the merge, by
 * the same code as a single run, and the result is the single run's bit for bit. A shard of
 * `measure` reads only the columns of its block from the dump (src/core/dumps/dumpShard.ts).
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
  a: Int32Array;
  b: Int32Array;
}

/** Pair values, with the kernel that computed them (the slowest, if several did). */
export interface PairValues {
  values: Float64Array;
  kernel: KsgKernelName;
}

/** Computes the MI of the given pairs (indices into the job's columns) in the worker pool. */
export type RunPairs = (a: Int32Array, b: Int32Array) => Promise<PairValues>;

/**
 * Replaces the pool run of computeMiMatrix: returns the values of the pairs [start, start +
 * values.length) of `job` (a shard's block; a merge's: every pair); the others read NaN.
 */
export type PairHook = (job: PairJobView, run: RunPairs) => Promise<PairValues & { start: number }>;

const hookStore = new AsyncLocalStorage<{ hook: PairHook; shard?: ShardSpec }>();

/** The hook of the running shard or merge, if any (read by computeMiMatrix). */
export function currentPairHook(): PairHook | undefined {
  return hookStore.getStore()?.hook;
}

/** The shard running (inside {@link runShard}), if any: not during a merge. */
export function currentShard(): ShardSpec | undefined {
  return hookStore.getStore()?.shard;
}

/** The block [start, end) of `total` pairs shard `index` of `count` computes. */
export function shardRange(total: number, shard: ShardSpec): { start: number; end: number } {
  const { index, count } = shard;
  if (
    !Number.isInteger(count) ||
    count < 1 ||
    !Number.isInteger(index) ||
    index < 0 ||
    index >= count
  )
    throw new RangeError(`shard: expected 0 <= index < count, found ${index}/${count}`);
  // total * index stays below 2^53 for any realistic job (10^10 pairs x 10^5 shards).
  return {
    start: Math.floor((total * index) / count),
    end: Math.floor((total * (index + 1)) / count),
  };
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
 * pairs and the estimator.
 */
export function jobFingerprint(
  job: Omit<PairJobView, 'fingerprint'>,
  columns: readonly Uint8Array[],
): string {
  const h = createHash('sha256');
  h.update(`${job.samples}/${job.k}/${job.estimator}/${job.a.length}/${columns.length}/`);
  for (const c of columns) h.update(c);
  h.update(new Uint8Array(job.a.buffer, job.a.byteOffset, job.a.byteLength));
  h.update(new Uint8Array(job.b.buffer, job.b.byteOffset, job.b.byteLength));
  return h.digest('hex');
}

/** One MI job's block in a part: which job, its size, and the values of [start, end). */
export interface ShardBlock {
  fingerprint: string;
  total: number;
  start: number;
  end: number;
  /** The kernel that computed the values. */
  kernel: KsgKernelName;
  values: Float64Array;
}

/**
 * Runs `fn` (a whole command) computing only shard `shard`'s block of each MI job it starts,
 * in order; the other pairs read NaN. Returns fn's result and the blocks.
 */
export async function runShard<T>(
  shard: ShardSpec,
  fn: () => Promise<T>,
): Promise<{ result: T; blocks: ShardBlock[] }> {
  const blocks: ShardBlock[] = [];
  const hook: PairHook = async (job, run) => {
    const total = job.a.length;
    const { start, end } = shardRange(total, shard);
    const { values, kernel } = await run(job.a.subarray(start, end), job.b.subarray(start, end));
    blocks.push({ fingerprint: job.fingerprint, total, start, end, kernel, values });
    return { start, values, kernel };
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
    const total = job.a.length;
    const values = new Float64Array(total);
    let kernel = parts[0].blocks[j].kernel;
    for (const part of parts) {
      const block = part.blocks[j];
      if (block.fingerprint !== fingerprint || block.total !== total) {
        throw new UserError(
          `${part.file}: expected a part of MI job ${j + 1} as computed now (${total} pairs), found another job's (${block.total} pairs): the inputs or options changed since the shards ran`,
        );
      }
      const want = shardRange(total, part.shard);
      if (block.start !== want.start || block.end !== want.end) {
        throw new UserError(
          `${part.file}: expected pairs [${want.start}, ${want.end}) of shard ${part.shard.index}/${part.shard.count}, found [${block.start}, ${block.end})`,
        );
      }
      values.set(block.values, block.start);
      kernel = slowerKernel(kernel, block.kernel);
    }
    return { start: 0, values, kernel };
  };
  const result = await hookStore.run({ hook }, fn);
  if (next !== jobs) {
    throw new UserError(
      `merge: the parts hold ${jobs} MI matrices, the command computed ${next}; were they made by another version of memlens?`,
    );
  }
  return result;
}
