/**
 * Turns core progress reports into what `window.withProgress` wants: a message naming the
 * stage ("capturing activations 512/1000", "MI pairs 1200/2016") and a monotone overall
 * percentage, given as increments. Pure (no VS Code).
 */
import type { Progress } from '../../core/progress';

/**
 * Share of the overall bar per stage, in the order an analysis runs them: the stages the core
 * reports (capture, entropy, mi, summary). Opening the model reports nothing; it is the start of
 * the capture share.
 */
const STAGE_WEIGHTS: Record<string, number> = {
  capture: 30,
  entropy: 3,
  mi: 62,
  summary: 5,
};

const STAGE_LABELS: Record<string, string> = {
  capture: 'capturing activations',
  entropy: 'entropy',
  mi: 'MI pairs',
  summary: 'summaries',
};

export function progressLabel(p: Progress): string {
  const label = STAGE_LABELS[p.stage] ?? p.stage;
  const detail = p.detail ? ` ${p.detail}` : '';
  const count = p.total > 0 ? ` ${p.done}/${p.total}` : '';
  return `${label}${detail}${count}`;
}

export interface ProgressStep {
  message: string;
  /** Percentage points to add to the bar (never negative). */
  increment: number;
  /** Overall fraction done, in [0, 1]. */
  fraction: number;
}

/**
 * Tracks overall progress of one job. Stages seen out of order or repeated (compare runs the
 * pipeline once per model) never move the bar backwards. With `models` > 1 each model gets
 * an equal share of the bar, and a stage earlier than the last one seen starts the next model's.
 */
export class ProgressTracker {
  private percent = 0;
  private model = 0;
  private lastStageIndex = -1;

  constructor(private readonly models = 1) {}

  update(p: Progress): ProgressStep {
    const stages = Object.keys(STAGE_WEIGHTS);
    const index = stages.indexOf(p.stage);
    let overall = this.percent;
    if (index >= 0) {
      if (index < this.lastStageIndex && this.model < this.models - 1) this.model++;
      this.lastStageIndex = index;
      const before = stages.slice(0, index).reduce((s, k) => s + STAGE_WEIGHTS[k], 0);
      const within = p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : 0;
      const inModel = before + STAGE_WEIGHTS[p.stage] * within;
      overall = (100 * this.model + inModel) / this.models;
    }
    const next = Math.max(this.percent, Math.min(100, overall));
    const increment = next - this.percent;
    this.percent = next;
    const prefix = this.models > 1 ? `model ${this.model + 1}/${this.models}: ` : '';
    return { message: prefix + progressLabel(p), increment, fraction: next / 100 };
  }
}
