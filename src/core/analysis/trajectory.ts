import * as path from 'node:path';

/**
 * The training step of a checkpoint, read from its file or folder name: the last run of
 * digits after a step-like word (step, ckpt, checkpoint, epoch, iter) or, failing that, the
 * last run of digits in the name. "ckpt-1200.onnx" -> 1200, "step_30/model.json" -> 30,
 * "model.json" -> null. For model.json the parent folder's name is used.
 */
export function parseStep(file: string): number | null {
  const base = path.basename(file);
  const name = /^model\.json$/i.test(base) ? path.basename(path.dirname(file)) : base;
  const stem = name.replace(/\.(json|onnx|h5|keras|npy|npz|pt|bin)$/i, '');
  const word = /(?:step|ckpt|checkpoint|epoch|iter(?:ation)?)[-_ .]?(\d+)/gi;
  let match: RegExpExecArray | null;
  let found: string | null = null;
  while ((match = word.exec(stem)) !== null) found = match[1];
  if (found === null) {
    const digits = stem.match(/\d+/g);
    found = digits === null ? null : digits[digits.length - 1];
  }
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
