/**
 * Turns core progress reports into what `window.withProgress` wants: a message that names the
 * model being measured when the job measures several ("Measuring generalising (2 of 4): MI
 * pairs 40%"; a lone model is named by the notification's title, which VS Code shows before
 * the message) and a monotone overall percentage, given as increments. Pure (no VS Code).
 */
import type { Progress } from '../../core/progress';
import { etaText } from '../../core/progressText';

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
const STAGES = Object.keys(STAGE_WEIGHTS);

/** The model a report is about, in a multi-model job: `<name> (model <i> of <n>)`, then `: <detail>`. */
const MODEL_DETAIL = /^(.+) \(model (\d+) of (\d+)\)(?:: (.*))?$/s;

/**
 * One stage in words, with the share of it done: "MI pairs 40%", "summarising dense_1"; the MI
 * stage with the time left at its rate so far: "MI pairs 40%, ~3 min left".
 */
export function stageText(
  stage: string,
  done: number,
  total: number,
  detail?: string,
  eta?: Progress['eta'],
): string {
  const pct = total > 0 ? ` ${Math.floor(100 * Math.min(1, Math.max(0, done / total)))}%` : '';
  switch (stage) {
    case 'capture':
      // The capture's detail (a PyTorch model's file) names the model again: left out.
      return `capturing activations${pct}`;
    case 'entropy':
      return `entropy${pct}`;
    case 'mi':
      return eta === undefined || !(eta.pairsPerSecond > 0)
        ? `MI pairs${pct}`
        : `MI pairs${pct}, ${etaText(eta.remainingSeconds)}`;
    case 'summary':
      return detail ? `summarising ${detail}` : 'summarising';
    default:
      return `${stage}${detail ? ` ${detail}` : ''}${pct}`;
  }
}

export interface ProgressStep {
  /** What is being done, for after the notification's title. */
  message: string;
  /** Percentage points to add to the bar (never negative). */
  increment: number;
  /** Overall fraction done, in [0, 1]. */
  fraction: number;
}

/**
 * Tracks overall progress of one job. A compare, and an analysis against its baseline, name
 * the model of each report in its detail, with which one (and of how many) it is. Without
 * that, the job measures `models` models and a stage earlier than the last one seen starts
 * the next. Each model gets an equal share of the bar; stages seen out of order or repeated
 * never move it backwards.
 */
export class ProgressTracker {
  private percent = 0;
  private model = 0;
  private count: number;
  private name: string | undefined;
  private lastStageIndex = -1;

  constructor(models = 1) {
    this.count = Math.max(1, models);
  }

  update(p: Progress): ProgressStep {
    const index = STAGES.indexOf(p.stage);
    let detail = p.detail;
    const named = detail === undefined ? null : MODEL_DETAIL.exec(detail);
    if (named) {
      this.name = named[1];
      this.model = Number(named[2]) - 1;
      this.count = Math.max(this.model + 1, Number(named[3]));
      detail = named[4];
    } else if (index >= 0 && index < this.lastStageIndex && this.model < this.count - 1) {
      this.model++;
      this.name = undefined;
    }
    let overall = this.percent;
    if (index >= 0) {
      this.lastStageIndex = index;
      const before = STAGES.slice(0, index).reduce((s, k) => s + STAGE_WEIGHTS[k], 0);
      const within = p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : 0;
      const inModel = before + STAGE_WEIGHTS[p.stage] * within;
      overall = (100 * this.model + inModel) / this.count;
    }
    const next = Math.max(this.percent, Math.min(100, overall));
    const increment = next - this.percent;
    this.percent = next;
    const stage = stageText(p.stage, p.done, p.total, detail, p.eta);
    const which =
      this.count > 1
        ? `Measuring ${this.name ?? 'model'} (${this.model + 1} of ${this.count}): `
        : '';
    return { message: which + stage, increment, fraction: next / 100 };
  }
}
