/**
 * Reports of networks with many layers: short layer names for axes, legends and tables (the
 * full names go in tooltips and title attributes), the layer filter, and the report's warnings
 * grouped into one table. Pure functions, unit-tested.
 */
import type { ReportWarning, WarningCode } from '../src/core/report/schema';
import type { TableData } from './chartData';

/** From this many layers on, the MI densities are drawn one small chart per layer. */
export const SMALL_MULTIPLES_FROM = 9;

/** Up to this many warnings, the warning table starts expanded (closed beyond: they ran to 30-80 lines). */
export const WARNINGS_OPEN_UP_TO = 3;

/**
 * The shortest suffix of each name, by `/`-separated segments, that no other name ends with
 * (`StatefulPartitionedCall/model/block_1/Conv2D` and `.../block_2/Conv2D` become
 * `block_1/Conv2D` and `block_2/Conv2D`). A name equal to another is kept whole.
 */
export function shortLayerNames(names: readonly string[]): string[] {
  const segments = names.map((n) => n.split('/'));
  const suffix = (s: string[], depth: number) => s.slice(-depth).join('/');
  return names.map((name, i) => {
    const own = segments[i];
    for (let depth = 1; depth < own.length; depth++) {
      const mine = suffix(own, depth);
      // Another name of fewer segments cannot end the same way and count as this suffix.
      const clash = segments.some(
        (other, j) => j !== i && other.length >= depth && suffix(other, depth) === mine,
      );
      if (!clash) return mine;
    }
    return name;
  });
}

/** Full name to short name, over every layer of a report (stable whatever is filtered). */
export function shortNameMap(names: readonly string[]): Map<string, string> {
  const short = shortLayerNames(names);
  return new Map(names.map((n, i) => [n, short[i]]));
}

/** Whether `name` passes the layer filter: every word of it is in the name, ignoring case. */
export function matchesLayerFilter(name: string, filter: string | undefined): boolean {
  const words = (filter ?? '')
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  const lower = name.toLowerCase();
  return words.every((w) => lower.includes(w));
}

/** The layers shown: the one selected, else those passing the filter, in report order. */
export function shownLayers(
  names: readonly string[],
  selected: string | null,
  filter: string | undefined,
): string[] {
  if (selected !== null && names.includes(selected)) return [selected];
  return names.filter((n) => matchesLayerFilter(n, filter));
}

/** What each kind of warning is about, when its layers' messages differ. */
const WARNING_TITLES: Record<WarningCode, string> = {
  'heavy-ties': 'Many tied values: KSG MI is biased by ties',
  'dead-neurons': 'Constant neurons (H = 0)',
  'small-probe': 'Small probe set',
  'mi-subsampled': 'MI estimated on a subset',
  'nonfinite-dropped': 'Non-finite values dropped',
  'mi-unmeasurable': 'Neurons left out of MI (no continuous part)',
  'probe-notice': 'Probe notice',
  'h-uninformative': 'H uninformative: per-neuron spread is below one global bin',
};

/** A message without its leading "layer: " (the core names the layer for the CLI's lines). */
export function withoutLayerPrefix(message: string, layer: string | undefined): string {
  return layer !== undefined && message.startsWith(`${layer}: `)
    ? message.slice(layer.length + 2)
    : message;
}

/** The warnings of one code. */
export interface WarningGroup {
  code: WarningCode;
  /** The message, when every layer's reads the same; else the code's title. */
  text: string;
  /** The layers it names, in report order (none for a model-wide warning). */
  layers: string[];
  /** Each layer's own message (without its layer prefix), when they differ. */
  details: { layer: string; message: string }[];
  count: number;
}

/** The warnings grouped by code, in order of first appearance. */
export function warningGroups(warnings: readonly ReportWarning[]): WarningGroup[] {
  const byCode = new Map<WarningCode, ReportWarning[]>();
  for (const w of warnings) byCode.set(w.code, [...(byCode.get(w.code) ?? []), w]);
  return [...byCode].map(([code, ws]) => {
    const messages = ws.map((w) => withoutLayerPrefix(w.message, w.layer));
    const same = messages.every((m) => m === messages[0]);
    const layers = ws.flatMap((w) => (w.layer === undefined ? [] : [w.layer]));
    return {
      code,
      text: same ? messages[0] : (WARNING_TITLES[code] ?? code),
      layers: [...new Set(layers)],
      details: same ? [] : ws.map((w, i) => ({ layer: w.layer ?? '', message: messages[i] })),
      count: ws.length,
    };
  });
}

/**
 * The warnings as one table (warning, layers, count), one row per code; layers by their short
 * names (`short`), the full ones in the cell's title; differing messages per layer in the
 * row's evidence. Only the warnings of the shown layers (and model-wide ones) when `shown` is
 * given.
 */
export function warningTable(
  warnings: readonly ReportWarning[],
  short: ReadonlyMap<string, string>,
  shown?: readonly string[],
): TableData {
  const kept =
    shown === undefined
      ? warnings
      : warnings.filter((w) => w.layer === undefined || shown.includes(w.layer));
  const name = (layer: string) => short.get(layer) ?? layer;
  const rows = warningGroups(kept).map((g) => ({
    cells: [g.text, g.layers.map(name).join(', ') || 'whole model', String(g.count)],
    titles: [undefined, g.layers.length > 0 ? g.layers.join('\n') : undefined, undefined],
    ...(g.details.length > 0
      ? { evidence: g.details.map((d) => `${name(d.layer)}: ${d.message}`).join('\n') }
      : {}),
  }));
  return {
    columns: ['Warning', 'Layers', 'Count'],
    numeric: [false, false, true],
    evidenceColumn: 0,
    rows,
  };
}
