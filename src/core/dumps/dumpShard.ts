// A shard of `memlens measure` on an .npy dump that never holds the whole matrix: one pass
// over the dump, a band of columns at a time, finds what the plan and the neuron cap need of
// every neuron (finite values, MI-measurable or not) and the digest of each column; then the
// shard reads only the columns its tile of pairs touches and computes that tile. The merge
// re-runs the whole command (src/core/mi/shards.ts), so the shard's part must hold the values
// and fingerprint a single run computes: the same rows (NaN/Inf rows dropped alike), the same
// columns, the same pairs.
import { valueRange } from '../measures/entropy';
import type { KsgEstimator } from '../measures/ksgKernel';
import { miMeasurable } from '../measures/ties';
import { checkEnoughRows, nonfiniteError } from '../io/activationsNpy';
import type { NpyColumns } from '../io/npyColumns';
import type { MiRunnerOptions } from '../mi/miMatrix';
import { miPairSet, miRunner } from '../mi/miMatrix';
import type { PairJobView } from '../mi/shards';
import { columnDigest, currentPairHook, jobFingerprint } from '../mi/shards';

/** Columns of an S x N matrix read from a file (an .npy: NpyColumns, or a view of one). */
export type ColumnSource = Pick<NpyColumns, 'file' | 'samples' | 'neurons' | 'read'>;

/** Bytes of one band of columns in the scan (float64, every row). */
export const SCAN_BYTES = 64 * 2 ** 20;

/** What the scan of a dump found: the rows kept, and per neuron what the MI plan needs. */
export interface DumpScan {
  /** Rows kept (all of them, or those without NaN/Inf under dropNonfinite). */
  samples: number;
  droppedRows: number;
  /** The rows kept (1) when some were dropped. */
  keep?: Uint8Array;
  /** Whether each neuron is MI-measurable (`miMeasurable` in measures/ties.ts). */
  measurable: boolean[];
  /** The {@link columnDigest} of each measurable neuron's kept values (empty for the others). */
  digests: Uint8Array[];
  /** Each neuron's smallest and largest kept value, at 2 n and 2 n + 1. */
  ranges: Float64Array;
}

/**
 * Calls `fn` on each band of about 64 MiB of columns of the dump, in column order: the
 * columns from `first`, neuron-major, R values each (R the rows `keep` marks, or all).
 */
export function forEachBand(
  dump: ColumnSource,
  keep: Uint8Array | undefined,
  fn: (first: number, width: number, data: Float64Array) => void,
): void {
  const band = Math.max(1, Math.floor(SCAN_BYTES / (8 * dump.samples)));
  for (let c0 = 0; c0 < dump.neurons; c0 += band) {
    const width = Math.min(band, dump.neurons - c0);
    fn(
      c0,
      width,
      dump.read(
        Array.from({ length: width }, (_, i) => c0 + i),
        keep,
      ),
    );
  }
}

/**
 * Scans the dump a band of columns at a time (about 64 MiB each). NaN/Inf values are refused
 * as readActivationsNpy refuses them, or with `dropNonfinite` their rows are dropped (a
 * second pass then scans the kept rows); fewer than k + 1 rows are refused.
 */
export function scanDump(
  dump: ColumnSource,
  opts: { k: number; estimator: KsgEstimator; dropNonfinite: boolean },
): DumpScan {
  const { samples: rows, neurons } = dump;
  const pass = (keep?: Uint8Array) => {
    const kept = keep === undefined ? rows : keep.reduce((n, x) => n + x, 0);
    const measurable: boolean[] = [];
    const digests: Uint8Array[] = [];
    const ranges = new Float64Array(2 * neurons);
    const perColumn = new Array<number>(neurons).fill(0);
    const badRow = new Uint8Array(rows);
    let bad = 0;
    forEachBand(dump, keep, (c0, width, data) => {
      for (let i = 0; i < width; i++) {
        const values = data.subarray(i * kept, (i + 1) * kept);
        if (keep === undefined) {
          for (let s = 0; s < kept; s++) {
            if (!Number.isFinite(values[s])) {
              perColumn[c0 + i]++;
              badRow[s] = 1;
              bad++;
            }
          }
        }
        // A column with NaN/Inf has no range: refused, or scanned again without its rows.
        if (perColumn[c0 + i] === 0) ranges.set(valueRange(values, 0, kept), 2 * (c0 + i));
        const ok = miMeasurable(values, opts.k, opts.estimator);
        measurable.push(ok);
        digests.push(ok ? columnDigest(values) : new Uint8Array(0));
      }
    });
    return { kept, measurable, digests, ranges, perColumn, badRow, bad };
  };
  let scan = pass();
  let keep: Uint8Array | undefined;
  if (scan.bad > 0) {
    if (!opts.dropNonfinite) throw nonfiniteError(dump.file, scan.perColumn, scan.bad);
    keep = scan.badRow.map((b) => 1 - b);
    scan = pass(keep);
  }
  const droppedRows = rows - scan.kept;
  checkEnoughRows(dump.file, scan.kept, droppedRows, opts.k);
  return {
    samples: scan.kept,
    droppedRows,
    ...(keep === undefined ? {} : { keep }),
    measurable: scan.measurable,
    digests: scan.digests,
    ranges: scan.ranges,
  };
}

/** The MI columns a tile of pairs touches (indices into the job's columns), ascending. */
export function touchedColumns(a: Int32Array, b: Int32Array, m: number): number[] {
  const seen = new Uint8Array(m);
  for (let t = 0; t < a.length; t++) seen[a[t]] = seen[b[t]] = 1;
  const out: number[] = [];
  for (let i = 0; i < m; i++) if (seen[i]) out.push(i);
  return out;
}

/**
 * The MI job of a single run on the dump's `columns` (ascending neuron indices, the cap's
 * choice among the measurable ones): the same pairs (all, or `pairs` drawn with `seed`) and
 * fingerprint as computeMiMatrix's.
 */
export function dumpMiJob(
  scan: DumpScan,
  columns: readonly number[],
  opts: { k: number; estimator: KsgEstimator; pairs: number | null; seed: number },
): PairJobView {
  const { k, estimator } = opts;
  const samples = scan.samples;
  const pairs = miPairSet(columns.length, {
    seed: opts.seed,
    ...(opts.pairs === null ? {} : { pairs: opts.pairs }),
  });
  const digests = columns.map((c) => scan.digests[c]);
  const fingerprint = jobFingerprint({ samples, k, estimator, pairs }, digests);
  return { samples, k, estimator, fingerprint, pairs };
}

/**
 * The {@link dumpMiJob} handed to the running shard's hook: the shard's tile is computed on
 * only the columns it touches, read from the dump then.
 */
export async function shardDumpMi(
  dump: ColumnSource,
  scan: DumpScan,
  columns: readonly number[],
  opts: Omit<MiRunnerOptions, 'samples' | 'total'> & { pairs: number | null; seed: number },
): Promise<void> {
  const hook = currentPairHook();
  if (hook === undefined) throw new Error('shardDumpMi: no shard is running');
  const S = scan.samples;
  const m = columns.length;
  await hook(dumpMiJob(scan, columns, opts), (pa, pb) => {
    const touched = touchedColumns(pa, pb, m);
    const local = new Int32Array(m).fill(-1);
    touched.forEach((t, i) => (local[t] = i));
    const data = dump.read(
      touched.map((t) => columns[t]),
      scan.keep,
    );
    return miRunner({ ...opts, samples: S, total: pa.length })(
      data,
      pa.map((t) => local[t]),
      pb.map((t) => local[t]),
    );
  });
}
