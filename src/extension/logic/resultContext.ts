/**
 * The context of a stored result: what a model was run on and read against. A model keeps one
 * result per context (a lone analysis on the digits probe, the same against a baseline, its
 * place in a compare), so a run with another probe or reference never hides the others.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type {
  AnalysisParams,
  AnalysisReport,
  CompareReport,
  Signature,
} from '../../core/report/schema';

export interface ResultContext {
  /** Stable across re-runs of the same context (a retrained model replaces its result). */
  id: string;
  kind: 'alone' | 'baseline' | 'compare';
  /** The probe data's path, or null (a dump brings its activations). */
  probe: string | null;
  /** The reference: the baseline's path, the compare's reference in words, or null (alone). */
  reference: string | null;
  /** The settings that change the numbers, in words ("1000 samples, 100 global bins, k 3"). */
  settings: string;
}

/** The numbers settings in words; `ksg` and the default point are left implicit. */
export function settingsText(p: AnalysisParams): string {
  const parts = [
    `${p.samples} samples`,
    `${p.bins} ${p.binning} bins`,
    `k ${p.k}`,
    `seed ${p.seed}`,
  ];
  if (p.estimator === 'mixed') parts.push('mixed estimator');
  if (p.point === 'output') parts.push('layer outputs');
  if (p.miNeuronCap !== null) parts.push(`MI on ${p.miNeuronCap} neurons`);
  if (p.imageScale !== undefined) parts.push(`pixels ${p.imageScale}`);
  return parts.join(', ');
}

function idOf(parts: (string | null)[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** The context of an analysis: alone, or against the baseline its signature names. */
export function analysisContext(
  report: AnalysisReport,
  signature: Signature | null,
): ResultContext {
  const probe = report.probe?.path ?? null;
  const reference = signature?.reference ?? null;
  const settings = settingsText(report.params);
  const kind = reference === null ? 'alone' : 'baseline';
  return { id: idOf([kind, probe, reference, settings]), kind, probe, reference, settings };
}

/** The context of a model's place in a compare: the set of models and the reference. */
export function compareContext(report: CompareReport): ResultContext {
  const probe = report.probe?.path ?? null;
  const models = report.models.map((m) => path.resolve(m.path)).sort();
  const reference = report.reference.label ?? report.reference.mode;
  const settings = settingsText(report.params);
  return {
    id: idOf(['compare', probe, reference, settings, ...models]),
    kind: 'compare',
    probe,
    reference: `${reference} (compare of ${models.length} models)`,
    settings,
  };
}

/** One line naming the context, for tree descriptions, tooltips and pickers. */
export function contextLabel(c: ResultContext, relative: (p: string) => string): string {
  const against =
    c.kind === 'alone'
      ? 'alone'
      : c.kind === 'baseline'
        ? `against ${relative(c.reference ?? '')}`
        : `in a compare against ${c.reference ?? 'no reference'}`;
  const probe = c.probe === null ? 'its own activations' : path.basename(c.probe);
  return `${against}, on ${probe}`;
}
