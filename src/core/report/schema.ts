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
  /**
   * Smallest and largest value of the layer's neurons: the layer's bin range under `layer`
   * binning. Absent in reports written before it was added.
   */
  range?: ValueRange;
}

/** The smallest and largest of a set of activation values. */
export interface ValueRange {
  min: number;
  max: number;
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
  | 'probe-notice'
  /**
   * Under global binning, a layer whose neurons each move by less than one bin (median
   * per-neuron max - min below the global bin width): its H says nothing and is not read.
   */
  | 'h-uninformative';

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
  /**
   * The MI kernel that computed the pair values: `native` (the C addon), `wasm` or `ts` (the
   * TypeScript fallback); all three give the same bits, at different speeds. After a merge,
   * the shards' (the slowest, if they differed). Absent in older reports.
   */
  miKernel?: 'native' | 'wasm' | 'ts';
  /**
   * For a probe folder of images: the scale its pixels were read at (`0-1`, `0-255` or
   * `neg1-1`), the user's or the one the model's input implies. Absent for other probes, for
   * dumps and in older reports.
   */
  imageScale?: '0-1' | '0-255' | 'neg1-1';
}

/**
 * How the MI estimate was planned (src/core/analysis/miPlan.ts): `all` pairs within the time
 * budget (or without one), `capped` (a seeded per-layer neuron cap chosen to fit the budget),
 * `sampled` (64 neurons per layer and sampled pairs), `asked` (the user's neuron cap or pair
 * count), `shared` (another model's plan, so that the models of a compare measure alike).
 */
export type MiPlanMode = 'all' | 'capped' | 'sampled' | 'asked' | 'shared';

/** The MI plan of an analysis: what every pair would cost, and what was measured instead. */
export interface MiPlanReport {
  mode: MiPlanMode;
  /** Seconds; 0: no limit. */
  budgetSeconds: number;
  /** KSG pairs per second on one thread at this S, k and estimator, behind the estimates. */
  rate: number;
  /**
   * `measured` at start-up on synthetic columns with the kernel that runs; `environment`:
   * MEMLENS_MI_RATE; `assumed`: a slow figure, for a job that fits its budget even at it.
   */
  rateSource: 'measured' | 'environment' | 'assumed';
  threads: number;
  /** The default plan: every pair of the MI-measurable neurons (across layers too). */
  allNeurons: number;
  allPairs: number;
  allSeconds: number;
  /** The neuron cap per layer measured with, or null. */
  cap: number | null;
  /** Pairs drawn at random (seeded) among those of the capped neurons, or null: all of them. */
  sampledPairs: number | null;
  plannedNeurons: number;
  plannedPairs: number;
  plannedSeconds: number;
  /** Mode `shared`: the model whose plan was taken. */
  sharedWith?: string;
  /** Per layer: MI-measurable neurons, those measured, and the pairs inside the layer. */
  layers: {
    name: string;
    neurons: number;
    miNeurons: number;
    allPairs: number;
    /** Sampled plans: the expected number among the drawn pairs (the summary counts them). */
    plannedPairs: number;
    /** Sampled plans: the 95% bootstrap interval of the layer's median I (nats). */
    miMedianInterval?: { low: number; high: number };
  }[];
  /** Sampled plans: the 95% bootstrap interval of the whole model's median I (nats). */
  miMedianInterval?: { low: number; high: number };
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
  /** How the MI estimate was planned against the time budget. Absent in older reports. */
  miPlan?: MiPlanReport;
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
    /**
     * Smallest and largest value over all measured neurons: the bin range under `global`
     * binning. Absent in reports written before it was added.
     */
    range?: ValueRange;
    /**
     * Under `global` binning, the per-neuron entropies binned per layer instead (each layer's
     * bins over its own range), summarised: what a comparison checks the H change against when
     * two models' ranges differ in scale (see Signature.scale). Absent otherwise.
     */
    entropyLayerBinned?: BoxSummary;
    /**
     * Under `global` binning, when H is uninformative in some layers but not all (the
     * `h-uninformative` warnings): H over the other layers' neurons, the H a signature reads.
     * Absent otherwise and in reports written before it was added.
     */
    entropyInformative?: InformativeEntropy;
  };
}

