import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYER_CSV_COLUMNS, layerTableCsv, toCsv } from '../../src/core/report/csv';
import type {
  AnalysisParams,
  AnalysisReport,
  BoxSummary,
  CompareReport,
  LayerReport,
  MiDensity,
  MiSummary,
} from '../../src/core/report/schema';

const box = (median: number): BoxSummary => ({
  n: 4,
  min: 0,
  q1: median - 0.5,
  median,
  q3: median + 0.5,
  max: 5,
  mean: median,
  whiskerLow: 0,
  whiskerHigh: 5,
  notchLow: median - 0.25,
  notchHigh: median + 0.25,
});
const mi = (median: number): MiSummary => ({ pairs: 6, median, mean: median + 0.01, q1: 0, q3: 1 });
const density: MiDensity = { components: [], bic: 0, x: [], density: [] };
const layer = (name: string, h: number, i: number): LayerReport => ({
  name,
  neurons: 4,
  miNeurons: 4,
  entropies: [h, h, h, h],
  entropy: box(h),
  mi: mi(i),
  density,
  tieFraction: 0.25,
  deadNeurons: 1,
});
const params: AnalysisParams = {
  bins: 100,
  binning: 'global',
  k: 3,
  samples: 600,
  seed: 0,
  point: 'preactivation',
  layers: [],
  miNeuronCap: null,
  miPairs: null,
};

void test('analysis CSV: header, one CRLF row per layer, full precision', () => {
  const report: AnalysisReport = {
    schema: 'memlens.report',
    version: 1,
    createdAt: '2026-01-01T00:00:00Z',
    model: { path: 'dir/model, "v1".json', format: 'tfjs-layers', sha256: 'x' },
    probe: null,
    params,
    backend: 'cpu',
    timing: { captureMs: 0, entropyMs: 0, miMs: 0, totalMs: 0 },
    warnings: [],
    flags: [],
    layers: [layer('dense_1', 2.5, 0.125), layer('=cmd', 1 / 3, Number.NaN)],
    summary: { entropy: box(2), mi: mi(0.1), density },
  };
  const lines = layerTableCsv(report).split('\r\n');
  assert.equal(lines.length, 4); // header, 2 rows, trailing empty
  assert.equal(lines[3], '');
  assert.equal(lines[0], LAYER_CSV_COLUMNS.join(','));
  assert.equal(
    lines[1],
    '"dir/model, ""v1"".json",dense_1,4,4,2.5,2,3,2.25,2.75,0,5,0.125,0.135,6,0.25,1',
  );
  // a formula-like name is kept as text; NaN is an empty cell; 1/3 at full precision
  assert.ok(lines[2].includes(`,'=cmd,4,4,${1 / 3},`));
  assert.ok(lines[2].includes(',5,,'));
});

void test('compare CSV: signature columns per layer row, the baseline named, failures as error rows', () => {
  const sig = {
    kind: 'heuristic' as const,
    deltaEntropy: -0.5,
    notchesOverlap: false,
    miRatio: 8,
    miRatioLow: 6,
    miRatioHigh: 10,
    reference: 'a',
    explanation: '',
  };
  const model = (path: string, error?: string) => ({
    path,
    step: null,
    summary: { entropy: box(2), mi: mi(0.1), density },
    layers: error === undefined ? [layer('h1', 2, 0.1), layer('h2', 3, 0.2)] : [],
    signature: { ...sig, kind: path === 'a' ? ('none' as const) : sig.kind },
    metric: null,
    ...(error === undefined ? {} : { error }),
  });
  const report: CompareReport = {
    schema: 'memlens.compare',
    version: 1,
    createdAt: '',
    probe: null,
    params,
    baseline: 'a',
    thresholds: { deltaEntropy: 0.1, miRatio: 1.5 },
    models: [model('a'), model('b'), model('c', 'c: cannot read')],
    ranking: [],
    rankingRule: '',
    correlation: null,
    trajectory: null,
  };
  const lines = layerTableCsv(report).trimEnd().split('\r\n');
  assert.equal(lines.length, 1 + 2 + 2 + 1);
  assert.ok(
    lines[0].endsWith(
      ',signature,delta_entropy,notches_overlap,mi_ratio,mi_ratio_low,mi_ratio_high,error',
    ),
  );
  assert.ok(lines[1].startsWith('a,h1,') && lines[1].endsWith(',baseline,-0.5,false,8,6,10,'));
  assert.ok(lines[3].startsWith('b,h1,') && lines[3].endsWith(',heuristic,-0.5,false,8,6,10,'));
  assert.equal(lines[5], 'c' + ','.repeat(LAYER_CSV_COLUMNS.length - 1 + 6) + ',c: cannot read');
});

void test('toCsv quotes separators, quotes and line breaks', () => {
  assert.equal(toCsv(['a', 'b'], [['x\ny', true]]), 'a,b\r\n"x\ny",true\r\n');
});
