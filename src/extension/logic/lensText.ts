/**
 * What code lenses and diagnostics say about a checkpoint line, from the stored results.
 * Pure (no VS Code): the providers only wrap these strings in VS Code objects.
 */
import * as path from 'node:path';
import { signatureLabel } from '../../core/report/signatureText';
import type { UnresolvedPath } from '../../core/training/checkpointLines';
import { miEvidence } from '../../shared/miEvidence';
import { contextLabel } from './resultContext';
import type { ResultEntry } from './resultStore';

/** The lens shown before any result exists for the saved path. */
export const ANALYZE_LENS_TITLE = 'MemLens: analyze memorization';

/**
 * The stored result for a path a script saves to: the model itself, or a model file inside
 * the saved folder (TF.js `model.save('file://dir')` writes dir/model.json; `save_pretrained`
 * writes a folder). The most recent match wins.
 */
export function entryForSavedPath(
  savedPath: string,
  entries: readonly ResultEntry[],
): ResultEntry | undefined {
  const target = path.resolve(savedPath);
  let best: ResultEntry | undefined;
  for (const e of entries) {
    const p = path.resolve(e.modelPath);
    if (p !== target && path.dirname(p) !== target) continue;
    if (!best || e.analysedAt > best.analysedAt) best = e;
  }
  return best;
}

const num = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

/**
 * Whether the model file was modified after its content was last seen to match the entry
 * (a training script saving the checkpoint again). `modelMtimeMs` undefined: no such file.
 */
export function isStale(entry: ResultEntry, modelMtimeMs: number | undefined): boolean {
  return modelMtimeMs !== undefined && modelMtimeMs > Date.parse(entry.checkedAt);
}

/** What a stale lens adds to its title; clicking it analyses the model again. */
export const STALE_LENS_SUFFIX = ' · model saved since: analyze again';

/**
 * "MemLens: H 2.31 · I 0.84 · heuristic memorization signature" (or "· no reference"), with
 * the stale suffix when the model changed since.
 */
export function lensTitle(entry: ResultEntry | undefined, stale = false): string {
  if (!entry) return ANALYZE_LENS_TITLE;
  const verdict = entry.signature
    ? signatureLabel(entry.signature.kind)
    : 'no reference (set memlens.baseline or compare)';
  const title = `MemLens: H ${num(entry.entropyMedian)} · I ${num(entry.miMedian)} · ${verdict}`;
  return stale ? title + STALE_LENS_SUFFIX : title;
}

/** The tooltip of a lens whose saved path is not known statically: why, and what a click offers. */
export function unresolvedTooltip(unresolved: UnresolvedPath): string {
  const offer = unresolved.glob
    ? `choose one of the files matching ${unresolved.glob}`
    : 'choose the model file to analyse';
  return `The saved path is not known statically (${unresolved.reason}): ${offer}`;
}

/** The title of the quick pick of the files an unresolved save may have written. */
export const SAVED_PICK_TITLE = 'MemLens: Analyze a Saved Checkpoint';

/** That quick pick's placeholder: why the path is unknown, and which files it lists. */
export function savedPickPlaceholder(reason: string, glob: string): string {
  return `${reason[0].toUpperCase()}${reason.slice(1)}: the files matching ${glob}, newest first`;
}

/** A listed file's description: when it was saved, in local time ("saved 2024-01-05 09:07"). */
export function savedFileDescription(mtimeMs: number): string {
  const d = new Date(mtimeMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `saved ${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}`
  );
}

/**
 * A result lens's tooltip: the signature's explanation (or how to get one), which context the
 * result is from, and whether the model has results in other contexts.
 */
export function resultTooltip(
  entry: ResultEntry,
  results: number,
  relative: (p: string) => string,
): string {
  const what = entry.signature?.explanation ?? 'No reference: open the report';
  const others =
    results > 1 ? ` ${results - 1} other result(s): MemLens: Switch Result… shows another.` : '';
  return `${what}. Result ${contextLabel(entry.context, relative)} (${entry.context.settings}).${others}`;
}

/** True when the entry should raise a warning on the lines that save its model. */
export function showsMemorization(entry: ResultEntry | undefined): boolean {
  return (
    entry?.signature !== null && entry?.signature !== undefined && entry.signature.kind !== 'none'
  );
}

/**
 * The warning text: which signature, against which reference, and the evidence (delta of
 * median H with notch overlap, ratio of median I with its bootstrap interval).
 */
export function diagnosticMessage(entry: ResultEntry, displayPath: string, stale = false): string {
  const s = entry.signature;
  if (!s) return '';
  const delta = `${s.deltaEntropy >= 0 ? '+' : ''}${num(s.deltaEntropy)}`;
  const notches = s.notchesOverlap ? 'notches overlap' : 'notches apart';
  return (
    `MemLens: ${signatureLabel(s.kind)} in ${displayPath} vs ${s.reference}: ` +
    `median H ${delta} nats (${notches}), median I ${miEvidence(s, num)}` +
    (stale ? ' (from an earlier save of the model: analyze it again)' : '')
  );
}
