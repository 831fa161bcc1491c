/**
 * The JSON reports MemLens writes (`memlens analyze`, `memlens compare`) and that the
 * extension's panels draw. Versioned: bump the version on any breaking change and document
 * it in docs/report-schema.md. Plain data only (JSON-serialisable).
 */

/** Box-plot summary of a set of values (matplotlib conventions, numpy linear quantiles). */
export interface BoxSummary {
  n: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
  mean: number;
  /** Most extreme values within q1 - 1.5 IQR and q3 + 1.5 IQR. */
  whiskerLow: number;
  whiskerHigh: number;
  /**
   * median -/+ 1.57 IQR / sqrt(n): the 95% interval of the median. For entropies clipped to
   * [0, ln B], the range H can take.
   */
  notchLow: number;
  notchHigh: number;
}

/** One Gaussian component of a 1-D mixture. */
export interface GmmComponent {
  weight: number;
  mean: number;
  sd: number;
}

/** A 1-D Gaussian-mixture density of MI values, components chosen by BIC. */
export interface MiDensity {
  components: GmmComponent[];
  bic: number;
  /** Evaluation grid (nats) and the mixture density on it. */
  x: number[];
  density: number[];
}

/** Off-diagonal MI summary over a set of neuron pairs. */
export interface MiSummary {
  pairs: number;
  median: number;
  mean: number;
  q1: number;
  q3: number;
}

export interface LayerReport {
  name: string;
  /** Neurons in the layer (all measured for entropy). */
  neurons: number;
  /** Neurons of this layer that entered the MI estimate (after the per-layer cap). */
  miNeurons: number;
  /**
   * Neurons of this layer left out of MI for want of a continuous part (constant, binary, or
   * every value repeated at least k + 1 times; under the `mixed` estimator only constant
   * neurons; see `miMeasurable` in measures/ties.ts).
   * Absent in reports written before it was added (read as 0).
   */
  miUnmeasurable?: number;
  /** Per-neuron entropy (nats), in column order. */
  entropies: number[];
  entropy: BoxSummary;
  /** MI over pairs inside this layer. */
  mi: MiSummary;
  density: MiDensity;
  /** Fraction of values that are tied with another value of the same neuron (mean over neurons). */
  tieFraction: number;
  /** Neurons constant over the whole probe set. */
  deadNeurons: number;
}

export type WarningCode =
  | 'heavy-ties'
  | 'dead-neurons'
  | 'small-probe'
  | 'mi-subsampled'
  | 'nonfinite-dropped'
  /** Neurons left out of MI: no continuous part (see `LayerReport.miUnmeasurable`). */
  | 'mi-unmeasurable'
  /** A notice of the probe loader, e.g. the first CSV line taken as a header. */
  | 'probe-notice';

export interface ReportWarning {
  code: WarningCode;
  message: string;
  layer?: string;
}

/** An indicative flag for a lone model, with the documented threshold that raised it. */
export interface ReportFlag {
  code: string;
  message: string;
  threshold: string;
}

export interface AnalysisParams {
  bins: number;
  binning: 'global' | 'layer' | 'neuron';
  k: number;
  /**
   * The MI estimator: `ksg` (KSG-1, exact ties counted where eps = 0, as scikit-learn) or
   * `mixed` (tie-aware, Gao et al. 2017). Absent in reports written before it was added: read
   * as `ksg` (which then counted no ties at eps = 0; docs/report-schema.md).
   */
  estimator?: 'ksg' | 'mixed';
  samples: number;
  seed: number;
  point: 'preactivation' | 'output';
  layers: string[];
  miNeuronCap: number | null;
  miPairs: number | null;
}

export interface AnalysisReport {
  schema: 'memlens.report';
  version: 1;
  createdAt: string;
  model: { path: string; format: string; sha256: string };
  probe: { path: string; samples: number } | null;
  params: AnalysisParams;
  backend: string | null;
  timing: { captureMs: number; entropyMs: number; miMs: number; totalMs: number };
  warnings: ReportWarning[];
  flags: ReportFlag[];
  layers: LayerReport[];
  /**
   * Present when the model was read against a baseline (the extension's `memlens.baseline`):
   * its signature relative to that baseline. Absent for a lone model, which has no verdict.
   */
  signature?: Signature;
  summary: {
    /** Over all measured neurons. */
    entropy: BoxSummary;
    /** Over all off-diagonal pairs of measured neurons. */
    mi: MiSummary;
    density: MiDensity;
  };
}

export type SignatureKind = 'heuristic' | 'example-level' | 'none';

export interface Signature {
  kind: SignatureKind;
  /** Median H of this model minus that of the reference (nats). */
  deltaEntropy: number;
  /** Whether the notches of this model and the reference overlap (overall entropy). */
  notchesOverlap: boolean;
  /**
   * Median I of this model divided by that of the reference, with a bootstrap interval. NaN
   * (null in JSON) when `miComparison` is `difference`: near or below 0 a ratio misleads.
   */
  miRatio: number;
  miRatioLow: number;
  miRatioHigh: number;
  /**
   * How median I was compared: `ratio`, or `difference` when either median is below
   * MI_RATIO_FLOOR (0.01 nats; src/core/analysis/signature.ts). Absent in older reports
   * (read as `ratio`).
   */
  miComparison?: 'ratio' | 'difference';
  /** Median I of this model minus that of the reference (nats), with a bootstrap interval. */
  miDifference?: number;
  miDifferenceLow?: number;
  miDifferenceHigh?: number;
  /** How median H and median I moved against the reference, after thresholds and intervals. */
  entropyDirection?: 'lower' | 'higher' | 'equal';
  miDirection?: 'lower' | 'higher' | 'equal';
  reference: string;
  explanation: string;
}

export interface CompareModel {
  path: string;
  /** Step parsed from the checkpoint name, for trajectories. */
  step: number | null;
  summary: AnalysisReport['summary'];
  layers: LayerReport[];
  signature: Signature;
  metric: number | null;
  /** The analysis warnings of this model (heavy ties, dead neurons, small probe ...). */
  warnings?: ReportWarning[];
  error?: string;
}

export interface CompareReport {
  schema: 'memlens.compare';
  version: 1;
  createdAt: string;
  probe: { path: string; samples: number } | null;
  params: AnalysisParams;
  baseline: string | null;
  thresholds: { deltaEntropy: number; miRatio: number };
  models: CompareModel[];
  ranking: { path: string; rank: number; entropyMedian: number; miMedian: number }[];
  rankingRule: string;
  correlation: { metric: string; entropySpearman: number; miSpearman: number } | null;
  trajectory: { step: number; path: string; entropyMedian: number; miMedian: number }[] | null;
  /**
   * The medians the signatures are read against, for the chart's quadrants: the baseline's
   * (label `baseline`), or the whole cohort pooled (`pooled cohort`: every model's neuron
   * entropies and MI pairs; each model's signature leaves that model out). Absent in reports
   * written before it was added.
   */
  reference?: {
    label: 'baseline' | 'pooled cohort';
    entropyMedian: number;
    miMedian: number;
  } | null;
}
