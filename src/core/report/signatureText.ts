/**
 * A signature in words, for every view (lenses, tree, viewer, the baseline flag of a report).
 * Light: the extension host imports it without the engine.
 */
import { miEvidence } from '../../shared/miEvidence';
import type { AnalysisReport, Signature, SignatureKind } from './schema';

export function signatureLabel(kind: SignatureKind): string {
  switch (kind) {
    case 'heuristic':
      return 'heuristic memorization signature';
    case 'example-level':
      return 'example-level memorization signature';
    case 'none':
      return 'no memorization signature';
  }
}

const num = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

/**
 * The report of an analysis read against a baseline: it carries the signature, and the
 * lone-model "no reference" flag gives way to a "baseline-signature" flag stating the
 * signature, its evidence and the thresholds, so every view says the same.
 */
export function withSignatureFlag(
  report: AnalysisReport,
  signature: Signature,
  thresholds: { deltaEntropy: number; miRatio: number },
): AnalysisReport {
  const delta = `${signature.deltaEntropy >= 0 ? '+' : ''}${num(signature.deltaEntropy)}`;
  const flag = {
    code: 'baseline-signature',
    message:
      `${signatureLabel(signature.kind)} against the baseline ${signature.reference}: ` +
      `median H ${delta} nats (${signature.notchesOverlap ? 'notches overlap' : 'notches apart'}), ` +
      `median I ${miEvidence(signature, num)}`,
    threshold:
      `H differs by at least ${thresholds.deltaEntropy} nats with notches apart; ` +
      `I ratio at least ${thresholds.miRatio} (or at most 1/${thresholds.miRatio}) with its 95% bootstrap interval excluding 1`,
  };
  return {
    ...report,
    signature,
    flags: [flag, ...report.flags.filter((f) => f.code !== 'no-reference')],
  };
}
