/**
 * Report -> chart data and tables. Pure functions without DOM or chart.js, shared by the
 * webview panel and the HTML report and unit-tested on hand-built reports. Colours are
 * semantic keys; the drawing code maps them to the theme's CSS variables.
 */
import { layerTableCsv } from '../src/core/report/csv';
import { miEvidence } from '../src/shared/miEvidence';
import type {
  AnalysisReport,
  BoxSummary,
  CompareReport,
  LayerReport,
  MiDensity,
  ReportSnapshot,
  SignatureKind,
} from '../src/shared/protocol';

/** The theme colours the charts use (VS Code's --vscode-charts-* names). */
export type ColorKey = 'blue' | 'orange' | 'green' | 'purple' | 'red' | 'yellow';

/** Series colours in order: model i (or layer i) gets PALETTE[i % 6]. */
export const PALETTE: readonly ColorKey[] = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'];

export function seriesColor(index: number): ColorKey {
  return PALETTE[index % PALETTE.length];
}

/** Point markers: the 7th to 12th series repeat the colours with squares, and so on. */
export const MARKERS = ['circle', 'rect', 'triangle', 'rectRot'] as const;
export type Marker = (typeof MARKERS)[number];

export function seriesMarker(index: number): Marker {
  return MARKERS[Math.floor(index / PALETTE.length) % MARKERS.length];
}

/** The colour of each signature, used by the compare chart and the tables. */
export const SIGNATURE_COLORS: Record<SignatureKind, ColorKey> = {
  heuristic: 'red',
  'example-level': 'purple',
  none: 'green',
};

/** How the tables and legends name each signature. */
export const SIGNATURE_LABELS: Record<SignatureKind, string> = {
  heuristic: 'heuristic memorization',
  'example-level': 'example-level memorization',
  none: 'no signature',
};

/** One model as the charts see it. */
export interface ModelSeries {
  label: string;
  path: string;
  layers: LayerReport[];
}

function pathSegments(path: string): string[] {
  return path.split(/[\\/]+/).filter((s) => s.length > 0);
}

/**
 * Short, distinct labels for model paths: the file name, with as many parent folders as it
 * takes to tell equal file names apart (e.g. "step-100/model.json" and "step-200/model.json").
 */
export function shortLabels(paths: readonly string[]): string[] {
  const segments = paths.map(pathSegments);
  const depth = segments.map(() => 1);
  for (let round = 0; round < 64; round++) {
    const labels = segments.map((s, i) => s.slice(-depth[i]).join('/') || paths[i]);
    let changed = false;
    labels.forEach((label, i) => {
      const clash = labels.some((other, j) => j !== i && other === label);
      if (clash && depth[i] < segments[i].length) {
        depth[i]++;
        changed = true;
      }
    });
    if (!changed) return labels;
  }
  return segments.map((s, i) => s.join('/') || paths[i]);
}

/** File names that say nothing about the model on their own (TF.js layers models). */
const GENERIC_FILE = /^model\.json$/i;

/** How one model is named alone: its file name, with its folder when the name is generic. */
export function displayName(path: string): string {
  const segments = pathSegments(path);
  const depth = segments.length > 1 && GENERIC_FILE.test(segments[segments.length - 1]) ? 2 : 1;
  return segments.slice(-depth).join('/') || path;
}

/** The models a snapshot draws (compare models that failed are left out of the charts). */
export function modelSeries(snapshot: ReportSnapshot): ModelSeries[] {
  if (snapshot.kind === 'analysis') {
    const path = snapshot.report.model.path;
    return [{ label: displayName(path), path, layers: snapshot.report.layers }];
  }
  const models = snapshot.report.models;
  const labels = shortLabels(models.map((m) => m.path));
  return models
    .map((m, i) => ({ label: labels[i], path: m.path, layers: m.layers, error: m.error }))
    .filter((m) => m.error === undefined && m.layers.length > 0)
    .map(({ label, path, layers }) => ({ label, path, layers }));
}

