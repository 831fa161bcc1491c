/**
 * Hand-built reports for the chart, reducer and HTML tests. The "tiny" ones have values worked
 * out by hand (see the comments); the "realistic" ones are generated with a seeded RNG and
 * summarised here with numpy's conventions and the core's MI density, for the visual and
 * browser checks.
 */
import type {
  AnalysisParams,
  AnalysisReport,
  BoxSummary,
  CompareModel,
  CompareReport,
  LayerReport,
  MiDensity,
  MiSummary,
  Signature,
} from '../../src/core/report/schema';
import { miDensity } from '../../src/core/measures/gmm';
import { Rng } from '../../src/core/random';

export const PARAMS: AnalysisParams = {
  bins: 100,
  binning: 'global',
  k: 3,
  samples: 600,
  seed: 1,
  point: 'preactivation',
  layers: ['dense_1', 'dense_2'],
  miNeuronCap: null,
  miPairs: null,
};

/**
 * Entropies 1, 2, 3, 4, 5: q1 2, median 3, q3 4 (numpy linear), IQR 2,
 * notch 3 -/+ 1.57 * 2 / sqrt(5) = 3 -/+ 1.404249, whiskers 1 and 5.
 */
export const BOX_A: BoxSummary = {
  n: 5,
  min: 1,
  q1: 2,
  median: 3,
  q3: 4,
  max: 5,
  mean: 3,
  whiskerLow: 1,
  whiskerHigh: 5,
  notchLow: 3 - 1.404249,
  notchHigh: 3 + 1.404249,
};

/**
 * Entropies 0.5, 1, 1.5, 2: q1 0.875, median 1.25, q3 1.625 (numpy linear), IQR 0.75,
 * notch 1.25 -/+ 1.57 * 0.75 / 2 = 1.25 -/+ 0.58875, whiskers 0.5 and 2.
 */
export const BOX_B: BoxSummary = {
  n: 4,
  min: 0.5,
  q1: 0.875,
  median: 1.25,
  q3: 1.625,
  max: 2,
  mean: 1.25,
  whiskerLow: 0.5,
  whiskerHigh: 2,
  notchLow: 1.25 - 0.58875,
  notchHigh: 1.25 + 0.58875,
};

const DENSITY: MiDensity = {
  components: [{ weight: 1, mean: 0.5, sd: 0.2 }],
  bic: 12.5,
  x: [0, 0.5, 1],
  density: [0.2, 1.4, 0.4],
};

export function tinyLayers(): LayerReport[] {
  return [
    {
      name: 'dense_1',
      neurons: 5,
      miNeurons: 5,
      entropies: [1, 2, 3, 4, 5],
      entropy: BOX_A,
      mi: { pairs: 10, median: 0.12, mean: 0.15, q1: 0.05, q3: 0.2 },
      density: DENSITY,
      tieFraction: 0.0125,
      deadNeurons: 0,
      range: { min: -1.5, max: 2.5 },
    },
    {
      name: 'dense_2',
      neurons: 4,
      miNeurons: 3,
      entropies: [0.5, 1, 1.5, 2],
      entropy: BOX_B,
      mi: { pairs: 3, median: 0.4, mean: 0.45, q1: 0.3, q3: 0.6 },
      // One non-finite grid point that the charts must drop.
      density: { ...DENSITY, x: [0, 0.25, 0.5, 0.75], density: [0.1, Number.NaN, 2, 0.3] },
      tieFraction: 0.5,
      deadNeurons: 1,
      range: { min: 0, max: 4.25 },
    },
  ];
}

