import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COMPARE_CSV_COLUMNS,
  LAYER_CSV_COLUMNS,
  layerTableCsv,
  toCsv,
} from '../../src/core/report/csv';
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

void test('compare CSV: signature columns per layer row, the reference named, failures as error rows', () => {
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
  const report = compareReport([model('a'), model('b'), model('c', 'c: cannot read')]);
  const lines = layerTableCsv(report).trimEnd().split('\r\n');
  assert.equal(lines.length, 1 + 2 + 2 + 1);
  assert.ok(
    lines[0].endsWith(
      ',signature,delta_entropy,notches_overlap,mi_ratio,mi_ratio_low,mi_ratio_high,error,not_comparable,range_min,range_max,rank,flag',
    ),
  );
  // The older columns keep their places; the new ones come last (empty here: no ranges, no
  // ranking, everything comparable).
  assert.deepEqual(COMPARE_CSV_COLUMNS.slice(0, 7), [
    'signature',
    'delta_entropy',
    'notches_overlap',
    'mi_ratio',
    'mi_ratio_low',
    'mi_ratio_high',
    'error',
  ]);
  assert.ok(
    lines[1].startsWith('a,h1,') && lines[1].endsWith(',reference,-0.5,false,8,6,10,,,,,,'),
  );
  assert.ok(
    lines[3].startsWith('b,h1,') && lines[3].endsWith(',heuristic,-0.5,false,8,6,10,,,,,,'),
  );
  assert.equal(
    lines[5],
    'c' + ','.repeat(LAYER_CSV_COLUMNS.length - 1 + 6) + ',c: cannot read' + ','.repeat(5),
  );
});

const sig = (kind: Signature['kind'], explanation = ''): Signature => ({
  kind,
  deltaEntropy: -0.5,
  notchesOverlap: false,
  miRatio: 8,
  miRatioLow: 6,
  miRatioHigh: 10,
  reference: 'a',
  explanation,
});

function compareModel(
  path: string,
  kind: Signature['kind'],
  extra: Partial<CompareModel> = {},
): CompareModel {
  return {
    path,
    step: null,
    summary: { entropy: box(2), mi: mi(0.1), density, range: { min: -1.25, max: 3.5 } },
    layers: [layer('h1', 2, 0.1)],
    signature: sig(kind),
    metric: null,
    ...extra,
  };
}

function compareReport(models: CompareModel[], extra: Partial<CompareReport> = {}): CompareReport {
  return {
    schema: 'memlens.compare',
    version: 2,
    createdAt: '',
    probe: null,
    params,
    baseline: 'a',
    reference: {
      mode: 'baseline',
      path: 'a',
      initialisation: false,
      label: 'a',
      entropyMedian: 2,
      miMedian: 0.1,
    },
    thresholds: { deltaEntropy: 0.1, miRatio: 1.5, scaleRatio: 1.5 },
    models,
    target: null,
    ranking: [],
    rankingRule: '',
    orderings: { entropy: [], mi: [] },
    correlation: null,
    trajectory: null,
    onsets: [],
    ...extra,
  };
}

