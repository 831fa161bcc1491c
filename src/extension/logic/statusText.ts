/**
 * What the MemLens status-bar item says: the running job and its progress; else how the latest
 * job ended when it failed or was cancelled; else the latest result (its model and signature).
 * Pure (no VS Code): the host puts the text on a StatusBarItem and the tooltip, Markdown, in a
 * MarkdownString.
 */
import * as path from 'node:path';
import { signatureLabel } from '../../core/report/signatureText';
import { isFolderMarker } from './modelFileNames';
import type { ResultEntry } from './resultStore';

/** The newest result: one model's analysis, or a compare newer than every analysis. */
export type LatestResult =
  | { kind: 'analysis'; entry: ResultEntry }
  | { kind: 'compare'; createdAt: string; models: ResultEntry[] };

/** How the latest job ended when it gave no result; the next result replaces it. */
export type JobEnd =
  | { kind: 'failed'; job: string | null; error: string; at: Date }
  | { kind: 'cancelled'; job: string; at: Date };

export interface StatusInput {
  busy: { job: string; fraction: number | null; stage: string | null } | null;
  ended: JobEnd | null;
  latest: LatestResult | null;
}

export interface StatusView {
  text: string;
  /** Markdown (every path and message escaped). */
  tooltip: string;
  /** The model whose report a click opens; null: Open Report without a target. */
  open: string | null;
  /** Whether the item shows an error (the host gives it the error background). */
  error: boolean;
}

/** What the latest job produced: a model's result, or a compare (by its key). */
export type JobSubject = { model: string } | { compare: string };

/**
 * The latest result: what the latest job produced while the store still holds it; else (before
 * any job, or once it is gone) the newest entry, or the latest compare when it is at least as
 * new (its models share its time), as the Latest Analysis view decides.
 */
export function latestResult(
  entries: readonly ResultEntry[],
  compare: { key: string; createdAt: string } | undefined,
  subject: JobSubject | null = null,
): LatestResult | null {
  const compared = (key: string): ResultEntry[] => entries.filter((e) => e.compareKey === key);
  if (subject !== null && 'model' in subject) {
    const own = entries.find((e) => e.modelPath === subject.model);
    if (own) return { kind: 'analysis', entry: own };
  } else if (subject !== null && compare?.key === subject.compare) {
    const models = compared(compare.key);
    if (models.length > 0) return { kind: 'compare', createdAt: compare.createdAt, models };
  }
  const newest = entries.reduce<ResultEntry | undefined>(
    (best, e) => (!best || e.analysedAt > best.analysedAt ? e : best),
    undefined,
  );
  if (compare && (!newest || compare.createdAt >= newest.analysedAt)) {
    const models = compared(compare.key);
    if (models.length > 0) return { kind: 'compare', createdAt: compare.createdAt, models };
  }
  return newest ? { kind: 'analysis', entry: newest } : null;
}

/** "heuristic memorization", "no memorization": the signature's label without "signature". */
export function shortSignature(entry: ResultEntry): string {
  return entry.signature
    ? signatureLabel(entry.signature.kind).replace(/ signature$/, '')
    : 'no reference';
}

/** What a user calls the model in a few characters: a folder model's folder, else the file. */
export function shortModelName(modelPath: string): string {
  return isFolderMarker(modelPath)
    ? path.basename(path.dirname(modelPath))
    : path.basename(modelPath);
}

/** Local time, "2024-01-05 09:07". */
export function localTime(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}`
  );
}

/** Escapes the characters Markdown would read as markup (paths hold `_` and `*`). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&');
}

const num = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

/** The first line of an error message, for a one-line tooltip. */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0].trim() || 'unknown error';
}

/** The status bar for `input`; `relative` turns an absolute path into the workspace's form. */
export function statusView(
  input: StatusInput,
  relative: (file: string) => string = (f) => f,
): StatusView {
  const { latest } = input;
  // A compare's models open their own analyses: Open Report without a target offers the
  // active panel (the compare's, just opened) or a choice.
  const open = latest?.kind === 'analysis' ? latest.entry.modelPath : null;
  const clickLine =
    open !== null
      ? `\n\nClick to open the report of ${escapeMarkdown(shortModelName(open))}.`
      : latest !== null
        ? '\n\nClick to open a report.'
        : '';
  if (input.busy) {
    const { job, fraction, stage } = input.busy;
    const pct = fraction === null ? '' : ` ${Math.round(fraction * 100)}%`;
    return {
      text: `$(sync~spin) MemLens: ${job}${pct}`,
      tooltip:
        `**${escapeMarkdown(job)}**` +
        (stage ? `: ${escapeMarkdown(stage)}` : '') +
        '\n\nCancel from the progress notification.' +
        clickLine,
      open,
      error: false,
    };
  }
  const { ended } = input;
  if (ended?.kind === 'failed') {
    return {
      text: '$(error) MemLens: failed',
      tooltip:
        `**${escapeMarkdown(ended.job ?? 'MemLens')} failed** at ${localTime(ended.at)}` +
        `\n\n${escapeMarkdown(ended.error)}` +
        clickLine,
      open,
      error: true,
    };
  }
  if (ended?.kind === 'cancelled') {
    return {
      text: '$(circle-slash) MemLens: cancelled',
      tooltip: `**${escapeMarkdown(ended.job)}** cancelled at ${localTime(ended.at)}` + clickLine,
      open,
      error: false,
    };
  }
  if (latest === null) {
    return {
      text: 'MemLens: no result',
      tooltip:
        'No analysis yet: right-click a model file and choose MemLens: Analyze Memorization.',
      open: null,
      error: false,
    };
  }
  if (latest.kind === 'compare') {
    const flagged = latest.models.filter(
      (m) => m.signature !== null && m.signature.kind !== 'none',
    ).length;
    const lines = latest.models.map(
      (m) => `- ${escapeMarkdown(relative(m.modelPath))}: ${shortSignature(m)}`,
    );
    return {
      text:
        `$(pulse) MemLens: ${latest.models.length} models compared` +
        (flagged > 0 ? ` · ${flagged} flagged` : ''),
      tooltip:
        `**Compared ${latest.models.length} models** at ${localTime(new Date(latest.createdAt))}` +
        `\n\n${lines.join('\n')}` +
        clickLine,
      open,
      error: false,
    };
  }
  const e = latest.entry;
  const reading = e.signature
    ? `${signatureLabel(e.signature.kind)} against ${e.signature.reference}`
    : 'No reference, so no signature: the measures are comparative (set a baseline or compare models).';
  return {
    text: `$(pulse) MemLens: ${shortModelName(e.modelPath)} · ${shortSignature(e)}`,
    tooltip:
      `**${escapeMarkdown(relative(e.modelPath))}**` +
      `\n\n${escapeMarkdown(reading)}` +
      `\n\nmedian H ${num(e.entropyMedian, 2)} nats · median I ${num(e.miMedian, 3)} nats` +
      `\n\nanalysed ${localTime(new Date(e.analysedAt))}` +
      (e.backend ? ` · backend ${escapeMarkdown(e.backend)}` : '') +
      clickLine,
    open,
    error: false,
  };
}
