import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GROUP_WIDTH,
  analysisTable,
  baselineSignature,
  compareLayerTable,
  compareReference,
  comparePoints,
  compareTable,
  displayName,
  entropyBoxData,
  entropyPoints,
  exportStem,
  formatNumber,
  layerCsv,
  median,
  miDensityCurves,
  modelSeries,
  notchedBoxOutline,
  notchesOverlap,
  rankingTable,
  seriesColor,
  seriesMarker,
  shortLabels,
  trajectoryData,
} from '../../webview-ui/chartData';
import type { ReportSnapshot } from '../../src/shared/protocol';
import { toCsv } from '../../src/core/report/csv';
import { BOX_A, BOX_B, signature, tinyAnalysis, tinyCompare } from './chartDataFixtures';

const near = (actual: number, expected: number, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected}`);

const analysis = (): ReportSnapshot & { kind: 'analysis' } => ({
  kind: 'analysis',
  report: tinyAnalysis(),
});
const compare = (): ReportSnapshot & { kind: 'compare' } => ({
  kind: 'compare',
  report: tinyCompare(),
});

void test('short labels keep file names and add parent folders only to tell them apart', () => {
  assert.deepEqual(shortLabels(['/a/b/model.json', '/a/c/model.json', 'x/y.onnx']), [
    'b/model.json',
    'c/model.json',
    'y.onnx',
  ]);
  assert.deepEqual(shortLabels(['C:\\runs\\s1\\m.h5', 'C:\\runs\\s2\\m.h5']), [
    's1/m.h5',
    's2/m.h5',
  ]);
  // Identical paths cannot be told apart: full paths, no endless loop.
  assert.deepEqual(shortLabels(['p/m.json', 'p/m.json']), ['p/m.json', 'p/m.json']);
});

void test('compare models that failed are left out of the charts', () => {
  const series = modelSeries(compare());
  assert.deepEqual(
    series.map((s) => s.label),
    ['base/model.json', 'shortcut/model.json', 'random/model.json'],
  );
});

void test('one model: a box per layer centred on the layer, 0.7 of the group wide', () => {
  const data = entropyBoxData(modelSeries(analysis()), 100);
  assert.deepEqual(data.layers, ['dense_1', 'dense_2']);
  assert.equal(data.boxes.length, 2);
  near(data.boxes[0].center, 0);
  near(data.boxes[1].center, 1);
  near(data.boxes[0].halfWidth, (GROUP_WIDTH * 0.7) / 2); // 0.28
  assert.deepEqual(data.boxes[1].box, BOX_B);
  near(data.maxEntropy, Math.log(100)); // 4.605 nats
  // Every neuron is drawn once, at its entropy, inside its box.
  assert.deepEqual(
    data.points[0].map((p) => p.y),
    [1, 2, 3, 4, 5, 0.5, 1, 1.5, 2],
  );
  for (const p of data.points[0]) {
    const box = data.boxes.find((b) => b.layer === p.layer);
    assert.ok(box !== undefined && Math.abs(p.x - box.center) < box.halfWidth);
  }
});

void test('several models sit side by side in each layer slot', () => {
  const data = entropyBoxData(modelSeries(compare()), 100);
  // 3 models share 0.8 of a slot: sub-slots 0.2667 wide, centres at -0.2667, 0, 0.2667.
  const layer0 = data.boxes.filter((b) => b.layerIndex === 0).map((b) => b.center);
  [-0.8 / 3, 0, 0.8 / 3].forEach((c, i) => near(layer0[i], c));
  const layer1 = data.boxes.filter((b) => b.layerIndex === 1).map((b) => b.center);
  [1 - 0.8 / 3, 1, 1 + 0.8 / 3].forEach((c, i) => near(layer1[i], c));
  assert.deepEqual(
    data.boxes.map((b) => b.color),
    ['blue', 'blue', 'orange', 'orange', 'green', 'green'],
  );
  // Restricting to one layer puts it at x = 0.
  const one = entropyBoxData(modelSeries(compare()), 100, 'dense_2');
  assert.deepEqual(one.layers, ['dense_2']);
  near(one.boxes[1].center, 0);
  assert.ok(one.points.every((pts) => pts.every((p) => p.layer === 'dense_2')));
});

void test('without every neuron only the outliers beyond the whiskers are drawn', () => {
  const snapshot = analysis();
  // Entropies 1, 2, 3, 4, 20: q1 2, q3 4, IQR 2, upper fence 7, so the whisker ends at 4
  // and 20 is the one outlier.
  snapshot.report.layers[0].entropies = [1, 2, 3, 4, 20];
  snapshot.report.layers[0].entropy = { ...BOX_A, whiskerHigh: 4, max: 20 };
  const data = entropyBoxData(modelSeries(snapshot), 100);
  assert.equal(entropyPoints(data, true)[0].length, 9);
  assert.deepEqual(
    entropyPoints(data, false)[0].map((p) => [p.layer, p.y]),
    [['dense_1', 20]],
  );
});

void test('the notched outline steps in at the median between the notch ends', () => {
  const box = { ...BOX_A, q1: 0, q3: 10, median: 5, notchLow: 4, notchHigh: 6 };
  assert.deepEqual(notchedBoxOutline(0, 1, box), [
    [-1, 0],
    [1, 0],
    [1, 4],
    [0.5, 5],
    [1, 6],
    [1, 10],
    [-1, 10],
    [-1, 6],
    [-0.5, 5],
    [-1, 4],
  ]);
  // BOX_A's notch (1.60 .. 4.40) reaches past its quartiles (2 .. 4): clamped to the box.
  const clamped = notchedBoxOutline(2, 0.5, BOX_A);
  assert.deepEqual(clamped[2], [2.5, 2]);
  assert.deepEqual(clamped[4], [2.5, 4]);
  assert.deepEqual(clamped[3], [2.25, 3]);
});

void test('notches overlap when the 95% intervals of the medians intersect', () => {
  assert.equal(notchesOverlap(BOX_A, BOX_B), true); // 1.60..4.40 and 0.66..1.84
  const low = { ...BOX_B, notchLow: 0.2, notchHigh: 1.5 };
  assert.equal(notchesOverlap(BOX_A, low), false);
  assert.equal(notchesOverlap(low, BOX_A), false);
});

void test('one model: an MI curve per layer plus the whole model dashed; non-finite points dropped', () => {
  const curves = miDensityCurves(analysis(), null);
  assert.deepEqual(
    curves.map((c) => [c.label, c.color, c.dashed, c.median]),
    [
      ['dense_1', 'blue', false, 0.12],
      ['dense_2', 'orange', false, 0.4],
      ['all layers (all pairs)', 'green', true, 0.2],
    ],
  );
  assert.deepEqual(curves[1].points, [
    { x: 0, y: 0.1 },
    { x: 0.5, y: 2 },
    { x: 0.75, y: 0.3 },
  ]);
  const one = miDensityCurves(analysis(), 'dense_2');
  assert.deepEqual(
    one.map((c) => [c.label, c.color]),
    [['dense_2', 'orange']],
  );
});

void test('several models: an MI curve per model, over all pairs or one layer', () => {
  const all = miDensityCurves(compare(), null);
  assert.deepEqual(
    all.map((c) => [c.label, c.median]),
    [
      ['base/model.json', 0.1],
      ['shortcut/model.json', 0.4],
      ['random/model.json', 0.04],
    ],
  );
  const layer = miDensityCurves(compare(), 'dense_1');
  assert.deepEqual(
    layer.map((c) => c.median),
    [0.12, 0.12, 0.12],
  );
});

void test('compare points: median H against median I, coloured by signature', () => {
  assert.deepEqual(
    comparePoints(tinyCompare()).map((p) => [p.label, p.x, p.y, p.signature, p.color]),
    [
      ['base/model.json', 2.0, 0.1, 'none', 'green'],
      ['shortcut/model.json', 1.2, 0.4, 'heuristic', 'red'],
      ['random/model.json', 2.6, 0.04, 'example-level', 'purple'],
    ],
  );
});

void test('the reference is the baseline, or the pooled cohort the core reports', () => {
  assert.deepEqual(compareReference(tinyCompare()), {
    label: 'baseline: base/model.json',
    x: 2,
    y: 0.1,
  });
  const report = { ...tinyCompare(), baseline: null };
  report.models = report.models.slice(0, 2); // H 2.0 and 1.2, I 0.1 and 0.4
  const ref = compareReference(report);
  assert.equal(ref?.label, 'median of the model medians');
  near(ref?.x ?? NaN, 1.6);
  near(ref?.y ?? NaN, 0.25);
  // The core's pooled reference, when the report has it, is what the quadrants use.
  const pooled = { label: 'pooled cohort' as const, entropyMedian: 1.9, miMedian: 0.2 };
  assert.deepEqual(compareReference({ ...report, reference: pooled }), {
    label: 'pooled cohort',
    x: 1.9,
    y: 0.2,
  });
  assert.equal(median([3, 1, 2]), 2);
  assert.ok(Number.isNaN(median([])));
});

void test('the trajectory is sorted by step', () => {
  const t = trajectoryData(tinyCompare());
  assert.deepEqual(t?.entropy, [
    { x: 100, y: 2.0 },
    { x: 200, y: 1.2 },
    { x: 300, y: 2.6 },
  ]);
  assert.deepEqual(
    t?.mi.map((p) => p.y),
    [0.1, 0.4, 0.04],
  );
  assert.equal(trajectoryData({ ...tinyCompare(), trajectory: null }), null);
});

void test('numbers: fixed decimals, a real minus sign, no negative zero, a dash when missing', () => {
  assert.equal(formatNumber(2.3456), '2.35');
  assert.equal(formatNumber(-1.5), '−1.50');
  assert.equal(formatNumber(-0.001), '0.00');
  assert.equal(formatNumber(0.04, 3), '0.040');
  assert.equal(formatNumber(Number.NaN), '—');
  assert.equal(formatNumber(null), '—');
});

void test('the per-layer table of one model, with a whole-model row', () => {
  const t = analysisTable(analysis());
  assert.equal(t.columns[2], 'Median H (nats)');
  assert.deepEqual(t.rows[0].cells, [
    'dense_1',
    '5',
    '3.00',
    '1.60 – 4.40',
    '0.120',
    '0.150',
    '10',
    '1.3%',
    '0',
  ]);
  // dense_2: notch 1.25 -/+ 0.58875; 3 of its 4 neurons entered the MI estimate.
  assert.deepEqual(t.rows[1].cells, [
    'dense_2',
    '4 (MI: 3)',
    '1.25',
    '0.66 – 1.84',
    '0.400',
    '0.450',
    '3',
    '50.0%',
    '1',
  ]);
  assert.deepEqual(t.rows[2].cells.slice(0, 3), ['all layers', '9', '2.00']);
  assert.equal(t.rows[2].cells[8], '1');
});

void test('the compare table gives each signature and its evidence', () => {
  const t = compareTable(tinyCompare());
  const [base, shortcut, random, broken] = t.rows;
  assert.deepEqual(base.cells.slice(0, 3), ['base/model.json', '100', 'baseline (reference)']);
  assert.deepEqual(shortcut.cells, [
    'shortcut/model.json',
    '200',
    'heuristic memorization',
    '−0.80',
    'no',
    '×4.00 [3.20, 5.00]',
    '1.20',
    '0.400',
    '3',
  ]);
  assert.equal(shortcut.tone, 'red');
  assert.equal(random.cells[2], 'example-level memorization');
  assert.equal(random.tone, 'purple');
  assert.equal(
    broken.cells[2],
    'failed: runs/broken/model.json: expected a layers-model, found a graph-model',
  );
  assert.equal(broken.spanLast, true);
  assert.equal(broken.cells.length, 3);
  // A metric column only when a correlation was computed.
  const withMetric = {
    ...tinyCompare(),
    correlation: { metric: 'ood_acc', entropySpearman: 0.8, miSpearman: -0.9 },
  };
  withMetric.models[1].metric = 0.71;
  const t2 = compareTable(withMetric);
  assert.equal(t2.columns.at(-1), 'ood_acc');
  assert.equal(t2.rows[1].cells.at(-1), '0.710');
  assert.equal(t2.numeric.length, t2.columns.length);
  // A step column only when some model has a step.
  const noSteps = tinyCompare();
  for (const m of noSteps.models) m.step = null;
  const t3 = compareTable(noSteps);
  assert.ok(!t3.columns.includes('Step'));
  assert.equal(t3.toneColumn, 1);
  assert.equal(t.toneColumn, 2);
  assert.deepEqual(t3.rows[1].cells.slice(0, 3), [
    'shortcut/model.json',
    'heuristic memorization',
    '−0.80',
  ]);
  assert.deepEqual(t3.rows[3].cells, [
    'broken/model.json',
    'failed: runs/broken/model.json: expected a layers-model, found a graph-model',
  ]);
});

void test('the ranking table lists models best first with both measures', () => {
  assert.deepEqual(
    rankingTable(tinyCompare()).rows.map((r) => r.cells),
    [
      ['1', 'random/model.json', '2.60', '0.040'],
      ['2', 'base/model.json', '2.00', '0.100'],
      ['3', 'shortcut/model.json', '1.20', '0.400'],
    ],
  );
  // The model name (column 1) links to the model's file.
  const t = rankingTable(tinyCompare());
  assert.equal(t.linkColumn, 1);
  assert.deepEqual(t.numeric, [true, false, true, true]);
  assert.equal(t.rows[0].path, 'runs/random/model.json');
});

void test('CSV quoting: commas, quotes, formula-like text, CRLF', () => {
  assert.equal(
    toCsv(
      ['a', 'b'],
      [
        ['x,y', -1.5],
        ['=SUM(A1)', null],
        ['say "hi"', true],
        ['ok', Number.NaN],
      ],
    ),
    'a,b\r\n"x,y",-1.5\r\n\'=SUM(A1),\r\n"say ""hi""",true\r\nok,\r\n',
  );
});

function parseCsv(text: string): string[][] {
  assert.ok(text.endsWith('\r\n'));
  return text
    .slice(0, -2)
    .split('\r\n')
    .map((line) => line.split(','));
}

void test('the per-layer CSV of one model holds full-precision values', () => {
  const rows = parseCsv(layerCsv(analysis()));
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0].slice(0, 5), [
    'model',
    'layer',
    'neurons',
    'mi_neurons',
    'entropy_median',
  ]);
  const header = rows[0];
  const row = Object.fromEntries(header.map((h, i) => [h, rows[2][i]]));
  assert.equal(row.model, '/work/models/shortcut/model.json');
  assert.equal(row.layer, 'dense_2');
  assert.equal(Number(row.mi_neurons), 3);
  near(Number(row.entropy_notch_low), 0.66125);
  near(Number(row.entropy_notch_high), 1.83875);
  near(Number(row.entropy_q1), 0.875);
  near(Number(row.tie_fraction), 0.5);
  assert.equal(row.dead_neurons, '1');
});

void test('the compare CSV has a row per model and layer with the signature; a failure gets one row', () => {
  const text = layerCsv(compare());
  const lines = text.slice(0, -2).split('\r\n');
  assert.equal(lines.length, 1 + 3 * 2 + 1);
  const rows = lines.slice(0, -1).map((line) => line.split(','));
  const header = rows[0];
  assert.deepEqual(header.slice(-7), [
    'signature',
    'delta_entropy',
    'notches_overlap',
    'mi_ratio',
    'mi_ratio_low',
    'mi_ratio_high',
    'error',
  ]);
  const sig = header.indexOf('signature');
  assert.deepEqual(
    rows.slice(1).map((r) => [r[0], r[1], r[sig], r[header.indexOf('mi_ratio')]]),
    [
      ['runs/base/model.json', 'dense_1', 'baseline', '1'],
      ['runs/base/model.json', 'dense_2', 'baseline', '1'],
      ['runs/shortcut/model.json', 'dense_1', 'heuristic', '4'],
      ['runs/shortcut/model.json', 'dense_2', 'heuristic', '4'],
      ['runs/random/model.json', 'dense_1', 'example-level', '0.4'],
      ['runs/random/model.json', 'dense_2', 'example-level', '0.4'],
    ],
  );
  // 16 layer columns and 7 compare columns: the path, 21 empty cells, the quoted error.
  assert.equal(
    lines.at(-1),
    `runs/broken/model.json${','.repeat(22)}"runs/broken/model.json: expected a layers-model, found a graph-model"`,
  );
});

void test('export file names come from the model file name', () => {
  // model.json says nothing: its folder names the model.
  assert.equal(exportStem(analysis()), 'shortcut-memlens');
  assert.equal(exportStem(compare()), 'base-compare-memlens');
  assert.equal(displayName('/work/models/shortcut/model.json'), 'shortcut/model.json');
  assert.equal(displayName('model.json'), 'model.json');
  assert.equal(displayName('C:\\m\\net.onnx'), 'net.onnx');
  const odd = analysis();
  odd.report.model.path = 'C:\\runs\\my model.v2.onnx';
  assert.equal(exportStem(odd), 'my-model-v2-memlens');
  odd.report.model.path = '/tmp/...';
  assert.equal(exportStem(odd), 'report-memlens');
});

void test('beyond six series the colours repeat with other markers, and repeated curves are dashed', () => {
  assert.deepEqual(
    [0, 5, 6, 11, 12, 23, 24].map((i) => [seriesColor(i), seriesMarker(i)]),
    [
      ['blue', 'circle'],
      ['yellow', 'circle'],
      ['blue', 'rect'],
      ['yellow', 'rect'],
      ['blue', 'triangle'],
      ['yellow', 'rectRot'],
      ['blue', 'circle'],
    ],
  );
  const report = tinyCompare();
  const first = report.models[0];
  report.models = Array.from({ length: 8 }, (_, i) => ({
    ...first,
    path: `runs/s${i}/model.json`,
  }));
  const curves = miDensityCurves({ kind: 'compare', report }, null);
  assert.deepEqual(
    curves.map((c) => c.dashed),
    [false, false, false, false, false, false, true, true],
  );
  const boxes = entropyBoxData(modelSeries({ kind: 'compare', report }), 100);
  assert.deepEqual(
    boxes.models.slice(5, 7).map((m) => [m.color, m.marker]),
    [
      ['yellow', 'circle'],
      ['blue', 'rect'],
    ],
  );
});

void test('wide layers draw every k-th neuron plus all outliers', () => {
  const snapshot = analysis();
  // 1000 neurons at H = 2 except every 100th at H = 4.5, beyond the whisker (2): stride
  // ceil(1000 / 400) = 3 keeps neurons 0, 3, ..., 999 (334) and adds the outliers not on the
  // stride: 100, 200, 400, 500, 700, 800 (0, 300, 600, 900 are on it).
  const entropies = Array.from({ length: 1000 }, (_, i) => (i % 100 === 0 ? 4.5 : 2));
  snapshot.report.layers[0].entropies = entropies;
  snapshot.report.layers[0].entropy = {
    ...BOX_A,
    n: 1000,
    q1: 2,
    median: 2,
    q3: 2,
    whiskerLow: 2,
    whiskerHigh: 2,
  };
  const data = entropyBoxData(modelSeries(snapshot), 100, 'dense_1');
  assert.equal(data.subsampled, true);
  const neurons = data.points[0].map((p) => p.neuron);
  assert.equal(neurons.length, 334 + 6);
  for (const n of [0, 3, 999, 100, 200, 800]) assert.ok(neurons.includes(n), String(n));
  assert.ok(!neurons.includes(1) && !neurons.includes(101));
  assert.equal(entropyBoxData(modelSeries(analysis()), 100).subsampled, false);
});

void test('the per-layer compare table gives each model its layer medians, notches and MI', () => {
  const t = compareLayerTable(tinyCompare(), null);
  assert.deepEqual(t.columns, [
    'Model',
    'dense_1: median H (notch)',
    'dense_1: median I',
    'dense_2: median H (notch)',
    'dense_2: median I',
  ]);
  // The failed model is left out; dense_2's notch is 1.25 -/+ 0.58875.
  assert.equal(t.rows.length, 3);
  assert.deepEqual(t.rows[1].cells, [
    'shortcut/model.json',
    '3.00 (1.60 – 4.40)',
    '0.120',
    '1.25 (0.66 – 1.84)',
    '0.400',
  ]);
  assert.equal(t.rows[1].path, 'runs/shortcut/model.json');
  const one = compareLayerTable(tinyCompare(), 'dense_2');
  assert.deepEqual(one.rows[0].cells, ['base/model.json', '1.25 (0.66 – 1.84)', '0.400']);
  // Against the baseline (base): shortcut's dense_2 notch moved to 0.2 .. 0.5 is apart from
  // the baseline's 0.66 .. 1.84; one at 0.5 .. 0.7 overlaps it.
  const report = tinyCompare();
  report.models[1].layers[1].entropy = { ...BOX_B, median: 0.35, notchLow: 0.2, notchHigh: 0.5 };
  report.models[2].layers[1].entropy = { ...BOX_B, median: 0.6, notchLow: 0.5, notchHigh: 0.7 };
  const marked = compareLayerTable(report, 'dense_2').rows.map((r) => r.cells[1]);
  assert.deepEqual(marked, ['1.25 (0.66 – 1.84)', '0.35 (0.20 – 0.50) ≠', '0.60 (0.50 – 0.70)']);
  // Without a baseline nothing is marked.
  const cohort = compareLayerTable({ ...report, baseline: null }, 'dense_2').rows.map(
    (r) => r.cells[1],
  );
  assert.ok(cohort.every((c) => !c.includes('≠')));
});

void test('a lone model read against a baseline shows its signature under the table caption', () => {
  assert.equal(analysisTable(analysis()).note, undefined);
  const snapshot = analysis();
  const message =
    'heuristic memorization signature against the baseline base/model.json: median H -0.61 nats (notches apart), median I x10.24 [10.06, 10.39]';
  snapshot.report.flags = [
    { code: 'baseline-signature', message, threshold: 'H differs by at least 0.1 nats' },
    { code: 'mi-high', message: 'median I 0.697 nats', threshold: 'median I >= 0.5 nats' },
  ];
  // The flag alone (no structured signature) is not read as a verdict.
  assert.equal(baselineSignature(snapshot.report), undefined);
  snapshot.report.signature = signature('heuristic', -0.61, 10.24);
  assert.deepEqual(analysisTable(snapshot).note, { text: `Signature: ${message}`, tone: 'red' });
  assert.equal(baselineSignature(snapshot.report)?.kind, 'heuristic');
  snapshot.report.signature = signature('example-level', 0.3, 0.4);
  assert.equal(baselineSignature(snapshot.report)?.kind, 'example-level');
  snapshot.report.signature = signature('none', 0, 1);
  assert.equal(analysisTable(snapshot).note?.tone, 'green');
});