/** Layer names in order of first appearance over the models. */
export function layerNames(models: readonly ModelSeries[]): string[] {
  const names: string[] = [];
  for (const m of models) for (const l of m.layers) if (!names.includes(l.name)) names.push(l.name);
  return names;
}

// ---------------------------------------------------------------- entropy box plots

/** One notched box, placed on a linear x axis where layer i is centred on x = i. */
export interface BoxGlyph {
  layer: string;
  layerIndex: number;
  modelIndex: number;
  /** x of the box centre and half its width, in x-axis units (a layer slot is 1 wide). */
  center: number;
  halfWidth: number;
  box: BoxSummary;
  color: ColorKey;
}

/** A per-neuron entropy, jittered inside its box. */
export interface NeuronPoint {
  x: number;
  y: number;
  neuron: number;
  layer: string;
}

export interface EntropyBoxData {
  layers: string[];
  /** Whether some boxes show only a strided subset of their neurons (wide layers). */
  subsampled: boolean;
  models: { label: string; color: ColorKey; marker: Marker }[];
  boxes: BoxGlyph[];
  /** Per model: its neurons' entropies as jittered points. */
  points: NeuronPoint[][];
  /** ln(bins): the largest entropy the binning allows (nats). */
  maxEntropy: number;
}

/** At most about this many neuron points per box (plus the outliers). */
export const MAX_POINTS_PER_BOX = 400;
/** Part of the layer slot the boxes of all models share; the rest is the gap between layers. */
export const GROUP_WIDTH = 0.8;
/** Part of its sub-slot one box fills. */
export const BOX_FILL = 0.7;

/** Deterministic jitter in [-1, 1) for neuron i (golden-ratio sequence, no randomness). */
export function jitter(i: number): number {
  const u = ((i + 1) * 0.6180339887498949) % 1;
  return 2 * u - 1;
}

/**
 * Lays out per-layer notched boxes: for L layers and M models, layer i spans [i - 0.5, i + 0.5],
 * its M boxes sit side by side in the central GROUP_WIDTH, each box BOX_FILL of its sub-slot.
 * `layer` restricts to one layer (null: all).
 */
export function entropyBoxData(
  models: readonly ModelSeries[],
  bins: number,
  layer: string | null = null,
): EntropyBoxData {
  const all = layerNames(models);
  const layers = layer !== null && all.includes(layer) ? [layer] : all;
  const slot = GROUP_WIDTH / Math.max(1, models.length);
  const halfWidth = (slot * BOX_FILL) / 2;
  const boxes: BoxGlyph[] = [];
  const points: NeuronPoint[][] = models.map(() => []);
  let subsampled = false;
  models.forEach((model, modelIndex) => {
    layers.forEach((name, layerIndex) => {
      const l = model.layers.find((x) => x.name === name);
      if (l === undefined) return;
      const center = layerIndex - GROUP_WIDTH / 2 + (modelIndex + 0.5) * slot;
      boxes.push({
        layer: name,
        layerIndex,
        modelIndex,
        center,
        halfWidth,
        box: l.entropy,
        color: seriesColor(modelIndex),
      });
      // Wide layers: every stride-th neuron plus every outlier, so a box carries at most
      // about MAX_POINTS_PER_BOX points (a denser cloud is unreadable and slow to draw).
      const stride = Math.ceil(l.entropies.length / MAX_POINTS_PER_BOX);
      if (stride > 1) subsampled = true;
      const outlier = (h: number) => h < l.entropy.whiskerLow || h > l.entropy.whiskerHigh;
      l.entropies.forEach((h, neuron) => {
        if (Number.isFinite(h) && (neuron % stride === 0 || outlier(h))) {
          points[modelIndex].push({
            x: center + jitter(neuron) * halfWidth * 0.8,
            y: h,
            neuron,
            layer: name,
          });
        }
      });
    });
  });
  return {
    layers,
    subsampled,
    models: models.map((m, i) => ({
      label: m.label,
      color: seriesColor(i),
      marker: seriesMarker(i),
    })),
    boxes,
    points,
    maxEntropy: Math.log(Math.max(2, bins)),
  };
}

