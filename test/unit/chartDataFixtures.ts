/**
 * Hand-built reports for the chart, reducer and HTML tests. The "tiny" ones have values worked
 * out by hand (see the comments); the "realistic" ones are generated with a seeded RNG and
 * summarised here with numpy's conventions, for the visual and browser checks.
 */
import type {
  AnalysisParams,
  AnalysisReport,
  BoxSummary,
  CompareModel,
  CompareReport,
  LayerReport,
  MiDensity,
  Signature,
} from '../../src/core/report/schema';
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
    },
    layers,
    signature: sig,
    metric: null,
  };
}

/**
 * Three models against a baseline: base (H 2.0, I 0.10), shortcut (H 1.2, I 0.40: heuristic),
 * random labels (H 2.6, I 0.04: example-level), and one that failed.
 */
export function tinyCompare(): CompareReport {
  return {
    schema: 'memlens.compare',
    version: 1,
    createdAt: '2026-11-26T18:00:00.000Z',
    probe: { path: '/work/data/probe.npy', samples: 600 },
    params: PARAMS,
    baseline: 'runs/base/model.json',
    thresholds: { deltaEntropy: 0.1, miRatio: 1.5 },
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
      { path: 'runs/random/model.json', rank: 1, entropyMedian: 2.6, miMedian: 0.04 },
      { path: 'runs/base/model.json', rank: 2, entropyMedian: 2.0, miMedian: 0.1 },
      { path: 'runs/shortcut/model.json', rank: 3, entropyMedian: 1.2, miMedian: 0.4 },
    ],
    rankingRule: 'higher median H first, then lower median I (shortcut learning)',
    correlation: null,
    trajectory: [
      { step: 300, path: 'runs/random/model.json', entropyMedian: 2.6, miMedian: 0.04 },
      { step: 100, path: 'runs/base/model.json', entropyMedian: 2.0, miMedian: 0.1 },
      { step: 200, path: 'runs/shortcut/model.json', entropyMedian: 1.2, miMedian: 0.4 },
    ],
  };
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

function mixture(components: MiDensity['components']): MiDensity {
  const x: number[] = [];
  const density: number[] = [];
  for (let i = 0; i <= 120; i++) {
    const v = -0.1 + (i / 120) * 1.3;
    x.push(v);
    density.push(
      components.reduce(
        (a, c) =>
          a +
          (c.weight * Math.exp(-0.5 * ((v - c.mean) / c.sd) ** 2)) /
            (c.sd * Math.sqrt(2 * Math.PI)),
        0,
      ),
    );
  }
  return { components, bic: -1234.5, x, density };
}

function realisticLayers(rng: Rng, hCentre: number, iCentre: number): LayerReport[] {
  return ['dense_1', 'dense_2', 'dense_3'].map((name, li) => {
    const entropies = Array.from({ length: 64 }, () =>
      Math.max(0.05, hCentre - 0.25 * li + 0.45 * rng.normal()),
    );
    const iMean = iCentre * (1 + 0.3 * li);
    const pairs = 2016;
    return {
      name,
      neurons: 64,
      miNeurons: 64,
      entropies,
      entropy: boxOf(entropies),
      mi: { pairs, median: iMean, mean: iMean * 1.15, q1: iMean * 0.6, q3: iMean * 1.5 },
      density: mixture([
        { weight: 0.7, mean: iMean, sd: 0.35 * iMean + 0.02 },
        { weight: 0.3, mean: iMean * 2, sd: 0.5 * iMean + 0.03 },
      ]),
      tieFraction: 0.001 * li,
      deadNeurons: li === 2 ? 1 : 0,
    };
  });
}

function summaryOf(layers: LayerReport[]): AnalysisReport['summary'] {
  const all = layers.flatMap((l) => l.entropies);
  const iMedian = layers[1].mi.median;
  return {
    entropy: boxOf(all),
    mi: {
      pairs: 18336,
      median: iMedian,
      mean: iMedian * 1.2,
      q1: iMedian * 0.5,
      q3: iMedian * 1.6,
    },
    density: mixture([
      { weight: 0.6, mean: iMedian, sd: 0.4 * iMedian + 0.02 },
      { weight: 0.4, mean: iMedian * 1.8, sd: 0.5 * iMedian + 0.03 },
    ]),
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
  return {
    ...tinyCompare(),
    params: { ...PARAMS, layers: ['dense_1', 'dense_2', 'dense_3'] },
    baseline: 'examples/generalising/model.json',
    models,
    ranking: [
      {
        path: models[2].path,
        rank: 1,
        entropyMedian: models[2].summary.entropy.median,
        miMedian: models[2].summary.mi.median,
      },
      {
        path: models[0].path,
        rank: 2,
        entropyMedian: models[0].summary.entropy.median,
        miMedian: models[0].summary.mi.median,
      },
      {
        path: models[1].path,
        rank: 3,
        entropyMedian: models[1].summary.entropy.median,
        miMedian: models[1].summary.mi.median,
      },
    ],
    trajectory: models.map((m) => ({
      step: m.step ?? 0,
      path: m.path,
      entropyMedian: m.summary.entropy.median,
      miMedian: m.summary.mi.median,
    })),
  };
}