export function tinyAnalysis(): AnalysisReport {
  return {
    schema: 'memlens.report',
    version: 1,
    createdAt: '2026-11-26T18:00:00.000Z',
    model: {
      path: '/work/models/shortcut/model.json',
      format: 'tfjs-layers',
      sha256: 'ab'.repeat(32),
    },
    probe: { path: '/work/data/probe.npy', samples: 600 },
    params: PARAMS,
    backend: 'tfjs-wasm',
    timing: { captureMs: 800, entropyMs: 5, miMs: 1200, totalMs: 2100 },
    warnings: [{ code: 'heavy-ties', message: '50% of values are tied', layer: 'dense_2' }],
    flags: [],
    layers: tinyLayers(),
    summary: {
      entropy: { ...BOX_A, n: 9, median: 2 },
      mi: { pairs: 13, median: 0.2, mean: 0.22, q1: 0.1, q3: 0.3 },
      density: DENSITY,
      // The global bin range: over both layers' ranges.
      range: { min: -1.5, max: 4.25 },
    },
  };
}

export function signature(
  kind: Signature['kind'],
  deltaEntropy: number,
  miRatio: number,
): Signature {
  return {
    kind,
    deltaEntropy,
    notchesOverlap: kind === 'none',
    miRatio,
    miRatioLow: miRatio * 0.8,
    miRatioHigh: miRatio * 1.25,
    reference: 'runs/base/model.json',
    explanation: `${kind}: median H ${deltaEntropy} nats, median I x${miRatio}`,
  };
}

function compareModel(
  path: string,
  step: number | null,
  hMedian: number,
  iMedian: number,
  sig: Signature,
): CompareModel {
  const layers = tinyLayers();
  return {
    path,
    step,
    summary: {
      entropy: { ...BOX_A, median: hMedian },
      mi: { pairs: 13, median: iMedian, mean: iMedian * 1.1, q1: iMedian / 2, q3: iMedian * 2 },
      density: DENSITY,
      // Value range [-H, 2H]: base [-2, 4], shortcut [-1.2, 2.4], random [-2.6, 5.2].
      range: { min: -hMedian, max: 2 * hMedian },
    },
    layers,
    signature: sig,
    metric: null,
  };
}

/** The ranking flag of a model carrying the example-level signature, under target shortcut. */
export const EXAMPLE_LEVEL_FLAG =
  'carries the example-level signature (H higher, I lower): a possible label-noise memoriser';

/**
 * Three models against a baseline: base (H 2.0, I 0.10; the reference), shortcut (H 1.2,
 * I 0.40: heuristic), random labels (H 2.6, I 0.04: example-level), and one that failed.
 * Target shortcut: shortcut is the only one ranked (1), random is flagged (it carries the
 * example-level signature) and listed last; the baseline is not ranked. Orderings: by H
 * random (2.6), shortcut (1.2); by I shortcut (0.4), random (0.04). Onsets after the
 * reference step 100: heuristic at 200 (not at 300), example-level at 300.
 */
export function tinyCompare(): CompareReport {
  return {
    schema: 'memlens.compare',
    version: 2,
    createdAt: '2026-11-26T18:00:00.000Z',
    probe: { path: '/work/data/probe.npy', samples: 600 },
    params: PARAMS,
    baseline: 'runs/base/model.json',
    reference: {
      mode: 'baseline',
      path: 'runs/base/model.json',
      initialisation: false,
      label: 'runs/base/model.json',
      entropyMedian: 2.0,
      miMedian: 0.1,
    },
    thresholds: { deltaEntropy: 0.1, miRatio: 1.5, scaleRatio: 1.5 },
    target: 'shortcut',
    models: [
      compareModel('runs/base/model.json', 100, 2.0, 0.1, signature('none', 0, 1)),
      compareModel('runs/shortcut/model.json', 200, 1.2, 0.4, signature('heuristic', -0.8, 4)),
      compareModel('runs/random/model.json', 300, 2.6, 0.04, signature('example-level', 0.6, 0.4)),
      {
        ...compareModel(
          'runs/broken/model.json',
          null,
          Number.NaN,
          Number.NaN,
          signature('none', 0, 1),
        ),
        layers: [],
        error: 'runs/broken/model.json: expected a layers-model, found a graph-model',
      },
    ],
    ranking: [
      { path: 'runs/shortcut/model.json', rank: 1, entropyMedian: 1.2, miMedian: 0.4 },
      {
        path: 'runs/random/model.json',
        rank: null,
        entropyMedian: 2.6,
        miMedian: 0.04,
        flag: EXAMPLE_LEVEL_FLAG,
      },
    ],
    rankingRule:
      'target shortcut learning: higher median H and lower median I are better; a model whose I is lower than the reference, with H not lower, is flagged and not ranked',
    orderings: {
      entropy: ['runs/random/model.json', 'runs/shortcut/model.json'],
      mi: ['runs/shortcut/model.json', 'runs/random/model.json'],
    },
    correlation: null,
    trajectory: [
      { step: 300, path: 'runs/random/model.json', entropyMedian: 2.6, miMedian: 0.04 },
      { step: 100, path: 'runs/base/model.json', entropyMedian: 2.0, miMedian: 0.1 },
      { step: 200, path: 'runs/shortcut/model.json', entropyMedian: 1.2, miMedian: 0.4 },
    ],
    onsets: [
      { kind: 'example-level', step: 300, path: 'runs/random/model.json', persists: true },
      { kind: 'heuristic', step: 200, path: 'runs/shortcut/model.json', persists: false },
    ],
  };
}