/**
 * The points drawn over the boxes: every neuron's entropy, or (showAll false) only the
 * outliers beyond the whiskers, as a plain box plot would mark them.
 */
export function entropyPoints(data: EntropyBoxData, showAll: boolean): NeuronPoint[][] {
  if (showAll) return data.points;
  return data.points.map((points, modelIndex) =>
    points.filter((p) => {
      const glyph = data.boxes.find((b) => b.modelIndex === modelIndex && b.layer === p.layer);
      return glyph !== undefined && (p.y < glyph.box.whiskerLow || p.y > glyph.box.whiskerHigh);
    }),
  );
}

/**
 * The outline of a notched box as (x, y) data points, counter-clockwise from the bottom left:
 * the sides step in by `indent` of the half width at the median, between the notch ends. The
 * notch is clamped to [q1, q3] for drawing (it can reach past the box when n is small).
 */
export function notchedBoxOutline(
  center: number,
  halfWidth: number,
  box: BoxSummary,
  indent = 0.5,
): [number, number][] {
  const lo = Math.max(box.q1, Math.min(box.notchLow, box.median));
  const hi = Math.min(box.q3, Math.max(box.notchHigh, box.median));
  const left = center - halfWidth;
  const right = center + halfWidth;
  const inset = halfWidth * indent;
  return [
    [left, box.q1],
    [right, box.q1],
    [right, lo],
    [right - inset, box.median],
    [right, hi],
    [right, box.q3],
    [left, box.q3],
    [left, hi],
    [left + inset, box.median],
    [left, lo],
  ];
}

/** Whether two notches overlap (the medians are then not clearly different). */
export function notchesOverlap(a: BoxSummary, b: BoxSummary): boolean {
  return a.notchLow <= b.notchHigh && b.notchLow <= a.notchHigh;
}

// ---------------------------------------------------------------- MI density

export interface DensityCurve {
  label: string;
  color: ColorKey;
  /** Drawn dashed (the whole-model curve beside per-layer ones). */
  dashed: boolean;
  points: { x: number; y: number }[];
  /** Median off-diagonal MI of the pairs behind this curve (nats). */
  median: number;
}

function curvePoints(density: MiDensity): { x: number; y: number }[] {
  const n = Math.min(density.x.length, density.density.length);
  const out: { x: number; y: number }[] = [];
  for (let i = 0; i < n; i++) {
    const x = density.x[i];
    const y = density.density[i];
    if (Number.isFinite(x) && Number.isFinite(y)) out.push({ x, y });
  }
  return out;
}

/**
 * MI density curves ("density of neuron pairs" against MI in nats). One model: a curve per
 * layer plus the whole model dashed, or only `layer`. Several models: a curve per model, over
 * all pairs, or over the pairs of `layer`.
 */
export function miDensityCurves(snapshot: ReportSnapshot, layer: string | null): DensityCurve[] {
  if (snapshot.kind === 'analysis') {
    const report = snapshot.report;
    const layers = report.layers.filter((l) => layer === null || l.name === layer);
    const curves = layers.map((l, i) => ({
      label: l.name,
      color: seriesColor(layer === null ? i : report.layers.indexOf(l)),
      dashed: false,
      points: curvePoints(l.density),
      median: l.mi.median,
    }));
    if (layer === null && report.layers.length > 1) {
      curves.push({
        label: 'all layers (all pairs)',
        color: seriesColor(report.layers.length),
        dashed: true,
        points: curvePoints(report.summary.density),
        median: report.summary.mi.median,
      });
    }
    return curves.filter((c) => c.points.length > 0);
  }
  const curves: DensityCurve[] = [];
  modelSeries(snapshot).forEach((m, i) => {
    const model = snapshot.report.models.find((x) => x.path === m.path);
    if (model === undefined) return;
    const l = layer === null ? undefined : model.layers.find((x) => x.name === layer);
    const density = l === undefined ? model.summary.density : l.density;
    const median = l === undefined ? model.summary.mi.median : l.mi.median;
    if (layer !== null && l === undefined) return;
    curves.push({
      label: m.label,
      color: seriesColor(i),
      // Beyond six models the colours repeat: the repeats are dashed.
      dashed: i >= PALETTE.length,
      points: curvePoints(density),
      median,
    });
  });
  return curves.filter((c) => c.points.length > 0);
}

