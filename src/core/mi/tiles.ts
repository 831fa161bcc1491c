import type { PairList } from './pairs';
import { allPairs } from './pairs';

/**
 * The tiling of an MI job's pairs among `count` shards. The pairs (i, j), i < j (and i = j
 * when the job fills the diagonal), of m columns are cut into strips of rows, each strip's
 * height chosen so that it holds a whole number of shards' worth of pairs and its shards'
 * blocks come out about as tall as they are wide. Inside a strip the pairs are ordered column
 * by column (j ascending, then i); each of its shards takes a contiguous run of that order: a
 * tile of rows [r0, r1) x columns [j0, j1), cut mid-column at its two ends. A shard of m
 * columns in N then touches about 2 m / sqrt(2 N) columns (its rows and its columns) instead
 * of almost all of them, and enumerates its own pairs only. Positions number the pairs strip
 * by strip in that order; a shard's block is a range of positions. Everything is integer
 * arithmetic: every shard and the merge compute the same tiling.
 */

/** Rows [r0, r1) of the pair matrix, holding positions [start, start + pairs). */
export interface Strip {
  r0: number;
  r1: number;
  start: number;
  pairs: number;
  /** The first shard of the strip; its `shards` shards split it in balanced runs. */
  firstShard: number;
  shards: number;
}

export interface Tiling {
  m: number;
  diagonal: boolean;
  count: number;
  strips: Strip[];
}

/** Pairs of strip rows [r0, r0 + h) in its columns before column `j`: sum of its heights. */
function before(m: number, r0: number, h: number, diagonal: boolean, j: number): number {
  // Column j' holds min(h, j' - r0 + d) rows (d = 1 with the diagonal, none before r0).
  const d = Math.min(m, j) - 1 - r0 + (diagonal ? 1 : 0);
  if (d <= 0) return 0;
  if (d <= h) return (d * (d + 1)) / 2;
  return (h * (h + 1)) / 2 + (d - h) * h;
}

/** The tiling of the pairs of m columns (the diagonal too, when asked) among `count` shards. */
export function tiling(m: number, diagonal: boolean, count: number): Tiling {
  const rowPairs = (i: number) => m - 1 - i + (diagonal ? 1 : 0);
  const strips: Strip[] = [];
  let pairsLeft = (m * (m - 1)) / 2 + (diagonal ? m : 0);
  let left = count;
  let r = 0;
  let start = 0;
  while (left > 0) {
    // Shards of the strip: round((m - r) / sqrt(L)), L the pairs a shard has left to take,
    // so that a shard's block is about sqrt(L) rows by sqrt(L) columns.
    const width = m - r;
    let n = 1;
    while (n < left && 4 * width * width * left >= (2 * n + 1) ** 2 * pairsLeft) n++;
    // The rows whose pairs come nearest to n shards' worth (at least one row; the rest for
    // the last strip).
    let r1 = r + 1;
    let pairs = rowPairs(r);
    if (n === left || r1 >= m) {
      r1 = m;
      pairs = pairsLeft;
      n = left;
    } else {
      while (r1 < m && (2 * pairs + rowPairs(r1)) * left < 2 * n * pairsLeft)
        pairs += rowPairs(r1++);
      if (r1 >= m) n = left;
    }
    strips.push({ r0: r, r1, start, pairs, firstShard: count - left, shards: n });
    start += pairs;
    pairsLeft -= pairs;
    left -= n;
    r = r1;
  }
  return { m, diagonal, count, strips };
}

/** The strip holding shard `index` (or, with `row`, the strip of row `row`). */
function stripOf(t: Tiling, key: (s: Strip) => number, value: number): Strip {
  let lo = 0;
  let hi = t.strips.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (key(t.strips[mid]) <= value) lo = mid;
    else hi = mid - 1;
  }
  return t.strips[lo];
}

/** The positions [start, end) of shard `index`'s block. */
export function tileRange(t: Tiling, index: number): { start: number; end: number } {
  if (!Number.isInteger(index) || index < 0 || index >= t.count)
    throw new RangeError(`shard: expected 0 <= index < count, found ${index}/${t.count}`);
  const s = stripOf(t, (x) => x.firstShard, index);
  const k = index - s.firstShard;
  return {
    start: s.start + Math.floor((s.pairs * k) / s.shards),
    end: s.start + Math.floor((s.pairs * (k + 1)) / s.shards),
  };
}

