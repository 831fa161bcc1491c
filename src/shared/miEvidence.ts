/**
 * How a signature's median-I evidence reads, for the lenses, warnings and the compare table:
 * the ratio with its bootstrap interval, or, when a median is near or below 0 (KSG bias) and
 * the core compared by difference, the signed difference in nats with its interval. Never a
 * ratio that would invert the direction.
 */
import type { Signature } from '../core/report/schema';

export function miEvidence(
  s: Pick<
    Signature,
    | 'miComparison'
    | 'miRatio'
    | 'miRatioLow'
    | 'miRatioHigh'
    | 'miDifference'
    | 'miDifferenceLow'
    | 'miDifferenceHigh'
  >,
  format: (n: number) => string,
  times = 'x',
): string {
  if (s.miComparison === 'difference' && s.miDifference !== undefined) {
    const sign = s.miDifference >= 0 ? '+' : '';
    return `${sign}${format(s.miDifference)} nats [${format(s.miDifferenceLow ?? NaN)}, ${format(s.miDifferenceHigh ?? NaN)}]`;
  }
  return `${times}${format(s.miRatio)} [${format(s.miRatioLow)}, ${format(s.miRatioHigh)}]`;
}
