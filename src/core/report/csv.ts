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

/** Extra columns of a comparison: the model's signature and its evidence. */
export const COMPARE_CSV_COLUMNS = [
  'signature',
  'delta_entropy',
  'notches_overlap',
  'mi_ratio',
  'mi_ratio_low',
  'mi_ratio_high',
  'error',
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
 * (comparison), at full precision. A comparison adds each model's signature and evidence on
 * its rows; a model that failed gets one row with its error and empty measures.
 */
export function layerTableCsv(report: AnalysisReport | CompareReport): string {
  if (report.schema === 'memlens.report') {
    return toCsv(
      LAYER_CSV_COLUMNS,
      report.layers.map((l) => layerCells(report.model.path, l)),
    );
  }
  const rows: Cell[][] = [];
  for (const m of report.models) {
    if (m.error !== undefined) {
      const row: Cell[] = [m.path, ...new Array<Cell>(LAYER_CSV_COLUMNS.length - 1).fill(null)];
      rows.push([...row, null, null, null, null, null, null, m.error]);
      continue;
    }
    const s = m.signature;
    for (const l of m.layers) {
      rows.push([
        ...layerCells(m.path, l),
        m.path === report.baseline ? 'baseline' : s.kind,
        s.deltaEntropy,
        s.notchesOverlap,
        s.miRatio,
        s.miRatioLow,
        s.miRatioHigh,
        null,
      ]);
    }
  }
  return toCsv([...LAYER_CSV_COLUMNS, ...COMPARE_CSV_COLUMNS], rows);
}