/** The position of pair (i, j), i < j (i = j on a tiling with the diagonal). */
export function tilePosition(t: Tiling, i: number, j: number): number {
  const s = stripOf(t, (x) => x.r0, i);
  return s.start + before(t.m, s.r0, s.r1 - s.r0, t.diagonal, j) + (i - s.r0);
}

/** The pairs at positions [start, end), in position order. */
export function tilePairs(t: Tiling, start: number, end: number): PairList {
  const a = new Int32Array(Math.max(0, end - start));
  const b = new Int32Array(a.length);
  let at = 0;
  let pos = start;
  while (pos < end) {
    const s = stripOf(t, (x) => x.start, pos);
    const h = s.r1 - s.r0;
    const local = pos - s.start;
    // The column holding `local`: the last j with before(j) <= local.
    let lo = s.r0;
    let hi = t.m - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (before(t.m, s.r0, h, t.diagonal, mid) <= local) lo = mid;
      else hi = mid - 1;
    }
    let skip = local - before(t.m, s.r0, h, t.diagonal, lo);
    const stop = Math.min(end, s.start + s.pairs);
    for (let j = lo; pos < stop; j++) {
      const rows = Math.min(h, j - s.r0 + (t.diagonal ? 1 : 0));
      for (let i = s.r0 + skip; i < s.r0 + rows && pos < stop; i++, pos++, at++) {
        a[at] = i;
        b[at] = j;
      }
      skip = 0;
    }
  }
  return { a, b };
}

/**
 * A job's pairs as the shards of a tiling take them: all pairs of m columns (and the diagonal,
 * when asked), or a sample of them (off-diagonal pairs, the diagonal appended when asked: every
 * shard draws the whole sample, then keeps the pairs of its tile, in position order).
 */
export interface PairSet {
  m: number;
  diagonal: boolean;
  /** The sampled off-diagonal pairs, or null: all of them. */
  sample: PairList | null;
}

/** Pairs in the job. */
export function pairCount(set: PairSet): number {
  const off = set.sample === null ? (set.m * (set.m - 1)) / 2 : set.sample.a.length;
  return off + (set.diagonal ? set.m : 0);
}

/** Every pair of the job as computeMiMatrix runs them unsharded: off-diagonal, then diagonal. */
export function listPairs(set: PairSet): PairList {
  const off = set.sample ?? allPairs(set.m);
  const nOff = off.a.length;
  const nDiag = set.diagonal ? set.m : 0;
  const a = new Int32Array(nOff + nDiag);
  const b = new Int32Array(nOff + nDiag);
  a.set(off.a);
  b.set(off.b);
  for (let i = 0; i < nDiag; i++) a[nOff + i] = b[nOff + i] = i;
  return { a, b };
}

/** One shard's block: its range of positions and the job's pairs in it, in position order. */
export interface TileBlock extends PairList {
  start: number;
  end: number;
}

/** The blocks of a job's shards under the tiling for `count` shards. */
export class TiledPairs {
  readonly tiling: Tiling;
  /** A sample's pairs sorted by position, with their positions (computed once). */
  private sorted: (PairList & { positions: Float64Array }) | null = null;

  constructor(
    readonly set: PairSet,
    count: number,
  ) {
    this.tiling = tiling(set.m, set.diagonal, count);
  }

  block(index: number): TileBlock {
    const { start, end } = tileRange(this.tiling, index);
    if (this.set.sample === null) return { start, end, ...tilePairs(this.tiling, start, end) };
    const s = this.sortedSample();
    const lo = lowerBound(s.positions, start);
    const hi = lowerBound(s.positions, end);
    return { start, end, a: s.a.slice(lo, hi), b: s.b.slice(lo, hi) };
  }

  private sortedSample(): PairList & { positions: Float64Array } {
    if (this.sorted !== null) return this.sorted;
    const list = listPairs(this.set);
    const positions = Float64Array.from(list.a, (i, t) => tilePosition(this.tiling, i, list.b[t]));
    const order = new Uint32Array(positions.length)
      .map((_, t) => t)
      .sort((x, y) => positions[x] - positions[y]);
    this.sorted = {
      positions: Float64Array.from(order, (t) => positions[t]),
      a: Int32Array.from(order, (t) => list.a[t]),
      b: Int32Array.from(order, (t) => list.b[t]),
    };
    return this.sorted;
  }
}

/** The first index of ascending `xs` whose value is >= x. */
function lowerBound(xs: Float64Array, x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
