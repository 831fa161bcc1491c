import { Rng } from '../random';

/** The pairs of a job as two parallel index arrays into the measured columns. */
export interface PairList {
  a: Int32Array;
  b: Int32Array;
}

/** Every pair a < b of m columns, row by row: (0,1), (0,2), ..., (m-2, m-1). */
export function allPairs(m: number): PairList {
  const total = (m * (m - 1)) / 2;
  const a = new Int32Array(total);
  const b = new Int32Array(total);
  let t = 0;
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      a[t] = i;
      b[t] = j;
      t++;
    }
  }
  return { a, b };
}

/**
 * `count` distinct pairs a < b of m columns, drawn uniformly without replacement from the
 * m(m-1)/2 pairs with the seeded generator (Floyd's algorithm), listed in row order.
 * Returns every pair when count >= m(m-1)/2.
 */
export function samplePairs(m: number, count: number, seed: number): PairList {
  const total = (m * (m - 1)) / 2;
  if (count >= total) return allPairs(m);
  const rng = new Rng(seed);
  const chosen = new Set<number>();
  for (let j = total - count; j < total; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  const linear = Float64Array.from(chosen).sort();
  const a = new Int32Array(linear.length);
  const b = new Int32Array(linear.length);
  // Walk the rows: row i holds linear indices [rowStart, rowStart + m - 1 - i).
  let i = 0;
  let rowStart = 0;
  for (let t = 0; t < linear.length; t++) {
    const idx = linear[t];
    while (idx >= rowStart + (m - 1 - i)) {
      rowStart += m - 1 - i;
      i++;
    }
    a[t] = i;
    b[t] = i + 1 + (idx - rowStart);
  }
  return { a, b };
}
