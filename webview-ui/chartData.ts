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
  CompareModel,
  CompareReference,
  CompareReport,
  LayerReport,
  MiDensity,
  MiSummary,
  RankingEntry,
  RankingTarget,
  ReportSnapshot,
  SignatureKind,
  TrajectoryOnset,
  ValueRange,
} from '../src/shared/protocol';
import { SMALL_MULTIPLES_FROM, shortNameMap, shownLayers } from './layerNames';

/**
 * The theme colours the charts use: VS Code's six --vscode-charts-* colours, then six more
 * that styles.css defines per theme kind (light, dark, high contrast), for up to 12 series.
 */
export type ColorKey =
  | 'blue'
  | 'orange'
  | 'green'
  | 'purple'
  | 'red'
  | 'yellow'
  | 'teal'
  | 'pink'
  | 'brown'
  | 'indigo'
  | 'lime'
  | 'gray';

/** Series colours in order: model i (or layer i) gets PALETTE[i % 12]. */
export const PALETTE: readonly ColorKey[] = [
  'blue',
  'orange',
  'green',
  'purple',
  'red',
  'yellow',
  'teal',
  'pink',
  'brown',
  'indigo',
  'lime',
  'gray',
];

export function seriesColor(index: number): ColorKey {
  return PALETTE[index % PALETTE.length];
}

/** Point markers: the 13th to 24th series repeat the colours with squares, and so on. */
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
  /**
   * The reference the others are read against (an analysis's baseline, a comparison's
   * baseline or reference checkpoint): drawn muted and hatched, its legend "reference: name".
   */
  reference?: boolean;
}