/**
 * tinyCompare without a reference (mode `none`) or a target: no signatures (each model's says
 * why), no ranking, the per-axis orderings of all three analysed models, no onsets. Medians
 * are NaN, as the core writes them (null once through JSON).
 */
export function noReferenceCompare(): CompareReport {
  const report = tinyCompare();
  const why =
    'no signature: no reference to read it against (a baseline, a reference checkpoint, or the cohort median)';
  return {
    ...report,
    baseline: null,
    reference: {
      mode: 'none',
      path: null,
      initialisation: false,
      label: 'no reference',
      entropyMedian: Number.NaN,
      miMedian: Number.NaN,
    },
    models: report.models.map((m) =>
      m.error !== undefined
        ? m
        : {
            ...m,
            signature: {
              kind: 'none',
              deltaEntropy: Number.NaN,
              notchesOverlap: true,
              miRatio: Number.NaN,
              miRatioLow: Number.NaN,
              miRatioHigh: Number.NaN,
              reference: '',
              explanation: why,
            },
          },
    ),
    target: null,
    ranking: [],
    rankingRule:
      'no target: no single best; the models are ordered by each measure alone (name the failure mode to guard against to rank them)',
    orderings: {
      entropy: ['runs/random/model.json', 'runs/base/model.json', 'runs/shortcut/model.json'],
      mi: ['runs/shortcut/model.json', 'runs/base/model.json', 'runs/random/model.json'],
    },
    onsets: [],
  };
}

/**
 * tinyCompare as a version 1 report saved earlier: no reference object (or the old
 * `{ label, entropyMedian, miMedian }`), numeric ranks in any order (the baseline ranked too),
 * no target, orderings, onsets or scale threshold. Cast: the schema type is version 2 only.
 */
export function versionOneCompare(reference?: {
  label: 'baseline' | 'pooled cohort';
  entropyMedian: number;
  miMedian: number;
}): CompareReport {
  const report = tinyCompare();
  const old: Record<string, unknown> = {
    ...report,
    version: 1,
    thresholds: { deltaEntropy: 0.1, miRatio: 1.5 },
    models: report.models.map((m) => {
      const copy = { ...m, summary: { ...m.summary } };
      delete copy.summary.range;
      return copy;
    }),
    ranking: [
      { path: 'runs/base/model.json', rank: 2, entropyMedian: 2.0, miMedian: 0.1 },
      { path: 'runs/random/model.json', rank: 1, entropyMedian: 2.6, miMedian: 0.04 },
      { path: 'runs/shortcut/model.json', rank: 3, entropyMedian: 1.2, miMedian: 0.4 },
    ],
    rankingRule: 'higher median H first, then lower median I (shortcut learning)',
  };
  for (const key of ['target', 'orderings', 'onsets', 'reference']) delete old[key];
  if (reference !== undefined) old.reference = reference;
  return old as unknown as CompareReport;
}

