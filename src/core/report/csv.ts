import type { AnalysisReport, CompareReport, LayerReport } from './schema';

type Cell = string | number | boolean | null;

function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  // A leading = + - @ makes spreadsheets evaluate a formula: keep it text.
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV (CRLF line ends): a header row, then the rows. */
export function toCsv(header: readonly string[], rows: readonly Cell[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** Columns of the per-layer table (entropies and MI in nats). */
export const LAYER_CSV_COLUMNS = [
  'model',
  'layer',
  'neurons',
  'mi_neurons',
  'entropy_median',
  'entropy_q1',
  'entropy_q3',
  'entropy_notch_low',
  'entropy_notch_high',
  'entropy_whisker_low',
  'entropy_whisker_high',
  'mi_median',
  'mi_mean',
  'mi_pairs',
  'tie_fraction',
  'dead_neurons',
] as const;

/**
 * Extra columns of a comparison, after the layer columns: the model's signature and its
 * evidence, its error if it failed; then (added with compare report version 2, at the end so
 * the earlier columns keep their places) why it is not comparable, its value range (the global
 * bin range, `summary.range`), its rank and its ranking flag.
 */
export const COMPARE_CSV_COLUMNS = [
  'signature',
  'delta_entropy',
  'notches_overlap',
  'mi_ratio',
  'mi_ratio_low',
  'mi_ratio_high',
  'error',
  'not_comparable',
  'range_min',
  'range_max',
  'rank',
  'flag',
] as const;

function layerCells(model: string, l: LayerReport): Cell[] {
  return [
    model,
    l.name,
    l.neurons,
    l.miNeurons,
    l.entropy.median,
    l.entropy.q1,
    l.entropy.q3,
    l.entropy.notchLow,
    l.entropy.notchHigh,
    l.entropy.whiskerLow,
    l.entropy.whiskerHigh,
    l.mi.median,
    l.mi.mean,
    l.mi.pairs,
    l.tieFraction,
    l.deadNeurons,
  ];
}

/**
 * The per-layer table of a report as CSV: one row per layer (analysis) or per (model, layer)
 * (comparison), at full precision. A comparison adds on each model's rows (COMPARE_CSV_COLUMNS):
 * - `signature`: the kind (heuristic, example-level, none) with its evidence; `reference` for
 *   the reference model (baseline or reference checkpoint; its evidence is against itself:
 *   delta 0, ratio 1); `not comparable` for a model outside the reference's group, with its
 *   evidence cells empty and the reason in `not_comparable`; empty, with empty evidence, when
 *   the comparison has no reference (mode `none`).
 * - `range_min`, `range_max`: the model's value range (`summary.range`), empty when absent.
 * - `rank`: its rank, `flagged` when the ranking flagged it, empty when not ranked (no target,
 *   the reference, not comparable); `flag`: the ranking flag's reason.
 * A model that failed gets one row with its error and empty measures.
 * Reports saved as version 1 (no `reference` object) name the baseline as the reference.
 */
export function layerTableCsv(report: AnalysisReport | CompareReport): string {
  if (report.schema === 'memlens.report') {
    return toCsv(
      LAYER_CSV_COLUMNS,
      report.layers.map((l) => layerCells(report.model.path, l)),
    );
  }
  // Version 1 reports have no reference object (or one without a mode): the baseline.
  const reference = report.reference as Partial<CompareReport['reference']> | null | undefined;
  const referencePath = reference?.mode === undefined ? report.baseline : (reference.path ?? null);
  const noReference = reference?.mode === 'none';
  const ranking = new Map((report.ranking ?? []).map((e) => [e.path, e]));
  const rows: Cell[][] = [];
  for (const m of report.models) {
    if (m.error !== undefined) {
      const row: Cell[] = [m.path, ...new Array<Cell>(LAYER_CSV_COLUMNS.length - 1).fill(null)];
      rows.push([
        ...row,
        null,
        null,
        null,
        null,
        null,
        null,
        m.error,
        null,
        null,
        null,
        null,
        null,
      ]);
      continue;
    }
    const s = m.signature;
    const entry = ranking.get(m.path);
    const rank: Cell =
      entry === undefined ? null : typeof entry.rank === 'number' ? entry.rank : 'flagged';
    const notComparable = m.notComparable !== undefined;
    const unread = notComparable || (noReference && m.path !== referencePath);
    const signature: Cell = notComparable
      ? 'not comparable'
      : m.path === referencePath
        ? 'reference'
        : unread
          ? null
          : s.kind;
    const evidence: Cell[] = unread
      ? [null, null, null, null, null]
      : [s.deltaEntropy, s.notchesOverlap, s.miRatio, s.miRatioLow, s.miRatioHigh];
    const range = m.summary.range;
    for (const l of m.layers) {
      rows.push([
        ...layerCells(m.path, l),
        signature,
        ...evidence,
        null,
        m.notComparable ?? null,
        range?.min ?? null,
        range?.max ?? null,
        rank,
        entry?.flag ?? null,
      ]);
    }
  }
  return toCsv([...LAYER_CSV_COLUMNS, ...COMPARE_CSV_COLUMNS], rows);
}