/** The CSV as records by column name (no cell here needs quoting). */
function records(text: string): Record<string, string>[] {
  const [header, ...rows] = text
    .trimEnd()
    .split('\r\n')
    .map((l) => l.split(','));
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

void test('compare CSV: not comparable with why, the value range, rank or flagged, the flag', () => {
  const flag =
    'carries the example-level signature (H higher; I lower): a possible label-noise memoriser';
  const report = compareReport(
    [
      compareModel('a', 'none'),
      compareModel('b', 'heuristic'),
      compareModel('c', 'example-level', {
        summary: { entropy: box(2.6), mi: mi(0.04), density, range: { min: -0.5, max: 12 } },
      }),
      compareModel('d', 'none', {
        notComparable: 'its output width differs: 10 against 2',
        signature: { ...sig('none'), deltaEntropy: NaN, notchesOverlap: true, miRatio: NaN },
      }),
      compareModel('e', 'none', { summary: { entropy: box(2), mi: mi(0.1), density } }),
    ],
    {
      target: 'shortcut',
      ranking: [
        { path: 'b', rank: 1, entropyMedian: 2, miMedian: 0.1 },
        { path: 'e', rank: 2, entropyMedian: 2, miMedian: 0.1 },
        { path: 'c', rank: null, entropyMedian: 2.6, miMedian: 0.04, flag },
      ],
    },
  );
  const text = layerTableCsv(report);
  assert.ok(text.endsWith('\r\n') && !/[^\r]\n/.test(text), 'CRLF line ends only');
  // The flag holds no comma, so a plain split works; the not-comparable reason neither.
  const pick = (r: Record<string, string>) => [
    r.model,
    r.signature,
    r.delta_entropy,
    r.notches_overlap,
    r.mi_ratio,
    r.not_comparable,
    r.range_min,
    r.range_max,
    r.rank,
    r.flag,
  ];
  assert.deepEqual(records(text).map(pick), [
    ['a', 'reference', '-0.5', 'false', '8', '', '-1.25', '3.5', '', ''],
    ['b', 'heuristic', '-0.5', 'false', '8', '', '-1.25', '3.5', '1', ''],
    ['c', 'example-level', '-0.5', 'false', '8', '', '-0.5', '12', 'flagged', flag],
    [
      'd',
      'not comparable',
      '',
      '',
      '',
      'its output width differs: 10 against 2',
      '-1.25',
      '3.5',
      '',
      '',
    ],
    ['e', 'none', '-0.5', 'false', '8', '', '', '', '2', ''],
  ]);
  // A flag with a comma is quoted as one cell.
  const quoted = layerTableCsv(
    compareReport([compareModel('a', 'none'), compareModel('b', 'example-level')], {
      target: 'shortcut',
      ranking: [
        { path: 'b', rank: null, entropyMedian: 2, miMedian: 0.1, flag: 'H higher, I lower' },
      ],
    }),
  );
  assert.ok(quoted.split('\r\n')[2].endsWith(',flagged,"H higher, I lower"'));
});

void test('compare CSV without a reference: the signature and its evidence empty', () => {
  const report = compareReport(
    [
      compareModel('a', 'none', {
        signature: { ...sig('none'), deltaEntropy: NaN, notchesOverlap: true },
      }),
      compareModel('b', 'none', {
        signature: { ...sig('none'), deltaEntropy: NaN, notchesOverlap: true },
      }),
    ],
    {
      baseline: null,
      reference: {
        mode: 'none',
        path: null,
        initialisation: false,
        label: 'no reference',
        entropyMedian: NaN,
        miMedian: NaN,
      },
    },
  );
  for (const r of records(layerTableCsv(report))) {
    assert.deepEqual(
      [
        r.signature,
        r.delta_entropy,
        r.notches_overlap,
        r.mi_ratio,
        r.mi_ratio_low,
        r.mi_ratio_high,
      ],
      ['', '', '', '', '', ''],
    );
    assert.equal(r.range_min, '-1.25');
  }
});

void test('compare CSV of a version 1 report: the baseline is the reference, numeric ranks', () => {
  const v2 = compareReport([compareModel('a', 'none'), compareModel('b', 'heuristic')]);
  const old = {
    ...v2,
    version: 1,
    thresholds: { deltaEntropy: 0.1, miRatio: 1.5 },
    ranking: [
      { path: 'a', rank: 2, entropyMedian: 2, miMedian: 0.1 },
      { path: 'b', rank: 1, entropyMedian: 2, miMedian: 0.1 },
    ],
  } as Record<string, unknown>;
  for (const key of ['reference', 'target', 'orderings', 'onsets']) delete old[key];
  const rows = records(layerTableCsv(old as unknown as CompareReport));
  assert.deepEqual(
    rows.map((r) => [r.model, r.signature, r.rank]),
    [
      ['a', 'reference', '2'],
      ['b', 'heuristic', '1'],
    ],
  );
});

void test('toCsv quotes separators, quotes and line breaks', () => {
  assert.equal(toCsv(['a', 'b'], [['x\ny', true]]), 'a,b\r\n"x\ny",true\r\n');
});