/** H over the neurons of the layers where it is informative under global bins. */
export interface InformativeEntropy {
  /** The layers left out (H uninformative there), in report order. */
  left: string[];
  entropy: BoxSummary;
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
  /** The reference in words ("the baseline shortcut-baseline", "the cohort median ..."). */
  reference: string;
  explanation: string;
  /**
   * Under `global` binning: the two bin ranges and how far their widths differ. When the
   * factor reaches `thresholds.scaleRatio`, median H was also compared under per-layer bins
   * (`layerBinned`), and the H direction holds only when both binnings agree; otherwise
   * `entropyDirection` is `equal` and the explanation says the H change follows the
   * activation scale. Absent without global binning and in older reports.
   */
  scale?: {
    range: ValueRange;
    referenceRange: ValueRange;
    /** max(w, w_ref) / min(w, w_ref) of the range widths w = max - min (Infinity if one is 0). */
    factor: number;
    layerBinned?: {
      deltaEntropy: number;
      notchesOverlap: boolean;
      direction: 'lower' | 'higher' | 'equal';
    };
    /** The direction under global bins before the check (what `entropyDirection` would be). */
    globalDirection: 'lower' | 'higher' | 'equal';
  };
}

/** Which failure mode a ranking guards against (`--target`). */
export type RankingTarget = 'shortcut' | 'label-noise';

/** The keyword of a compare's `reference` option that reads each model against the cohort median. */
export const COHORT_REFERENCE = 'cohort';

/** What the signatures of a comparison are read against. */
export interface CompareReference {
  /**
   * `baseline`: the baseline model; `checkpoint`: the reference checkpoint of a trajectory
   * (by default the earliest); `cohort`: for each model, the other comparable models pooled
   * ("relative to the cohort median"); `none`: no reference, so no signatures.
   */
  mode: 'baseline' | 'checkpoint' | 'cohort' | 'none';
  /** The reference model (`baseline`, `checkpoint`), else null. */
  path: string | null;
  /** The reference checkpoint is an untrained initialisation (step 0). */
  initialisation: boolean;
  /** The reference in words, as the explanations use it. */
  label: string;
  /**
   * The medians the chart draws its quadrants around: the reference model's, or in cohort
   * mode every comparable model's values pooled; NaN (null in JSON) in mode `none`.
   */
  entropyMedian: number;
  miMedian: number;
}

export interface RankingEntry {
  path: string;
  /** 1 = best; null for a flagged model, which is listed after the ranked ones. */
  rank: number | null;
  entropyMedian: number;
  miMedian: number;
  /** Why the model cannot be ranked best: it carries the other failure mode's signature. */
  flag?: string;
}

/** Where a signature first appears along a trajectory (after the reference checkpoint). */
export interface TrajectoryOnset {
  kind: 'heuristic' | 'example-level';
  step: number;
  path: string;
  /** The signature holds at every later checkpoint too. */
  persists: boolean;
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
  /**
   * Present when the model was analysed but is not comparable with the reference's group
   * (other measured layers or widths, another output width): why. It then has no signature
   * and no rank.
   */
  notComparable?: string;
  /**
   * Present when the model is comparable only once its layers were mapped onto the group's
   * (another format of the same network): every pair, in the group's layer order, and how it
   * was matched: `exact` name, `name` once format decoration is stripped (`/fc1/Gemm` as
   * `fc1`), or `position` and width. Its `layers` then carry the group's names (`to`).
   */
  layerMapping?: { from: string; to: string; how: 'exact' | 'name' | 'position' }[];
  /** How this model's MI estimate was planned (the first model's plan is the others'). */
  miPlan?: MiPlanReport;
  /** The model's output shape (batch dimension null), when its format tells it. */
  outputShape?: (number | null)[];
  error?: string;
}

export interface CompareReport {
  schema: 'memlens.compare';
  version: 2;
  createdAt: string;
  probe: { path: string; samples: number } | null;
  params: AnalysisParams;
  /** The baseline model (`--baseline`), or null. */
  baseline: string | null;
  /** What the signatures are read against. */
  reference: CompareReference;
  thresholds: { deltaEntropy: number; miRatio: number; scaleRatio: number };
  models: CompareModel[];
  /** The failure mode the ranking guards against; null: no ranking, only per-axis orderings. */
  target: RankingTarget | null;
  /** With a target: the comparable models other than the reference, rank 1 best; else empty. */
  ranking: RankingEntry[];
  /** The ranking rule in words (or, without a target, why there is no single best). */
  rankingRule: string;
  /** The comparable models other than the reference, by median H and by median I, highest first. */
  orderings: { entropy: string[]; mi: string[] };
  correlation: { metric: string; entropySpearman: number; miSpearman: number } | null;
  /** When every model name carries a distinct step: median H and I in step order. */
  trajectory: { step: number; path: string; entropyMedian: number; miMedian: number }[] | null;
  /** With a trajectory read against a reference: where each signature first appears. */
  onsets: TrajectoryOnset[];
}
