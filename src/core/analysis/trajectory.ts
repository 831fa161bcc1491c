import { modelName } from '../capture/registry';
import type { SignatureKind, TrajectoryOnset } from '../report/schema';

/**
 * The training step of a checkpoint, read from its model name (see the registry's modelName:
 * the folder of a folder model, else the file stem): the last number
 * after a step-like word (step, ckpt, checkpoint, epoch, iter, iteration), or the name itself
 * when it is only digits. "ckpt-1200.onnx" -> 1200, "step_30/model.json" -> 30, "1000.onnx"
 * -> 1000, "ckpt-100/saved_model.pb" -> 100; "seed-3", "model_v2" -> null.
 */
export function parseStep(file: string): number | null {
  const stem = modelName(file);
  const word = /(?:step|ckpt|checkpoint|epoch|iteration|iter)s?[-_ .]?(\d+)/gi;
  let match: RegExpExecArray | null;
  let found: string | null = null;
  while ((match = word.exec(stem)) !== null) found = match[1];
  if (found === null && /^\d+$/.test(stem)) found = stem;
  return found === null ? null : Number(found);
}

export interface TrajectoryPoint {
  step: number;
  path: string;
  entropyMedian: number;
  miMedian: number;
}

/**
 * Median H and median I over training, ordered by step. Only when every model has a
 * distinct step (a checkpoint series); otherwise null.
 */
export function trajectoryOf(
  models: readonly { path: string; step: number | null; entropyMedian: number; miMedian: number }[],
): TrajectoryPoint[] | null {
  if (models.length < 2) return null;
  const steps = models.map((m) => m.step);
  if (steps.some((s) => s === null) || new Set(steps).size !== steps.length) return null;
  return models
    .map((m) => ({
      step: m.step as number,
      path: m.path,
      entropyMedian: m.entropyMedian,
      miMedian: m.miMedian,
    }))
    .sort((a, b) => a.step - b.step);
}

/**
 * Where each memorization signature first appears along a trajectory read against a
 * reference checkpoint: the earliest checkpoint after the reference carrying it, and whether
 * every later checkpoint carries it too. `points` in step order, the reference left out.
 */
export function trajectoryOnsets(
  points: readonly { step: number; path: string; kind: SignatureKind }[],
): TrajectoryOnset[] {
  const onsets: TrajectoryOnset[] = [];
  for (const kind of ['heuristic', 'example-level'] as const) {
    const first = points.findIndex((p) => p.kind === kind);
    if (first < 0) continue;
    onsets.push({
      kind,
      step: points[first].step,
      path: points[first].path,
      persists: points.slice(first).every((p) => p.kind === kind),
    });
  }
  return onsets.sort((a, b) => a.step - b.step);
}