// ---------------------------------------------------------------- realistic, generated

/** numpy.quantile with linear interpolation. */
function quantile(sorted: readonly number[], p: number): number {
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function boxOf(values: readonly number[]): BoxSummary {
  const s = [...values].sort((a, b) => a - b);
  const q1 = quantile(s, 0.25);
  const median = quantile(s, 0.5);
  const q3 = quantile(s, 0.75);
  const iqr = q3 - q1;
  const half = (1.57 * iqr) / Math.sqrt(s.length);
  return {
    n: s.length,
    min: s[0],
    q1,
    median,
    q3,
    max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    whiskerLow: s.find((v) => v >= q1 - 1.5 * iqr) ?? s[0],
    whiskerHigh: [...s].reverse().find((v) => v <= q3 + 1.5 * iqr) ?? s[s.length - 1],
    notchLow: median - half,
    notchHigh: median + half,
  };
}

/**
 * `n` pair values drawn from two log-normal modes, at `centre` (a part `main` of the pairs)
 * and twice it, skewed right and above 0 as MI estimates of related neurons are. Summarised
 * as the core does (numpy quantiles, the core's mixture density).
 */
function pairValues(
  rng: Rng,
  n: number,
  centre: number,
  main: number,
): { mi: MiSummary; density: MiDensity } {
  const values = Array.from({ length: n }, () =>
    rng.next() < main
      ? centre * Math.exp(0.35 * rng.normal())
      : 2 * centre * Math.exp(0.3 * rng.normal()),
  );
  const s = [...values].sort((a, b) => a - b);
  return {
    mi: {
      pairs: n,
      median: quantile(s, 0.5),
      mean: values.reduce((a, b) => a + b, 0) / n,
      q1: quantile(s, 0.25),
      q3: quantile(s, 0.75),
    },
    density: miDensity(values, { maxComponents: 3 }),
  };
}

function realisticLayers(rng: Rng, hCentre: number, iCentre: number): LayerReport[] {
  // The pair values draw from their own generator: the entropies stay those of the seed.
  const pairs = new Rng(Math.round(iCentre * 1000));
  return ['dense_1', 'dense_2', 'dense_3'].map((name, li) => {
    const entropies = Array.from({ length: 64 }, () =>
      Math.max(0.05, hCentre - 0.25 * li + 0.45 * rng.normal()),
    );
    return {
      name,
      neurons: 64,
      miNeurons: 64,
      entropies,
      entropy: boxOf(entropies),
      ...pairValues(pairs, 2016, iCentre * (1 + 0.3 * li), 0.7),
      tieFraction: 0.001 * li,
      deadNeurons: li === 2 ? 1 : 0,
      range: { min: -2.5 - 0.5 * li, max: 3 + 0.75 * li },
    };
  });
}

function summaryOf(layers: LayerReport[]): AnalysisReport['summary'] {
  const all = layers.flatMap((l) => l.entropies);
  // All 18336 pairs of the 192 neurons, centred on the middle layer's median.
  const pairs = pairValues(new Rng(layers.length), 18336, layers[1].mi.median, 0.6);
  return {
    entropy: boxOf(all),
    ...pairs,
    range: {
      min: Math.min(...layers.map((l) => l.range?.min ?? Infinity)),
      max: Math.max(...layers.map((l) => l.range?.max ?? -Infinity)),
    },
  };
}

export function realisticAnalysis(): AnalysisReport {
  const layers = realisticLayers(new Rng(7), 2.4, 0.22);
  return {
    ...tinyAnalysis(),
    params: { ...PARAMS, layers: layers.map((l) => l.name) },
    flags: [
      {
        code: 'high-mi',
        message: 'median I of dense_3 is high for a lone model',
        threshold: 'median I > 0.25 nats',
      },
    ],
    warnings: [],
    layers,
    summary: summaryOf(layers),
  };
}

export function realisticCompare(): CompareReport {
  const rng = new Rng(11);
  const specs: [string, number, number, Signature][] = [
    ['examples/generalising/model.json', 2.4, 0.12, signature('none', 0, 1)],
    ['examples/shortcut/model.json', 1.5, 0.45, signature('heuristic', -0.9, 3.75)],
    ['examples/random-labels/model.json', 2.6, 0.05, signature('example-level', 0.2, 0.42)],
  ];
  const models: CompareModel[] = specs.map(([path, h, i, sig], k) => {
    const layers = realisticLayers(rng, h, i);
    return {
      path,
      step: (k + 1) * 500,
      summary: summaryOf(layers),
      layers,
      signature: sig,
      metric: null,
    };
  });
  const medians = (m: CompareModel) => ({
    path: m.path,
    entropyMedian: m.summary.entropy.median,
    miMedian: m.summary.mi.median,
  });
  // Target shortcut against the baseline: random-labels carries the example-level signature,
  // so it is flagged; the baseline itself is not ranked.
  return {
    ...tinyCompare(),
    params: { ...PARAMS, layers: ['dense_1', 'dense_2', 'dense_3'] },
    baseline: 'examples/generalising/model.json',
    reference: {
      mode: 'baseline',
      path: models[0].path,
      initialisation: false,
      label: models[0].path,
      entropyMedian: models[0].summary.entropy.median,
      miMedian: models[0].summary.mi.median,
    },
    models,
    ranking: [
      { ...medians(models[1]), rank: 1 },
      { ...medians(models[2]), rank: null, flag: EXAMPLE_LEVEL_FLAG },
    ],
    orderings: {
      entropy: [models[2].path, models[1].path],
      mi: [models[1].path, models[2].path],
    },
    trajectory: models.map((m) => ({ ...medians(m), step: m.step ?? 0 })),
    onsets: [
      { kind: 'heuristic', step: 1000, path: models[1].path, persists: false },
      { kind: 'example-level', step: 1500, path: models[2].path, persists: true },
    ],
  };
}

/**
 * A graph-model-like analysis of `n` layers (MobileNetV2 style names under
 * StatefulPartitionedCall/...; every block has an expand and a project Conv2D, so one segment
 * does not tell them apart), cycling the realistic layers' measures, with per-layer warnings
 * as the core writes them (the layer's name first) and one model-wide warning.
 */
export function manyLayerAnalysis(n = 40): AnalysisReport {
  const base = realisticAnalysis();
  const prefix = 'StatefulPartitionedCall/mobilenetv2_1.00_224/MobilenetV2';
  const names = Array.from({ length: n }, (_, i) =>
    i === 0
      ? `${prefix}/Conv1/Conv2D`
      : `${prefix}/block_${Math.ceil(i / 2)}_${i % 2 === 1 ? 'expand' : 'project'}/Conv2D`,
  );
  const layers = names.map((name, i) => ({ ...base.layers[i % base.layers.length], name }));
  const warnings: AnalysisReport['warnings'] = [];
  names.forEach((name, i) => {
    if (i % 3 === 0) {
      warnings.push({
        code: 'heavy-ties',
        layer: name,
        message: `${name}: on average ${(20 + i).toFixed(1)}% of each neuron's values are tied (e.g. post-ReLU zeros); KSG MI is biased by ties, the capture is pre-activation already: prefer the tie-aware estimator (mixed)`,
      });
    }
    if (i % 5 === 1) {
      warnings.push({
        code: 'dead-neurons',
        layer: name,
        message: `${name}: 1 of 64 neurons are constant over the probe set (H = 0)`,
      });
    }
  });
  warnings.push({
    code: 'small-probe',
    message: '500 probe examples: below 1000 the estimates are noisy (1,000 to 2,500 recommended)',
  });
  return {
    ...base,
    model: { ...base.model, path: '/models/mobilenet_v2/model.json' },
    params: { ...base.params, layers: names },
    warnings,
    layers,
  };
}