/** How the legends name the reference's series. */
export function referenceLabel(label: string): string {
  return `reference: ${label}`;
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

/** What a report is about, in a title: the model's name, or "comparison of N models". */
export function reportSubject(snapshot: ReportSnapshot): string {
  return snapshot.kind === 'analysis'
    ? displayName(snapshot.report.model.path)
    : `comparison of ${snapshot.report.models.length} models`;
}

/**
 * The models a snapshot draws (compare models that failed are left out of the charts). An
 * analysis with its baseline's report draws the baseline last, as the reference; a comparison
 * marks its reference model (mode baseline or checkpoint) in place.
 */
export function modelSeries(snapshot: ReportSnapshot): ModelSeries[] {
  if (snapshot.kind === 'analysis') {
    const path = snapshot.report.model.path;
    const ref = snapshot.reference;
    if (ref === undefined)
      return [{ label: displayName(path), path, layers: snapshot.report.layers }];
    const [label, refLabel] = shortLabels([path, ref.model.path]);
    // The reference adds no layer slot of its own: its boxes sit beside the model's.
    const names = new Set(snapshot.report.layers.map((l) => l.name));
    return [
      { label, path, layers: snapshot.report.layers },
      {
        label: refLabel,
        path: ref.model.path,
        layers: ref.layers.filter((l) => names.has(l.name)),
        reference: true,
      },
    ];
  }
  const report = normalizeCompare(snapshot.report);
  const models = report.models;
  const labels = shortLabels(models.map((m) => m.path));
  const refPath = report.reference.path;
  return models
    .map((m, i) => ({ label: labels[i], path: m.path, layers: m.layers, error: m.error }))
    .filter((m) => m.error === undefined && m.layers.length > 0)
    .map(({ label, path, layers }) =>
      refPath !== null && path === refPath
        ? { label, path, layers, reference: true }
        : { label, path, layers },
    );
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
  /** The reference's box: drawn hatched in the muted colour. */
  reference: boolean;
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
  /** The layers' short names (./layerNames), for the axis; `layers` keeps the full ones. */
  labels: string[];
  /** Whether some boxes show only a strided subset of their neurons (wide layers). */
  subsampled: boolean;
  models: { label: string; color: ColorKey; marker: Marker; reference: boolean }[];
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
 * `layer` restricts to one layer (null: all), else `filter` to the layers it matches.
 */
export function entropyBoxData(
  models: readonly ModelSeries[],
  bins: number,
  layer: string | null = null,
  filter?: string,
): EntropyBoxData {
  const all = layerNames(models);
  const layers = shownLayers(all, layer, filter);
  const short = shortNameMap(all);
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
        reference: model.reference === true,
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
    labels: layers.map((n) => short.get(n) ?? n),
    subsampled,
    models: models.map((m, i) => ({
      label: m.reference === true ? referenceLabel(m.label) : m.label,
      color: seriesColor(i),
      marker: seriesMarker(i),
      reference: m.reference === true,
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

// ---------------------------------------------------------------- axis ranges

/** An axis range in data units. */
export interface AxisRange {
  min: number;
  max: number;
}

/** The padding on each side, as a part of the (widened) data span. */
const AXIS_PADDING = 0.05;
/** Entropy axes are at least this wide (nats), so a near-constant set reads as flat. */
const ENTROPY_MIN_SPAN = 0.5;
/** MI axes are at least this wide (nats). */
const MI_MIN_SPAN = 0.05;

/**
 * An axis range that fits `values` (non-finite ones ignored; null when none is finite): their
 * span, widened about its centre to at least `minSpan`, plus AXIS_PADDING of it on each side.
 * It stays inside `limits` (a widened range is moved inside, padding is cut at the limit), and
 * it does not cross zero when the data do not.
 */
export function paddedRange(
  values: Iterable<number>,
  minSpan: number,
  limits: Partial<AxisRange> = {},
): AxisRange | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo > hi) return null;
  const floor = Math.max(limits.min ?? -Infinity, lo >= 0 ? 0 : -Infinity);
  const ceiling = Math.min(limits.max ?? Infinity, hi < 0 ? 0 : Infinity);
  if (hi - lo < minSpan) {
    const mid = (lo + hi) / 2;
    lo = mid - minSpan / 2;
    hi = mid + minSpan / 2;
    if (lo < floor) [lo, hi] = [floor, hi + floor - lo];
    if (hi > ceiling) [lo, hi] = [Math.max(floor, lo - (hi - ceiling)), ceiling];
  }
  const pad = (hi - lo) * AXIS_PADDING;
  return { min: Math.max(floor, lo - pad), max: Math.min(ceiling, hi + pad) };
}

/**
 * The entropy axis of the box chart: every box from its lowest to its highest neuron, notch
 * ends included, padded, within 0 .. ln(bins) (the most entropy the binning allows).
 */
export function entropyAxisRange(data: EntropyBoxData): AxisRange | null {
  const values = data.boxes.flatMap((g) => [g.box.min, g.box.max, g.box.notchLow, g.box.notchHigh]);
  return paddedRange(values, ENTROPY_MIN_SPAN, { min: 0, max: data.maxEntropy });
}

// ---------------------------------------------------------------- MI density

export interface DensityCurve {
  label: string;
  /** The full name behind a shortened label (a long graph-model layer name), for tooltips. */
  title?: string;
  color: ColorKey;
  /** Drawn dashed (the whole-model curve beside per-layer ones). */
  dashed: boolean;
  /** The reference's curve: drawn dashed in the muted colour. */
  reference: boolean;
  /** The density from the smallest MI value of the pairs on (when that is known). */
  points: { x: number; y: number }[];
  /** Median off-diagonal MI of the pairs behind this curve (nats). */
  median: number;
  /** Where the x axis may start for this curve (see densityAxisStart); null: unknown. */
  start: number | null;
}

/**
 * The range of the MI values behind a density, recovered from its grid: the core evaluates the
 * mixture from the smallest value to the largest, each padded by max(10% of their range, 3 sd
 * of the narrowest component) (miDensity in src/core/measures/gmm.ts), so on a grid G wide the
 * padding is max(G / 12, 3 sd). Null when the grid is not such a grid: under two points, a
 * padding wider than half of it, or a range that leaves out the pairs' quartiles.
 */
export function densityDataRange(density: MiDensity, mi: MiSummary): AxisRange | null {
  const x = density.x;
  if (x.length < 2) return null;
  const lo = x[0];
  const hi = x[x.length - 1];
  const minSd = Math.min(...density.components.map((c) => c.sd));
  if (!(hi > lo) || !Number.isFinite(hi - lo) || !Number.isFinite(minSd)) return null;
  const pad = Math.max((hi - lo) / 12, 3 * minSd);
  const range = { min: lo + pad, max: hi - pad };
  const slack = (hi - lo) * 1e-9;
  if (range.min > range.max + slack) return null;
  // NaN quartiles (none in the report) compare false and do not refuse the range.
  if (range.min > mi.q1 + slack || range.max < mi.q3 - slack) return null;
  return range;
}

/** A data minimum this close to 0 (as a part of the data range) starts the axis at 0. */
const ZERO_SNAP = 0.1;

/** Where an MI axis starts for data in `range`: at 0 when the data start at or just above it. */
export function densityAxisStart(range: AxisRange): number {
  return range.min >= 0 && range.min <= ZERO_SNAP * (range.max - range.min) ? 0 : range.min;
}

/** The points from x = `from` on: those left of it dropped, the value at `from` interpolated. */
export function clipCurve(
  points: readonly { x: number; y: number }[],
  from: number,
): { x: number; y: number }[] {
  const i = points.findIndex((p) => p.x >= from);
  if (i <= 0) return i === 0 ? [...points] : [];
  const [a, b] = [points[i - 1], points[i]];
  const y = a.y + ((b.y - a.y) * (from - a.x)) / (b.x - a.x);
  return b.x === from ? points.slice(i) : [{ x: from, y }, ...points.slice(i)];
}

/** The x axis minimum of the MI chart: the lowest start, or null when one is unknown. */
export function miAxisMin(curves: readonly DensityCurve[]): number | null {
  if (curves.length === 0 || curves.some((c) => c.start === null)) return null;
  return Math.min(...curves.map((c) => c.start ?? 0));
}

function densityCurve(
  label: string,
  color: ColorKey,
  dashed: boolean,
  density: MiDensity,
  mi: MiSummary,
  reference = false,
): DensityCurve {
  const n = Math.min(density.x.length, density.density.length);
  const points: { x: number; y: number }[] = [];
  for (let i = 0; i < n; i++) {
    const x = density.x[i];
    const y = density.density[i];
    if (Number.isFinite(x) && Number.isFinite(y)) points.push({ x, y });
  }
  const range = densityDataRange(density, mi);
  return {
    label,
    color,
    dashed,
    reference,
    // No density below the smallest measured value: the mixture's tail there is no data.
    points: range === null ? points : clipCurve(points, range.min),
    median: mi.median,
    start: range === null ? null : densityAxisStart(range),
  };
}

/**
 * MI density curves ("density of neuron pairs" against MI in nats). One model: a curve per
 * layer plus the whole model dashed, or only `layer`; with its baseline's report, the
 * baseline's curve (all its pairs, or those of `layer`) as the dashed reference. Several
 * models: a curve per model, over all pairs, or over the pairs of `layer`; the reference
 * model's dashed.
 */
export function miDensityCurves(
  snapshot: ReportSnapshot,
  layer: string | null,
  filter?: string,
): DensityCurve[] {
  if (snapshot.kind === 'analysis') {
    const report = snapshot.report;
    const names = report.layers.map((l) => l.name);
    const short = shortNameMap(names);
    const shown = new Set(shownLayers(names, layer, filter));
    const layers = report.layers.filter((l) => shown.has(l.name));
    const curves = layers.map((l) => {
      const label = short.get(l.name) ?? l.name;
      const curve = densityCurve(
        label,
        seriesColor(report.layers.indexOf(l)),
        false,
        l.density,
        l.mi,
      );
      return label === l.name ? curve : { ...curve, title: l.name };
    });
    if (layer === null && report.layers.length > 1) {
      curves.push(
        densityCurve(
          'all layers (all pairs)',
          seriesColor(report.layers.length),
          true,
          report.summary.density,
          report.summary.mi,
        ),
      );
    }
    const ref = modelSeries(snapshot).find((m) => m.reference === true);
    const refReport = snapshot.reference;
    if (ref !== undefined && refReport !== undefined) {
      const l = layer === null ? undefined : refReport.layers.find((x) => x.name === layer);
      if (layer === null || l !== undefined) {
        const { density, mi } = l ?? refReport.summary;
        const what = layer === null ? 'all pairs' : layer;
        curves.push(
          densityCurve(`${referenceLabel(ref.label)} (${what})`, 'gray', true, density, mi, true),
        );
      }
    }
    return curves.filter((c) => c.points.length > 0);
  }
  const curves: DensityCurve[] = [];
  modelSeries(snapshot).forEach((m, i) => {
    const model = snapshot.report.models.find((x) => x.path === m.path);
    if (model === undefined) return;
    const l = layer === null ? undefined : model.layers.find((x) => x.name === layer);
    if (layer !== null && l === undefined) return;
    const { density, mi } = l ?? model.summary;
    // Beyond twelve models the colours repeat: the repeats are dashed, and so is the reference.
    const reference = m.reference === true;
    curves.push(
      densityCurve(
        reference ? referenceLabel(m.label) : m.label,
        seriesColor(i),
        reference || i >= PALETTE.length,
        density,
        mi,
        reference,
      ),
    );
  });
  return curves.filter((c) => c.points.length > 0);
}

/** One small chart of the MI densities of a report with many layers. */
export interface MiPanel {
  /** The layer, or null for the panel of all the model's pairs. */
  layer: string | null;
  /** The layer's short name (its full one in `title`). */
  label: string;
  title: string;
  /** The layer's curve, and the reference's for the same layer when there is one. */
  curves: DensityCurve[];
}

/** The MI densities one small chart per layer: the panels and the x range they share. */
export interface MiSmallMultiples {
  panels: MiPanel[];
  /** Nats; null when no panel has a curve. */
  x: AxisRange | null;
}

/**
 * Whether a snapshot draws its MI densities as small multiples: an analysis of
 * SMALL_MULTIPLES_FROM layers or more with no single layer selected (one curve per layer
 * overlaid is a tangle there, and its legend fills the chart).
 */
export function usesSmallMultiples(snapshot: ReportSnapshot, layer: string | null): boolean {
  return (
    snapshot.kind === 'analysis' &&
    layer === null &&
    snapshot.report.layers.length >= SMALL_MULTIPLES_FROM
  );
}

/**
 * The small multiples of an analysis: first all pairs of the model, then one panel per layer
 * passing `filter`, in report order, each with the baseline's curve of the same pairs when the
 * snapshot has the baseline's report. Every panel shares one x axis: from the lowest start
 * (where its pairs' values begin) to the highest grid end.
 */
export function miSmallMultiples(
  snapshot: Extract<ReportSnapshot, { kind: 'analysis' }>,
  filter?: string,
): MiSmallMultiples {
  const report = snapshot.report;
  const names = report.layers.map((l) => l.name);
  const short = shortNameMap(names);
  const refReport = snapshot.reference;
  const refLabel = modelSeries(snapshot).find((m) => m.reference === true)?.label;
  const reference = (sums: { density: MiDensity; mi: MiSummary } | undefined) =>
    sums === undefined || refLabel === undefined
      ? []
      : [densityCurve(referenceLabel(refLabel), 'gray', true, sums.density, sums.mi, true)];
  const panels: MiPanel[] = [
    {
      layer: null,
      label: 'all layers (all pairs)',
      title: 'all layers (all pairs)',
      curves: [
        densityCurve('all pairs', 'blue', false, report.summary.density, report.summary.mi),
        ...reference(refReport?.summary),
      ],
    },
  ];
  for (const name of shownLayers(names, null, filter)) {
    const l = report.layers.find((x) => x.name === name) as LayerReport;
    const label = short.get(name) ?? name;
    panels.push({
      layer: name,
      label,
      title: name,
      curves: [
        densityCurve(label, 'blue', false, l.density, l.mi),
        ...reference(refReport?.layers.find((x) => x.name === name)),
      ],
    });
  }
  for (const p of panels) p.curves = p.curves.filter((c) => c.points.length > 0);
  const curves = panels.flatMap((p) => p.curves);
  const starts = curves.map((c) => c.start ?? c.points[0].x);
  const ends = curves.map((c) => c.points[c.points.length - 1].x);
  return {
    panels,
    x: curves.length === 0 ? null : { min: Math.min(...starts), max: Math.max(...ends) },
  };
}

// ---------------------------------------------------------------- compare

/** Median of numbers (numpy's: mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * A compare report as it may be stored: version 2, or version 1 (saved before references were
 * named: `reference` absent, null or `{ label: 'baseline' | 'pooled cohort', ... }`, numeric
 * ranks, no target, orderings or onsets). Numbers that were NaN are null in JSON.
 */
type StoredCompare = Omit<
  CompareReport,
  | 'version'
  | 'reference'
  | 'target'
  | 'ranking'
  | 'rankingRule'
  | 'orderings'
  | 'onsets'
  | 'thresholds'
  | 'correlation'
  | 'trajectory'
> & {
  version?: number;
  reference?: {
    mode?: CompareReference['mode'];
    path?: string | null;
    initialisation?: boolean;
    label?: string;
    entropyMedian?: number | null;
    miMedian?: number | null;
  } | null;
  target?: RankingTarget | null;
  ranking?: (Omit<RankingEntry, 'rank'> & { rank?: number | null })[];
  rankingRule?: string;
  orderings?: { entropy?: string[]; mi?: string[] };
  onsets?: TrajectoryOnset[];
  thresholds?: { deltaEntropy?: number; miRatio?: number; scaleRatio?: number };
  correlation?: CompareReport['correlation'];
  trajectory?: CompareReport['trajectory'];
};

/**
 * The reports normalizeCompare made: already in shape, they pass through as they are. (Inputs
 * are not cached: a report object changed after it was read must be read again.)
 */
const normalised = new WeakSet<CompareReport>();

const numberOr = (value: number | null | undefined, fallback = Number.NaN): number =>
  typeof value === 'number' ? value : fallback;

/** Paths by a measure, highest first (NaN last): the per-axis orderings of older reports. */
function orderBy(models: readonly CompareModel[], measure: (m: CompareModel) => number): string[] {
  const value = (m: CompareModel) => numberOr(measure(m));
  return [...models]
    .sort((a, b) =>
      Number.isNaN(value(a)) ? 1 : Number.isNaN(value(b)) ? -1 : value(b) - value(a),
    )
    .map((m) => m.path);
}

/**
 * The report in the current (version 2) shape, for the chart and table functions: a version 1
 * report gets its reference from `baseline` (else the cohort, as it was then read), its
 * ranking sorted by rank, per-axis orderings computed from the models, no onsets; null
 * medians (NaN in the core) read as NaN. Every compare function below reads through this.
 */
export function normalizeCompare(report: CompareReport): CompareReport {
  if (normalised.has(report)) return report;
  const stored = report as unknown as StoredCompare;
  const models = Array.isArray(stored.models) ? stored.models : [];
  const given = stored.reference ?? null;
  let reference: CompareReference;
  if (given !== null && given.mode !== undefined) {
    reference = {
      mode: given.mode,
      path: given.path ?? null,
      initialisation: given.initialisation === true,
      label: given.label ?? '',
      entropyMedian: numberOr(given.entropyMedian),
      miMedian: numberOr(given.miMedian),
    };
  } else if (typeof stored.baseline === 'string') {
    const base = models.find((m) => m.path === stored.baseline);
    reference = {
      mode: 'baseline',
      path: stored.baseline,
      initialisation: false,
      label: stored.baseline,
      entropyMedian: numberOr(given?.entropyMedian, numberOr(base?.summary.entropy.median)),
      miMedian: numberOr(given?.miMedian, numberOr(base?.summary.mi.median)),
    };
  } else {
    // Version 1 without a baseline read each model against the rest of the cohort.
    const ok = models.filter((m) => m.error === undefined);
    reference = {
      mode: 'cohort',
      path: null,
      initialisation: false,
      label: given === null ? 'the median of the model medians' : 'the cohort median',
      entropyMedian: numberOr(
        given?.entropyMedian,
        median(ok.map((m) => numberOr(m.summary.entropy.median))),
      ),
      miMedian: numberOr(given?.miMedian, median(ok.map((m) => numberOr(m.summary.mi.median)))),
    };
  }
  const ranking = (Array.isArray(stored.ranking) ? stored.ranking : [])
    .map((e) => ({ ...e, rank: typeof e.rank === 'number' ? e.rank : null }))
    // Best first, flagged (rank null) last; stable, so a version 2 order is kept.
    .sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity));
  const candidates = models.filter(
    (m) => m.error === undefined && m.notComparable === undefined && m.path !== reference.path,
  );
  const t = stored.thresholds ?? {};
  const result = {
    ...stored,
    models,
    reference,
    target: stored.target ?? null,
    ranking,
    rankingRule: stored.rankingRule ?? '',
    orderings: {
      entropy: stored.orderings?.entropy ?? orderBy(candidates, (m) => m.summary.entropy.median),
      mi: stored.orderings?.mi ?? orderBy(candidates, (m) => m.summary.mi.median),
    },
    onsets: Array.isArray(stored.onsets) ? stored.onsets : [],
    thresholds: {
      deltaEntropy: numberOr(t.deltaEntropy),
      miRatio: numberOr(t.miRatio),
      scaleRatio: numberOr(t.scaleRatio),
    },
    correlation: stored.correlation ?? null,
    trajectory: stored.trajectory ?? null,
  } as CompareReport;
  normalised.add(result);
  return result;
}

/**
 * What a model is in a comparison: failed (not analysed), not comparable with the reference's
 * group (measured, no signature, no rank), the reference itself (no verdict), unread (no
 * reference at all, so no signature), or read against the reference (it has a signature).
 */
export type ModelRole = 'failed' | 'not-comparable' | 'reference' | 'unread' | 'read';

export function modelRole(report: CompareReport, model: CompareModel): ModelRole {
  const r = normalizeCompare(report);
  if (model.error !== undefined) return 'failed';
  if (model.notComparable !== undefined) return 'not-comparable';
  if (r.reference.path !== null && model.path === r.reference.path) return 'reference';
  if (r.reference.mode === 'none') return 'unread';
  return 'read';
}

/** The reference model of a comparison (baseline or reference checkpoint), if it has one. */
export function referenceModel(report: CompareReport): CompareModel | undefined {
  const r = normalizeCompare(report);
  return r.reference.path === null ? undefined : r.models.find((m) => m.path === r.reference.path);
}

/**
 * The reference in words, for the compare header: what the signatures are read against, with
 * the initialisation caveat, or that there is none.
 */
export function referenceSummary(report: CompareReport): string {
  const r = normalizeCompare(report);
  const ref = r.reference;
  const model = referenceModel(r);
  const name = ref.path === null ? '' : displayName(ref.path);
  const step = model?.step ?? null;
  switch (ref.mode) {
    case 'baseline':
      return `Reference: the baseline ${name}. Signatures are read against it.`;
    case 'checkpoint':
      if (ref.initialisation) {
        return `Reference: initialisation (${name}${step === null ? '' : `, step ${step}`}). Verdicts are relative to initialisation: training alone lowers H and raises I, so they show how far training moved each checkpoint, not memorization as such.`;
      }
      return `Reference: the reference checkpoint ${name}${step === null ? '' : ` (step ${step})`}. Signatures are read against it.`;
    case 'cohort':
      return ref.label === 'the median of the model medians'
        ? 'Reference: the rest of the cohort. Each model’s signature is relative to the other models pooled (a report saved before references were named).'
        : 'Reference: the cohort median. Each model’s signature is relative to the cohort median (the other comparable models pooled).';
    case 'none':
      return 'No reference: the charts show the models’ H and I; signatures need a baseline, a reference checkpoint or the cohort median.';
  }
}

/** A value range as "[min, max]" with 2 decimals, or '' when absent. */
export function formatRange(range: ValueRange | null | undefined): string {
  if (range === null || range === undefined) return '';
  return `[${formatNumber(range.min)}, ${formatNumber(range.max)}]`;
}

export interface ComparePoint {
  label: string;
  path: string;
  /** Median H over all measured neurons (nats). */
  x: number;
  /** Median off-diagonal I over all pairs (nats). */
  y: number;
  /** Read, the reference, unread (no reference) or not comparable (failed models are left out). */
  role: Exclude<ModelRole, 'failed'>;
  signature: SignatureKind;
  /** The signature colour of a model read against the reference; null: drawn neutral. */
  color: ColorKey | null;
}

/** One point per successfully analysed model: median H against median I, by signature. */
export function comparePoints(report: CompareReport): ComparePoint[] {
  const r = normalizeCompare(report);
  const labels = shortLabels(r.models.map((m) => m.path));
  return r.models
    .map((m, i) => ({ m, label: labels[i], role: modelRole(r, m) }))
    .filter(
      (p): p is { m: CompareModel; label: string; role: ComparePoint['role'] } =>
        p.role !== 'failed',
    )
    .map(({ m, label, role }) => ({
      label,
      path: m.path,
      x: numberOr(m.summary.entropy.median),
      y: numberOr(m.summary.mi.median),
      role,
      signature: m.signature.kind,
      color: role === 'read' ? SIGNATURE_COLORS[m.signature.kind] : null,
    }));
}

/**
 * The centre of the chart's quadrants, as the core computed it: the reference model's medians
 * (baseline or reference checkpoint), or in cohort mode every comparable model pooled. Null
 * without a reference (mode `none`) or when its medians are unknown.
 */
export function compareReference(
  report: CompareReport,
): { label: string; x: number; y: number } | null {
  const r = normalizeCompare(report);
  const ref = r.reference;
  if (ref.mode === 'none' || !Number.isFinite(ref.entropyMedian) || !Number.isFinite(ref.miMedian))
    return null;
  const points = comparePoints(r);
  if (points.length === 0) return null;
  const model = points.find((p) => p.role === 'reference');
  let label: string;
  if (ref.mode === 'cohort') label = ref.label.replace(/^the /, '');
  else {
    const what =
      ref.mode === 'baseline'
        ? 'baseline'
        : ref.initialisation
          ? 'initialisation'
          : 'reference checkpoint';
    label = `${what}: ${model?.label ?? (ref.path === null ? ref.label : displayName(ref.path))}`;
  }
  return { label, x: ref.entropyMedian, y: ref.miMedian };
}

// ---------------------------------------------------------------- label placement

/** A box in pixels (y grows downwards, as on a canvas). */
export interface PixelBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** A label to place beside a point: the point in pixels, its marker's radius, the label's size. */
export interface LabelRequest {
  x: number;
  y: number;
  radius: number;
  width: number;
  height: number;
}

/** Whether two boxes share area (touching edges do not count). */
export function boxesOverlap(a: PixelBox, b: PixelBox): boolean {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/** The square a point's marker covers. */
function markerBox(r: LabelRequest): PixelBox {
  return {
    left: r.x - r.radius,
    top: r.y - r.radius,
    right: r.x + r.radius,
    bottom: r.y + r.radius,
  };
}

/**
 * Where a label may go, in order of preference: above right of its point, above left, below
 * right, below left, centred above, centred below; `gap` pixels (at least 2 more than the
 * marker's radius) from the point.
 */
function labelCandidates(r: LabelRequest, gap: number): PixelBox[] {
  const g = Math.max(gap, r.radius + 2);
  const at = (left: number, top: number) => ({
    left,
    top,
    right: left + r.width,
    bottom: top + r.height,
  });
  const right = r.x + g;
  const left = r.x - g - r.width;
  const above = r.y - g / 2 - r.height;
  const below = r.y + g / 2;
  const centred = r.x - r.width / 2;
  return [
    at(right, above),
    at(left, above),
    at(right, below),
    at(left, below),
    at(centred, r.y - g - r.height),
    at(centred, r.y + g),
  ];
}

/**
 * Greedy label placement, in the order given: each label takes its first candidate
 * (labelCandidates) that lies inside `bounds` and covers neither a label placed before it nor
 * another point's marker; a label with no such candidate is left out (null).
 */
export function placeLabels(
  labels: readonly LabelRequest[],
  bounds: PixelBox,
  gap = 8,
): (PixelBox | null)[] {
  const placed: PixelBox[] = [];
  const inside = (b: PixelBox) =>
    b.left >= bounds.left &&
    b.right <= bounds.right &&
    b.top >= bounds.top &&
    b.bottom <= bounds.bottom;
  return labels.map((r, i) => {
    const markers = labels.filter((_, j) => j !== i).map(markerBox);
    const free = labelCandidates(r, gap).find(
      (b) => inside(b) && ![...placed, ...markers].some((o) => boxesOverlap(b, o)),
    );
    if (free === undefined) return null;
    placed.push(free);
    return free;
  });
}

// ---------------------------------------------------------------- PNG export

/** Exported PNGs have at least this many pixels per CSS pixel (the charts render at it). */
export const PNG_SCALE = 2;
/** The band above an exported chart that carries its title, in CSS pixels. */
export const PNG_TITLE_BAND = 32;

/** A signature's first appearance along a trajectory, as the trajectory chart marks it. */
export interface OnsetMark {
  step: number;
  kind: TrajectoryOnset['kind'];
  /** "heuristic from step 200". */
  label: string;
  persists: boolean;
  color: ColorKey;
}

export interface TrajectoryData {
  /** Median H per checkpoint step (nats), ascending step. */
  entropy: { x: number; y: number }[];
  /** Median I per checkpoint step (nats), ascending step. */
  mi: { x: number; y: number }[];
  /** Where each signature first appears, ascending step. */
  onsets: OnsetMark[];
}

/** Median H and median I over training steps, or null when the compare has no trajectory. */
export function trajectoryData(report: CompareReport): TrajectoryData | null {
  const r = normalizeCompare(report);
  if (r.trajectory === null || r.trajectory.length === 0) return null;
  const steps = [...r.trajectory].sort((a, b) => a.step - b.step);
  return {
    entropy: steps.map((t) => ({ x: t.step, y: numberOr(t.entropyMedian) })),
    mi: steps.map((t) => ({ x: t.step, y: numberOr(t.miMedian) })),
    onsets: [...r.onsets]
      .filter((o) => Number.isFinite(o.step))
      .sort((a, b) => a.step - b.step)
      .map((o) => ({
        step: o.step,
        kind: o.kind,
        label: `${o.kind} from step ${o.step}`,
        persists: o.persists,
        color: SIGNATURE_COLORS[o.kind],
      })),
  };
}

/**
 * The trajectory's two y axes, each fitted to its own series: padded, at least
 * ENTROPY_MIN_SPAN (H) and MI_MIN_SPAN (I) wide, H never below 0; neither is pulled to 0 when
 * the values are far from it.
 */
export function trajectoryAxes(data: TrajectoryData): {
  entropy: AxisRange | null;
  mi: AxisRange | null;
} {
  return {
    entropy: paddedRange(
      data.entropy.map((p) => p.y),
      ENTROPY_MIN_SPAN,
      { min: 0 },
    ),
    mi: paddedRange(
      data.mi.map((p) => p.y),
      MI_MIN_SPAN,
    ),
  };
}

/** The onsets in words, for the trajectory chart's caption ('' without any). */
export function onsetSummary(report: CompareReport): string {
  const r = normalizeCompare(report);
  const labels = new Map(
    shortLabels(r.models.map((m) => m.path)).map((label, i) => [r.models[i].path, label]),
  );
  return [...r.onsets]
    .sort((a, b) => a.step - b.step)
    .map(
      (o) =>
        `${o.kind} from step ${o.step} (${labels.get(o.path) ?? o.path}; ${o.persists ? 'at every later checkpoint' : 'not at every later checkpoint'})`,
    )
    .join('; ');
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
  /** The column whose cell expands to the row's `evidence` (a disclosure, not only a tooltip). */
  evidenceColumn?: number;
  /** A line under the caption, e.g. a lone model's signature against a baseline. */
  note?: { text: string; tone: ColorKey };
  rows: {
    cells: string[];
    tone?: ColorKey;
    title?: string;
    /** Per cell, a tooltip (the full name behind a shortened layer name). */
    titles?: (string | undefined)[];
    /** Why the row reads as it does, shown when its evidence cell is expanded. */
    evidence?: string;
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

/**
 * The bins in words, for the header: under `global` binning the model's bin range (its
 * `summary.range`), e.g. "100 bins (global, over [−1.20, 3.40])".
 */
export function binsText(report: AnalysisReport | CompareReport): string {
  const p = report.params;
  if (report.schema === 'memlens.report' && p.binning === 'global') {
    const range = formatRange(report.summary.range);
    if (range !== '') return `${p.bins} bins (global, over ${range})`;
  }
  if (report.schema === 'memlens.compare' && p.binning === 'global') {
    return `${p.bins} bins (global range per model)`;
  }
  return `${p.bins} bins (${p.binning})`;
}

/**
 * The per-layer summary of one model, with a whole-model row last. When the report has value
 * ranges, a "Value range" column: each layer's (its bin range under `layer` binning) and, on
 * the whole-model row, the model's (the bin range under `global` binning). Layers by their
 * short names (the full one in the cell's title); only those in `shown` when it is given.
 */
export function analysisTable(
  snapshot: Extract<ReportSnapshot, { kind: 'analysis' }>,
  shown?: readonly string[],
): TableData {
  const report = snapshot.report;
  const short = shortNameMap(report.layers.map((l) => l.name));
  const withRange =
    report.summary.range !== undefined || report.layers.some((l) => l.range !== undefined);
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
  if (withRange) columns.push('Value range');
  const listed =
    shown === undefined ? report.layers : report.layers.filter((l) => shown.includes(l.name));
  const rows: TableData['rows'] = listed.map((l) => ({
    titles: [short.get(l.name) === l.name ? undefined : l.name],
    cells: [
      short.get(l.name) ?? l.name,
      l.miNeurons < l.neurons ? `${l.neurons} (MI: ${l.miNeurons})` : String(l.neurons),
      formatNumber(l.entropy.median),
      formatInterval(l.entropy.notchLow, l.entropy.notchHigh),
      formatNumber(l.mi.median, 3),
      formatNumber(l.mi.mean, 3),
      String(l.mi.pairs),
      formatPercent(l.tieFraction),
      String(l.deadNeurons),
      ...(withRange ? [formatRange(l.range)] : []),
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
      ...(withRange ? [formatRange(s.range)] : []),
    ],
  });
  const read = s.entropyInformative;
  if (read !== undefined) {
    const kept = report.layers.filter((l) => !read.left.includes(l.name));
    rows.push({
      titles: [
        `H without ${read.left.length <= 5 ? read.left.join(', ') : `${read.left.length} layers`} (H uninformative there: each neuron spreads over less than one global bin)`,
      ],
      cells: [
        `layers where H is read (${kept.length} of ${report.layers.length})`,
        String(kept.reduce((a, l) => a + l.neurons, 0)),
        formatNumber(read.entropy.median),
        formatInterval(read.entropy.notchLow, read.entropy.notchHigh),
        '',
        '',
        '',
        '',
        '',
        ...(withRange ? [''] : []),
      ],
    });
  }
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

/** Whether a comparison ranks its models (a target, or a version 1 report with ranks). */
export function hasRanking(report: CompareReport): boolean {
  const r = normalizeCompare(report);
  return r.target !== null || r.ranking.length > 0;
}

/**
 * Per model: its signature and the evidence behind it, in report order. The reference says
 * "reference", a model outside the reference's group "not comparable" (why: its tooltip), and
 * without a reference the signature cells are empty. A failed model's row spans its error.
 */
export function compareTable(report: CompareReport): TableData {
  const r = normalizeCompare(report);
  const labels = shortLabels(r.models.map((m) => m.path));
  const rank = new Map(
    r.ranking.map((e) => [e.path, e.rank === null ? 'flagged' : String(e.rank)]),
  );
  const ranked = hasRanking(r);
  // A step column only for checkpoints with steps, a metric column only with a correlation.
  const withSteps = r.models.some((m) => m.step !== null);
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
  add('Value range', true);
  if (ranked) add('Rank', true);
  if (r.correlation !== null) add(r.correlation.metric, true);
  const rows = r.models.map((m, i) => {
    const lead = withSteps ? [labels[i], m.step === null ? '' : String(m.step)] : [labels[i]];
    const role = modelRole(r, m);
    if (role === 'failed') {
      return {
        cells: [...lead, `failed: ${m.error ?? ''}`],
        path: m.path,
        title: m.error,
        spanLast: true,
      };
    }
    const sig = m.signature;
    const evidence =
      role === 'read'
        ? [
            SIGNATURE_LABELS[sig.kind],
            formatNumber(sig.deltaEntropy),
            sig.notchesOverlap ? 'yes' : 'no',
            miEvidence(sig, (n) => formatNumber(n), '×'),
          ]
        : [
            role === 'reference' ? 'reference' : role === 'not-comparable' ? 'not comparable' : '',
            '',
            '',
            '',
          ];
    const cells = [
      ...lead,
      ...evidence,
      formatNumber(m.summary.entropy.median),
      formatNumber(m.summary.mi.median, 3),
      formatRange(m.summary.range),
    ];
    if (ranked) cells.push(rank.get(m.path) ?? '');
    if (r.correlation !== null) cells.push(formatNumber(m.metric, 3));
    const why =
      role === 'not-comparable' ? `not comparable: ${m.notComparable ?? ''}` : sig.explanation;
    return {
      cells,
      tone: role === 'read' ? SIGNATURE_COLORS[sig.kind] : undefined,
      title: why,
      // Without a reference the signature cell is empty: nothing to expand.
      evidence: role === 'unread' || why === '' ? undefined : why,
      path: m.path,
    };
  });
  const signatureColumn = columns.indexOf('Signature');
  return { columns, numeric, toneColumn: signatureColumn, evidenceColumn: signatureColumn, rows };
}

/**
 * Per model, per layer: median H with its notch and median I, for the models that succeeded
 * (all layers, or only `layer`). Shows which layers carry a model's signature. With a
 * reference model (baseline or reference checkpoint), a notch of a comparable model that does
 * not overlap the reference's in that layer is marked "≠".
 */
export function compareLayerTable(
  report: CompareReport,
  layer: string | null,
  filter?: string,
): TableData {
  const r = normalizeCompare(report);
  const models = modelSeries({ kind: 'compare', report: r });
  const all = layerNames(models);
  const short = shortNameMap(all);
  const layers = shownLayers(all, layer, filter);
  const columns = ['Model'];
  for (const name of layers) {
    const label = short.get(name) ?? name;
    columns.push(`${label}: median H (notch)`, `${label}: median I`);
  }
  const reference = models.find((m) => m.path === r.reference.path);
  const rows = models.map((m) => {
    const cells = [m.label];
    const model = r.models.find((x) => x.path === m.path);
    const marked = model !== undefined && modelRole(r, model) === 'read';
    for (const name of layers) {
      const l = m.layers.find((x) => x.name === name);
      if (l === undefined) {
        cells.push('—', '—');
        continue;
      }
      const e = l.entropy;
      const ref = marked ? reference?.layers.find((x) => x.name === name) : undefined;
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

function pathLabels(report: CompareReport): Map<string, string> {
  return new Map(
    shortLabels(report.models.map((m) => m.path)).map((label, i) => [report.models[i].path, label]),
  );
}

/**
 * The ranking, best first, with both measures shown; flagged models last, their rank cell
 * "flagged" and (in a Flag column) why.
 */
export function rankingTable(report: CompareReport): TableData {
  const r = normalizeCompare(report);
  const labels = pathLabels(r);
  const flagged = r.ranking.some((e) => e.rank === null || e.flag !== undefined);
  const rows = r.ranking.map((e) => ({
    cells: [
      e.rank === null ? 'flagged' : String(e.rank),
      labels.get(e.path) ?? e.path,
      formatNumber(e.entropyMedian),
      formatNumber(e.miMedian, 3),
      ...(flagged ? [e.flag ?? ''] : []),
    ],
    path: e.path,
    ...(e.flag === undefined ? {} : { title: e.flag }),
  }));
  return {
    columns: ['Rank', 'Model', 'Median H (nats)', 'Median I (nats)', ...(flagged ? ['Flag'] : [])],
    numeric: [true, false, true, true, ...(flagged ? [false] : [])],
    linkColumn: 1,
    rows,
  };
}

/** One per-axis ordering (no target): the models by median H or by median I, highest first. */
export function orderingTable(report: CompareReport, axis: 'entropy' | 'mi'): TableData {
  const r = normalizeCompare(report);
  const labels = pathLabels(r);
  const rows = r.orderings[axis].map((path, i) => {
    const m = r.models.find((x) => x.path === path);
    const value =
      axis === 'entropy'
        ? formatNumber(m?.summary.entropy.median)
        : formatNumber(m?.summary.mi.median, 3);
    return { cells: [String(i + 1), labels.get(path) ?? path, value], path };
  });
  return {
    columns: ['#', 'Model', axis === 'entropy' ? 'Median H (nats)' : 'Median I (nats)'],
    numeric: [true, false, true],
    linkColumn: 1,
    rows,
  };
}

/** Why there is no ranking without a target (the standalone report names the CLI flag). */
export const NO_TARGET_NOTE =
  'Without a target there is no single best: higher H with lower I is better against shortcut learning, lower H with higher I against label-noise memorization. The lists order the models by each measure alone; name the failure mode to guard against (memlens compare --target shortcut or --target label-noise) to rank them.';

/** The same inside VS Code, where the target is a setting. */
export const NO_TARGET_NOTE_VSCODE =
  'Without a target there is no single best: higher H with lower I is better against shortcut learning, lower H with higher I against label-noise memorization. The lists order the models by each measure alone; set memlens.target to shortcut or label-noise (the failure mode to guard against) and compare again to rank them.';

/** The ranking section: its tables, each with an id and a caption, and the lines under them. */
export interface RankingSection {
  tables: { id: string; caption: string; table: TableData }[];
  notes: string[];
}

/**
 * With a target (or the ranks of a version 1 report): the ranking table and its rule. Without
 * one: the models by median H and by median I, each highest first, and why there is no best
 * (`inVsCode`: in the words of the extension's settings rather than the CLI's flags).
 */
export function rankingSection(report: CompareReport, inVsCode = false): RankingSection {
  const r = normalizeCompare(report);
  if (hasRanking(r)) {
    const target =
      r.target === 'shortcut'
        ? ' (target: shortcut learning)'
        : r.target === 'label-noise'
          ? ' (target: label-noise memorization)'
          : '';
    return {
      tables: [{ id: 'ranking-table', caption: `Model ranking${target}`, table: rankingTable(r) }],
      notes: r.rankingRule === '' ? [] : [`Ranking rule: ${r.rankingRule}`],
    };
  }
  return {
    tables: [
      {
        id: 'ordering-entropy-table',
        caption: 'By median H (highest first)',
        table: orderingTable(r, 'entropy'),
      },
      {
        id: 'ordering-mi-table',
        caption: 'By median I (highest first)',
        table: orderingTable(r, 'mi'),
      },
    ],
    notes: [inVsCode ? NO_TARGET_NOTE_VSCODE : NO_TARGET_NOTE],
  };
}

/**
 * Models whose H change under global bins was not counted because it follows the activation
 * scale (bin ranges `factor` apart, per-layer bins disagreeing), in words.
 */
export function scaleNotes(report: CompareReport): string[] {
  const r = normalizeCompare(report);
  const labels = pathLabels(r);
  const notes: string[] = [];
  for (const m of r.models) {
    const scale = modelRole(r, m) === 'read' ? m.signature.scale : undefined;
    if (scale?.layerBinned === undefined) continue;
    if (scale.globalDirection === 'equal' || m.signature.entropyDirection !== 'equal') continue;
    notes.push(
      `${labels.get(m.path) ?? m.path}: H is ${scale.globalDirection} under global bins but ${scale.layerBinned.direction} under per-layer bins; the value ranges differ ×${formatNumber(scale.factor)} (${formatRange(scale.range)} against ${formatRange(scale.referenceRange)}), so the H change follows the activation scale and H is read as equal.`,
    );
  }
  return notes;
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

// ---------------------------------------------------------------- lone model

/**
 * What a lone model's report says in VS Code, where buttons run the commands that get a
 * verdict (the standalone HTML report keeps the core's note, which names the CLI).
 */
export const LONE_MODEL_NOTE =
  'A lone model has no verdict: memorization signatures are relative to a reference of the same architecture (a baseline, an earlier checkpoint, other candidates). Compare it with one, or make it the baseline other models are read against. The flags below are indicative only.';

/** The lone-model note without a host to run commands: the core's flag, or its gist. */
export const LONE_MODEL_CLI_NOTE =
  'These measures are comparative: a verdict needs a reference model of the same architecture (memlens compare). Flags below are indicative only.';

// ---------------------------------------------------------------- side-view summary

/** Signatures in the words of src/core/report/signatureText.ts `signatureLabel` (a test holds them equal). */
export const SIGNATURE_PHRASES: Record<SignatureKind, string> = {
  heuristic: 'heuristic memorization signature',
  'example-level': 'example-level memorization signature',
  none: 'no memorization signature',
};

export interface SummaryRow {
  /** A layer (analysis) or a model (comparison). */
  name: string;
  /** Median H and median I, formatted (nats). */
  entropy: string;
  mi: string;
  /** A comparison's row: the model's signature or role, in its tone. */
  signature?: { text: string; tone?: ColorKey };
  path?: string;
}

export interface SummaryData {
  /** The model's name, or "comparison of N models". */
  title: string;
  /** The analysis's signature against its baseline, or null for a lone model or a comparison. */
  signature: { text: string; tone: ColorKey } | null;
  /** One line under the title: what the reading is against (or that there is none). */
  note: string;
  /** The first column's heading: 'Layer' or 'Model'. */
  rowHeading: 'Layer' | 'Model';
  rows: SummaryRow[];
  /** Median I per layer (analysis) or per checkpoint (trajectory); null without one. */
  spark: { title: string; values: number[] } | null;
}

/** Whether an analysis snapshot is a lone model (no signature against a baseline). */
export function isLoneModel(snapshot: ReportSnapshot): boolean {
  return snapshot.kind === 'analysis' && snapshot.report.signature === undefined;
}

/** What the side view shows of a snapshot: signature, per-row medians and a sparkline. */
export function summaryData(snapshot: ReportSnapshot): SummaryData {
  if (snapshot.kind === 'analysis') {
    const r = snapshot.report;
    const s = r.signature;
    const rows: SummaryRow[] = r.layers.map((l) => ({
      name: l.name,
      entropy: formatNumber(l.entropy.median),
      mi: formatNumber(l.mi.median, 3),
    }));
    rows.push({
      name: 'all layers',
      entropy: formatNumber(r.summary.entropy.median),
      mi: formatNumber(r.summary.mi.median, 3),
    });
    return {
      title: reportSubject(snapshot),
      signature:
        s === undefined
          ? null
          : { text: SIGNATURE_PHRASES[s.kind], tone: SIGNATURE_COLORS[s.kind] },
      note:
        s === undefined
          ? 'No reference: a lone model has no verdict.'
          : `Against the baseline ${displayName(s.reference)}.`,
      rowHeading: 'Layer',
      rows,
      spark:
        r.layers.length > 1
          ? { title: 'Median I per layer', values: r.layers.map((l) => l.mi.median) }
          : null,
    };
  }
  const r = normalizeCompare(snapshot.report);
  const labels = shortLabels(r.models.map((m) => m.path));
  const rows: SummaryRow[] = r.models.map((m, i) => {
    const role = modelRole(r, m);
    const signature =
      role === 'read'
        ? { text: SIGNATURE_LABELS[m.signature.kind], tone: SIGNATURE_COLORS[m.signature.kind] }
        : {
            text:
              role === 'reference'
                ? 'reference'
                : role === 'failed'
                  ? 'failed'
                  : role === 'not-comparable'
                    ? 'not comparable'
                    : 'no reference',
          };
    return {
      name: labels[i],
      entropy: formatNumber(m.error === undefined ? m.summary.entropy.median : null),
      mi: formatNumber(m.error === undefined ? m.summary.mi.median : null, 3),
      signature,
      path: m.path,
    };
  });
  const traj = trajectoryData(r);
  return {
    title: reportSubject(snapshot),
    signature: null,
    note: referenceSummary(r).split('. ')[0].replace(/\.$/, '') + '.',
    rowHeading: 'Model',
    rows,
    spark:
      traj !== null && traj.mi.length > 1
        ? { title: 'Median I per checkpoint', values: traj.mi.map((p) => p.y) }
        : null,
  };
}

/**
 * A sparkline's polyline points ("x,y x,y ...") for `values` in a `width` x `height` box, y
 * down, 1 px inside each edge; non-finite values are left out. A flat series sits mid-height.
 */
export function sparklinePoints(values: readonly number[], width: number, height: number): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const step = values.length > 1 ? (width - 2) / (values.length - 1) : 0;
  const y = (v: number) => (hi > lo ? 1 + ((hi - v) / (hi - lo)) * (height - 2) : height / 2);
  const round = (v: number) => Math.round(v * 100) / 100;
  return values
    .map((v, i) => (Number.isFinite(v) ? `${round(1 + i * step)},${round(y(v))}` : null))
    .filter((p): p is string => p !== null)
    .join(' ');
}