// ---------------------------------------------------------------- compare

export interface ComparePoint {
  label: string;
  path: string;
  /** Median H over all measured neurons (nats). */
  x: number;
  /** Median off-diagonal I over all pairs (nats). */
  y: number;
  signature: SignatureKind;
  color: ColorKey;
}

/** Median of numbers (numpy's: mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One point per successfully analysed model: median H against median I, by signature. */
export function comparePoints(report: CompareReport): ComparePoint[] {
  const labels = shortLabels(report.models.map((m) => m.path));
  return report.models
    .map((m, i) => ({ m, label: labels[i] }))
    .filter(({ m }) => m.error === undefined)
    .map(({ m, label }) => ({
      label,
      path: m.path,
      x: m.summary.entropy.median,
      y: m.summary.mi.median,
      signature: m.signature.kind,
      color: SIGNATURE_COLORS[m.signature.kind],
    }));
}

/**
 * The reference the signatures are relative to, as the core computed it: the baseline's
 * medians, or the medians of the whole cohort pooled. Reports from before the core kept it:
 * the baseline's point, else the median of the models' medians (marked as such).
 */
export function compareReference(
  report: CompareReport,
): { label: string; x: number; y: number } | null {
  const points = comparePoints(report);
  if (points.length === 0) return null;
  const base = points.find((p) => p.path === report.baseline);
  if (report.reference) {
    const { label, entropyMedian: x, miMedian: y } = report.reference;
    return { label: base === undefined ? label : `baseline: ${base.label}`, x, y };
  }
  if (base !== undefined) return { label: `baseline: ${base.label}`, x: base.x, y: base.y };
  return {
    label: 'median of the model medians',
    x: median(points.map((p) => p.x)),
    y: median(points.map((p) => p.y)),
  };
}

export interface TrajectoryData {
  /** Median H per checkpoint step (nats), ascending step. */
  entropy: { x: number; y: number }[];
  /** Median I per checkpoint step (nats), ascending step. */
  mi: { x: number; y: number }[];
}

/** Median H and median I over training steps, or null when the compare has no trajectory. */
export function trajectoryData(report: CompareReport): TrajectoryData | null {
  if (report.trajectory === null || report.trajectory.length === 0) return null;
  const steps = [...report.trajectory].sort((a, b) => a.step - b.step);
  return {
    entropy: steps.map((t) => ({ x: t.step, y: t.entropyMedian })),
    mi: steps.map((t) => ({ x: t.step, y: t.miMedian })),
  };
}

// ---------------------------------------------------------------- tables

/** A table of display strings; `tone` gives a row's signature colour, `title` a tooltip. */
export interface TableData {
  columns: string[];
  /** Per column: numbers (right-aligned) or text. */
  numeric: boolean[];
  /** The column naming the row's model, which links to `rows[i].path` (default 0). */
  linkColumn?: number;
  /** The column drawn in the row's tone (its signature colour). */
  toneColumn?: number;
  /** A line under the caption, e.g. a lone model's signature against a baseline. */
  note?: { text: string; tone: ColorKey };
  rows: {
    cells: string[];
    tone?: ColorKey;
    title?: string;
    path?: string;
    /** The last cell spans the remaining columns and wraps (a failure message). */
    spanLast?: boolean;
  }[];
}

/** Fixed decimals, a minus sign, and an em dash for a missing or non-finite value. */
export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text.replace('-', '−');
}

function formatInterval(low: number, high: number, digits = 2): string {
  return `${formatNumber(low, digits)} – ${formatNumber(high, digits)}`;
}

