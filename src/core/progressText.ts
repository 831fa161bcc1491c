/**
 * Progress and estimates in words, shared by the CLI's progress line, the plan (analysis/miPlan)
 * and the extension's notification (light: no engine imports).
 */
import type { Progress } from './progress';

/** A count as people read it: 2,016; 845,000; 62.7 M; 1.2 G. */
export function countText(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  return Math.round(n).toLocaleString('en-US');
}

/** A duration, rounded as an estimate: <1 s, 40 s, 12 min, 19 h, 3 days. */
export function durationText(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown';
  if (seconds < 1) return '<1 s';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/** An estimated duration: "~40 s", "~19 h", "<1 s". */
export function aboutText(seconds: number): string {
  const d = durationText(seconds);
  return d.startsWith('<') ? d : `~${d}`;
}

/**
 * The MI stage's progress beyond its percentage: "1.2 M/3.0 M pairs, 2,100 pairs/s, ~3 min
 * left" (without a rate yet: only the pairs).
 */
export function miProgressText(p: Progress): string {
  const pairs = `${countText(p.done)}/${countText(p.total)} pairs`;
  if (p.eta === undefined || !(p.eta.pairsPerSecond > 0)) return pairs;
  return `${pairs}, ${countText(p.eta.pairsPerSecond)} pairs/s, ${etaText(p.eta.remainingSeconds)}`;
}

/** The time left of a stage: "~3 min left", or "done". */
export function etaText(remainingSeconds: number): string {
  return remainingSeconds <= 0 ? 'done' : `${aboutText(remainingSeconds)} left`;
}