function formatPercent(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(1)}%` : '—';
}

/**
 * The flag the extension adds to an analysis read against its `memlens.baseline` (code
 * "baseline-signature"): the signature and its evidence in words.
 */
export const BASELINE_SIGNATURE_FLAG = 'baseline-signature';

/** A lone model's signature against a baseline (the report's `signature`), or undefined. */
export function baselineSignature(
  report: AnalysisReport,
): { kind: SignatureKind; message: string; threshold: string } | undefined {
  if (report.signature === undefined) return undefined;
  const flag = report.flags.find((f) => f.code === BASELINE_SIGNATURE_FLAG);
  return {
    kind: report.signature.kind,
    message: flag?.message ?? report.signature.explanation,
    threshold: flag?.threshold ?? '',
  };
}

/** The per-layer summary of one model, with a whole-model row last. */
export function analysisTable(snapshot: Extract<ReportSnapshot, { kind: 'analysis' }>): TableData {
  const report = snapshot.report;
  const columns = [
    'Layer',
    'Neurons',
    'Median H (nats)',
    'Notch (95% CI)',
    'Median I (nats)',
    'Mean I (nats)',
    'MI pairs',
    'Tied values',
    'Dead neurons',
  ];
  const rows = report.layers.map((l) => ({
    cells: [
      l.name,
      l.miNeurons < l.neurons ? `${l.neurons} (MI: ${l.miNeurons})` : String(l.neurons),
      formatNumber(l.entropy.median),
      formatInterval(l.entropy.notchLow, l.entropy.notchHigh),
      formatNumber(l.mi.median, 3),
      formatNumber(l.mi.mean, 3),
      String(l.mi.pairs),
      formatPercent(l.tieFraction),
      String(l.deadNeurons),
    ],
  }));
  const s = report.summary;
  rows.push({
    cells: [
      'all layers',
      String(report.layers.reduce((a, l) => a + l.neurons, 0)),
      formatNumber(s.entropy.median),
      formatInterval(s.entropy.notchLow, s.entropy.notchHigh),
      formatNumber(s.mi.median, 3),
      formatNumber(s.mi.mean, 3),
      String(s.mi.pairs),
      '',
      String(report.layers.reduce((a, l) => a + l.deadNeurons, 0)),
    ],
  });
  const signature = baselineSignature(report);
  return {
    columns,
    numeric: columns.map((_, i) => i !== 0),
    rows,
    note:
      signature === undefined
        ? undefined
        : { text: `Signature: ${signature.message}`, tone: SIGNATURE_COLORS[signature.kind] },
  };
}

/** Per model: its signature and the evidence behind it, in report order. */
export function compareTable(report: CompareReport): TableData {
  const labels = shortLabels(report.models.map((m) => m.path));
  const rank = new Map(report.ranking.map((r) => [r.path, r.rank]));
  // A step column only for checkpoints with steps, a metric column only with a correlation.
  const withSteps = report.models.some((m) => m.step !== null);
  const columns: string[] = ['Model'];
  const numeric: boolean[] = [false];
  const add = (name: string, isNumber: boolean) => {
    columns.push(name);
    numeric.push(isNumber);
  };
  if (withSteps) add('Step', true);
  add('Signature', false);
  add('ΔH median (nats)', true);
  add('Notches overlap', false);
  add('I ratio [95% CI]', true);
  add('Median H (nats)', true);
  add('Median I (nats)', true);
  add('Rank', true);
  if (report.correlation !== null) add(report.correlation.metric, true);
  const rows = report.models.map((m, i) => {
    const lead = withSteps ? [labels[i], m.step === null ? '' : String(m.step)] : [labels[i]];
    if (m.error !== undefined) {
      return {
        cells: [...lead, `failed: ${m.error}`],
        path: m.path,
        title: m.error,
        spanLast: true,
      };
    }
    const sig = m.signature;
    const isReference = report.baseline === m.path;
    const cells = [
      ...lead,
      isReference ? 'baseline (reference)' : SIGNATURE_LABELS[sig.kind],
      isReference ? '' : formatNumber(sig.deltaEntropy),
      isReference ? '' : sig.notchesOverlap ? 'yes' : 'no',
      isReference ? '' : miEvidence(sig, (n) => formatNumber(n), '×'),
      formatNumber(m.summary.entropy.median),
      formatNumber(m.summary.mi.median, 3),
      rank.has(m.path) ? String(rank.get(m.path)) : '',
    ];
    if (report.correlation !== null) cells.push(formatNumber(m.metric, 3));
    return {
      cells,
      tone: isReference ? undefined : SIGNATURE_COLORS[sig.kind],
      title: sig.explanation,
      path: m.path,
    };
  });
  return { columns, numeric, toneColumn: columns.indexOf('Signature'), rows };
}

/**
 * Per model, per layer: median H with its notch and median I, for the models that succeeded
 * (all layers, or only `layer`). Shows which layers carry a model's signature. With a
 * baseline, a notch that does not overlap the baseline's in that layer is marked "≠".
 */
export function compareLayerTable(report: CompareReport, layer: string | null): TableData {
  const models = modelSeries({ kind: 'compare', report });
  const layers = layerNames(models).filter((name) => layer === null || name === layer);
  const columns = ['Model'];
  for (const name of layers) columns.push(`${name}: median H (notch)`, `${name}: median I`);
  const baseline = models.find((m) => m.path === report.baseline);
  const rows = models.map((m) => {
    const cells = [m.label];
    for (const name of layers) {
      const l = m.layers.find((x) => x.name === name);
      if (l === undefined) {
        cells.push('—', '—');
        continue;
      }
      const e = l.entropy;
      const ref = m === baseline ? undefined : baseline?.layers.find((x) => x.name === name);
      const apart = ref !== undefined && !notchesOverlap(e, ref.entropy) ? ' ≠' : '';
      cells.push(
        `${formatNumber(e.median)} (${formatNumber(e.notchLow)} – ${formatNumber(e.notchHigh)})${apart}`,
        formatNumber(l.mi.median, 3),
      );
    }
    return { cells, path: m.path };
  });
  return { columns, numeric: columns.map((_, i) => i > 0), rows };
}

/** The ranking, best first, with both measures shown. */
export function rankingTable(report: CompareReport): TableData {
  const labels = new Map(
    shortLabels(report.models.map((m) => m.path)).map((label, i) => [report.models[i].path, label]),
  );
  const rows = [...report.ranking]
    .sort((a, b) => a.rank - b.rank)
    .map((r) => ({
      cells: [
        String(r.rank),
        labels.get(r.path) ?? r.path,
        formatNumber(r.entropyMedian),
        formatNumber(r.miMedian, 3),
      ],
      path: r.path,
    }));
  return {
    columns: ['Rank', 'Model', 'Median H (nats)', 'Median I (nats)'],
    numeric: [true, false, true, true],
    linkColumn: 1,
    rows,
  };
}

// ---------------------------------------------------------------- CSV

/**
 * The per-layer table as CSV, exactly what `memlens --csv` writes: one implementation, in
 * src/core/report/csv.ts, which is pure and depends only on the report schema.
 */
export function layerCsv(snapshot: ReportSnapshot): string {
  return layerTableCsv(snapshot.report);
}

/** A file-name stem for exports, from the model (or first model) file name. */
export function exportStem(snapshot: ReportSnapshot): string {
  const path =
    snapshot.kind === 'analysis'
      ? snapshot.report.model.path
      : (snapshot.report.models[0]?.path ?? '');
  const segments = pathSegments(path);
  let base = segments.pop() ?? 'report';
  if (GENERIC_FILE.test(base) && segments.length > 0) base = segments.pop() ?? base;
  const stem = base
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[-.]+/, '');
  const name = stem.length > 0 ? stem : 'report';
  return snapshot.kind === 'analysis' ? `${name}-memlens` : `${name}-compare-memlens`;
}
