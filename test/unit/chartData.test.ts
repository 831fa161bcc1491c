import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GROUP_WIDTH,
  NO_TARGET_NOTE,
  analysisTable,
  baselineSignature,
  binsText,
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
  normalizeCompare,
  notchedBoxOutline,
  notchesOverlap,
  onsetSummary,
  rankingSection,
  rankingTable,
  referenceSummary,
  scaleNotes,
  seriesColor,
  seriesMarker,
  shortLabels,
  trajectoryData,
  hasRanking,
  boxesOverlap,
  clipCurve,
  densityAxisStart,
  densityDataRange,
  entropyAxisRange,
  miAxisMin,
  paddedRange,
  placeLabels,
  reportSubject,
  trajectoryAxes,
} from '../../webview-ui/chartData';
import type {
  CompareReport,
  MiDensity,
  MiSummary,
  ReportSnapshot,
} from '../../src/shared/protocol';
import { miDensity } from '../../src/core/measures/gmm';
import { Rng } from '../../src/core/random';
import { toCsv } from '../../src/core/report/csv';
import {
  BOX_A,
  BOX_B,
  EXAMPLE_LEVEL_FLAG,
  noReferenceCompare,
  signature,
  tinyAnalysis,
  tinyCompare,
  versionOneCompare,
} from './chartDataFixtures';

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
      // base is the comparison's baseline: its curve is the reference's.
      ['reference: base/model.json', 0.1],
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

void test('compare points: median H against median I, coloured by signature; the reference marked', () => {
  assert.deepEqual(
    comparePoints(tinyCompare()).map((p) => [p.label, p.x, p.y, p.role, p.signature, p.color]),
    [
      ['base/model.json', 2.0, 0.1, 'reference', 'none', null],
      ['shortcut/model.json', 1.2, 0.4, 'read', 'heuristic', 'red'],
      ['random/model.json', 2.6, 0.04, 'read', 'example-level', 'purple'],
    ],
  );
  // Not comparable: measured, drawn neutral, no signature colour.
  const report = tinyCompare();
  report.models[2].notComparable = 'its layers differ: dense_2 has 8 neurons, expected 4';
  assert.deepEqual(
    comparePoints(report).map((p) => [p.role, p.color]),
    [
      ['reference', null],
      ['read', 'red'],
      ['not-comparable', null],
    ],
  );
});

void test('the quadrant centre is the named reference: the baseline, a checkpoint, the cohort median', () => {
  assert.deepEqual(compareReference(tinyCompare()), {
    label: 'baseline: base/model.json',
    x: 2,
    y: 0.1,
  });
  const checkpoint = tinyCompare();
  checkpoint.baseline = null;
  checkpoint.reference = { ...checkpoint.reference, mode: 'checkpoint', label: 'step 100' };
  assert.equal(compareReference(checkpoint)?.label, 'reference checkpoint: base/model.json');
  checkpoint.reference.initialisation = true;
  assert.equal(compareReference(checkpoint)?.label, 'initialisation: base/model.json');
  // Cohort: every comparable model pooled, as the core computed it; no reference model.
  const cohort = tinyCompare();
  cohort.baseline = null;
  cohort.reference = {
    mode: 'cohort',
    path: null,
    initialisation: false,
    label: 'the cohort median',
    entropyMedian: 1.9,
    miMedian: 0.2,
  };
  assert.deepEqual(compareReference(cohort), { label: 'cohort median', x: 1.9, y: 0.2 });
  assert.ok(comparePoints(cohort).every((p) => p.role === 'read'));
  // Medians unknown (NaN, or null from JSON): no quadrants.
  cohort.reference.miMedian = Number.NaN;
  assert.equal(compareReference(cohort), null);
  const fromJson = JSON.parse(JSON.stringify({ ...cohort, reference: { ...cohort.reference } }));
  assert.equal(fromJson.reference.miMedian, null);
  assert.equal(compareReference(fromJson), null);
  assert.equal(median([3, 1, 2]), 2);
  assert.ok(Number.isNaN(median([])));
});

void test('the reference is named in the header, with the initialisation caveat', () => {
  assert.equal(
    referenceSummary(tinyCompare()),
    'Reference: the baseline base/model.json. Signatures are read against it.',
  );
  const checkpoint = tinyCompare();
  checkpoint.reference = { ...checkpoint.reference, mode: 'checkpoint' };
  assert.equal(
    referenceSummary(checkpoint),
    'Reference: the reference checkpoint base/model.json (step 100). Signatures are read against it.',
  );
  checkpoint.reference.initialisation = true;
  checkpoint.models[0].step = 0;
  const init = referenceSummary(checkpoint);
  assert.ok(init.startsWith('Reference: initialisation (base/model.json, step 0).'), init);
  assert.ok(
    init.includes('relative to initialisation: training alone lowers H and raises I'),
    init,
  );
  const cohort = tinyCompare();
  cohort.reference = { ...cohort.reference, mode: 'cohort', path: null };
  assert.ok(referenceSummary(cohort).includes('relative to the cohort median'));
  assert.equal(
    referenceSummary(noReferenceCompare()),
    'No reference: the charts show the models’ H and I; signatures need a baseline, a reference checkpoint or the cohort median.',
  );
});

void test('no reference (mode none): no quadrants, neutral points, empty signature cells', () => {
  const report = noReferenceCompare();
  assert.equal(compareReference(report), null);
  assert.ok(comparePoints(report).every((p) => p.role === 'unread' && p.color === null));
  const t = compareTable(report);
  const sig = t.columns.indexOf('Signature');
  assert.deepEqual(t.columns.slice(sig, sig + 4), [
    'Signature',
    'ΔH median (nats)',
    'Notches overlap',
    'I ratio [95% CI]',
  ]);
  for (const row of t.rows.slice(0, 3)) {
    assert.deepEqual(row.cells.slice(sig, sig + 4), ['', '', '', '']);
    assert.equal(row.tone, undefined);
  }
  // The measures stay, and no rank column without a target.
  assert.deepEqual(t.rows[1].cells.slice(sig + 4), ['1.20', '0.400', '[−1.20, 2.40]']);
  assert.ok(!t.columns.includes('Rank'));
  // Without a reference model nothing is marked in the per-layer table.
  assert.ok(
    compareLayerTable(report, null).rows.every((r) => r.cells.every((c) => !c.includes('≠'))),
  );
  // Through JSON (NaN written as null) it renders the same.
  const json = JSON.parse(JSON.stringify(report)) as typeof report;
  assert.equal(compareReference(json), null);
  assert.deepEqual(
    compareTable(json).rows.map((r) => r.cells),
    t.rows.map((r) => r.cells),
  );
});

void test('the trajectory is sorted by step and marks where each signature first appears', () => {
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
  assert.deepEqual(t?.onsets, [
    {
      step: 200,
      kind: 'heuristic',
      label: 'heuristic from step 200',
      persists: false,
      color: 'red',
    },
    {
      step: 300,
      kind: 'example-level',
      label: 'example-level from step 300',
      persists: true,
      color: 'purple',
    },
  ]);
  assert.equal(
    onsetSummary(tinyCompare()),
    'heuristic from step 200 (shortcut/model.json; not at every later checkpoint); example-level from step 300 (random/model.json; at every later checkpoint)',
  );
  assert.equal(trajectoryData({ ...tinyCompare(), trajectory: null }), null);
  assert.deepEqual(trajectoryData(noReferenceCompare())?.onsets, []);
});

void test('numbers: fixed decimals, a real minus sign, no negative zero, a dash when missing', () => {
  assert.equal(formatNumber(2.3456), '2.35');
  assert.equal(formatNumber(-1.5), '−1.50');
  assert.equal(formatNumber(-0.001), '0.00');
  assert.equal(formatNumber(0.04, 3), '0.040');
  assert.equal(formatNumber(Number.NaN), '—');
  assert.equal(formatNumber(null), '—');
});

void test('the per-layer table of one model, with a whole-model row and the bin ranges', () => {
  const t = analysisTable(analysis());
  assert.equal(t.columns[2], 'Median H (nats)');
  assert.equal(t.columns[9], 'Value range');
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
    '[−1.50, 2.50]',
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
    '[0.00, 4.25]',
  ]);
  assert.deepEqual(t.rows[2].cells.slice(0, 3), ['all layers', '9', '2.00']);
  assert.equal(t.rows[2].cells[8], '1');
  // The whole-model row: the model's range, the bin range under global binning.
  assert.equal(t.rows[2].cells[9], '[−1.50, 4.25]');
  assert.equal(binsText(tinyAnalysis()), '100 bins (global, over [−1.50, 4.25])');
  const perLayer = tinyAnalysis();
  perLayer.params = { ...perLayer.params, binning: 'layer' };
  assert.equal(binsText(perLayer), '100 bins (layer)');
  // Reports written before ranges were kept: no range column.
  const old = analysis();
  delete old.report.summary.range;
  for (const l of old.report.layers) delete l.range;
  assert.equal(analysisTable(old).columns.length, 9);
  assert.equal(binsText(old.report), '100 bins (global)');
});

void test('the per-layer table adds the H read without the uninformative layers', () => {
  const snapshot = analysis();
  const h = snapshot.report.layers[1].entropy;
  snapshot.report.summary.entropyInformative = { left: ['dense_1'], entropy: h };
  const t = analysisTable(snapshot);
  assert.equal(t.rows.length, 4);
  // dense_2 alone: its 4 neurons and its box (median 1.25, notch 0.66 – 1.84).
  assert.deepEqual(t.rows[3].cells, [
    'layers where H is read (1 of 2)',
    '4',
    '1.25',
    '0.66 – 1.84',
    '',
    '',
    '',
    '',
    '',
    '',
  ]);
  assert.deepEqual(t.rows[3].titles, [
    'H without dense_1 (H uninformative there: each neuron spreads over less than one global bin)',
  ]);
});

void test('the compare table gives each signature and its evidence', () => {
  const t = compareTable(tinyCompare());
  assert.deepEqual(t.columns.slice(-3), ['Median I (nats)', 'Value range', 'Rank']);
  const [base, shortcut, random, broken] = t.rows;
  // The reference has no verdict and, in version 2, no rank.
  assert.deepEqual(base.cells, [
    'base/model.json',
    '100',
    'reference',
    '',
    '',
    '',
    '2.00',
    '0.100',
    '[−2.00, 4.00]',
    '',
  ]);
  assert.equal(base.tone, undefined);
  assert.deepEqual(shortcut.cells, [
    'shortcut/model.json',
    '200',
    'heuristic memorization',
    '−0.80',
    'no',
    '×4.00 [3.20, 5.00]',
    '1.20',
    '0.400',
    '[−1.20, 2.40]',
    '1',
  ]);
  assert.equal(shortcut.tone, 'red');
  assert.equal(shortcut.title, 'heuristic: median H -0.8 nats, median I x4');
  assert.equal(random.cells[2], 'example-level memorization');
  assert.equal(random.cells.at(-1), 'flagged');
  assert.equal(random.tone, 'purple');
  // No value range in the report: an empty cell.
  const noRange = tinyCompare();
  delete noRange.models[1].summary.range;
  assert.equal(compareTable(noRange).rows[1].cells[8], '');
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

void test('a not-comparable model says so, with why, and has no rank', () => {
  const report = tinyCompare();
  const why = 'its layers differ: dense_2 has 8 neurons, expected 4 (the reference’s)';
  report.models[2].notComparable = why;
  report.models[2].signature = {
    ...signature('none', Number.NaN, Number.NaN),
    explanation: `not comparable: ${why}`,
  };
  // As the core writes it: only comparable models are ranked and ordered.
  report.ranking = report.ranking.filter((e) => e.path !== 'runs/random/model.json');
  report.orderings = { entropy: ['runs/shortcut/model.json'], mi: ['runs/shortcut/model.json'] };
  const row = compareTable(report).rows[2];
  assert.deepEqual(row.cells, [
    'random/model.json',
    '300',
    'not comparable',
    '',
    '',
    '',
    '2.60',
    '0.040',
    '[−2.60, 5.20]',
    '',
  ]);
  assert.equal(row.title, `not comparable: ${why}`);
  assert.equal(row.tone, undefined);
  assert.ok(rankingTable(report).rows.every((r) => r.path !== 'runs/random/model.json'));
  assert.ok(
    rankingSection({ ...report, target: null, ranking: [] }).tables.every((t) =>
      t.table.rows.every((r) => r.path !== 'runs/random/model.json'),
    ),
  );
  // Nor is it marked against the reference in the per-layer table.
  report.models[2].layers[1].entropy = { ...BOX_B, median: 0.6, notchLow: 0.5, notchHigh: 0.7 };
  assert.ok(!compareLayerTable(report, 'dense_2').rows[2].cells[1].includes('≠'));
});

void test('with a target the ranking lists models best first, flagged ones last with why', () => {
  const t = rankingTable(tinyCompare());
  assert.deepEqual(
    t.rows.map((r) => r.cells),
    [
      ['1', 'shortcut/model.json', '1.20', '0.400', ''],
      ['flagged', 'random/model.json', '2.60', '0.040', EXAMPLE_LEVEL_FLAG],
    ],
  );
  assert.deepEqual(t.columns, ['Rank', 'Model', 'Median H (nats)', 'Median I (nats)', 'Flag']);
  assert.equal(t.rows[1].title, EXAMPLE_LEVEL_FLAG);
  // The model name (column 1) links to the model's file.
  assert.equal(t.linkColumn, 1);
  assert.deepEqual(t.numeric, [true, false, true, true, false]);
  assert.equal(t.rows[0].path, 'runs/shortcut/model.json');
  // Even if a report lists a flagged model first, it is shown last.
  const shuffled = tinyCompare();
  shuffled.ranking.reverse();
  assert.deepEqual(
    rankingTable(shuffled).rows.map((r) => r.cells[0]),
    ['1', 'flagged'],
  );
  const section = rankingSection(tinyCompare());
  assert.deepEqual(
    section.tables.map((x) => [x.id, x.caption]),
    [['ranking-table', 'Model ranking (target: shortcut learning)']],
  );
  assert.deepEqual(section.notes, [`Ranking rule: ${tinyCompare().rankingRule}`]);
  // No flags: no Flag column.
  const clean = tinyCompare();
  clean.ranking = clean.ranking.slice(0, 1);
  assert.deepEqual(rankingTable(clean).columns, [
    'Rank',
    'Model',
    'Median H (nats)',
    'Median I (nats)',
  ]);
});

void test('without a target: the models by median H and by median I, and no single best', () => {
  const report = noReferenceCompare();
  assert.equal(hasRanking(report), false);
  const section = rankingSection(report);
  assert.deepEqual(
    section.tables.map((t) => [t.id, t.caption]),
    [
      ['ordering-entropy-table', 'By median H (highest first)'],
      ['ordering-mi-table', 'By median I (highest first)'],
    ],
  );
  assert.deepEqual(
    section.tables[0].table.rows.map((r) => r.cells),
    [
      ['1', 'random/model.json', '2.60'],
      ['2', 'base/model.json', '2.00'],
      ['3', 'shortcut/model.json', '1.20'],
    ],
  );
  assert.deepEqual(
    section.tables[1].table.rows.map((r) => r.cells),
    [
      ['1', 'shortcut/model.json', '0.400'],
      ['2', 'base/model.json', '0.100'],
      ['3', 'random/model.json', '0.040'],
    ],
  );
  assert.equal(section.tables[1].table.columns[2], 'Median I (nats)');
  assert.equal(section.tables[0].table.rows[0].path, 'runs/random/model.json');
  assert.deepEqual(section.notes, [NO_TARGET_NOTE]);
  assert.ok(NO_TARGET_NOTE.startsWith('Without a target there is no single best'));
  // Inside VS Code the note names the setting, never a CLI flag.
  const hosted = rankingSection(report, true).notes[0];
  assert.ok(hosted.includes('memlens.target') && !/--|memlens compare/.test(hosted), hosted);
  // A reference but no target: the same, over the models other than the reference.
  const baseline = { ...tinyCompare(), target: null, ranking: [] };
  assert.deepEqual(
    rankingSection(baseline).tables[0].table.rows.map((r) => r.cells[1]),
    ['random/model.json', 'shortcut/model.json'],
  );
});

void test('a version 1 report (saved earlier) still renders', () => {
  for (const old of [
    versionOneCompare(),
    versionOneCompare({ label: 'baseline', entropyMedian: 2, miMedian: 0.1 }),
    JSON.parse(JSON.stringify(versionOneCompare())) as CompareReport,
  ]) {
    const snapshot = { kind: 'compare' as const, report: old };
    assert.deepEqual(compareReference(old), { label: 'baseline: base/model.json', x: 2, y: 0.1 });
    assert.equal(comparePoints(old)[0].role, 'reference');
    assert.ok(referenceSummary(old).startsWith('Reference: the baseline base/model.json'));
    const t = compareTable(old);
    assert.equal(t.rows[0].cells[2], 'reference');
    assert.equal(t.rows[1].cells[8], ''); // no value ranges then
    // Its ranks, as before, sorted: the ranking table (numeric ranks) and rule.
    assert.equal(t.columns.at(-1), 'Rank');
    assert.deepEqual(
      rankingTable(old).rows.map((r) => [r.cells[0], r.cells[1]]),
      [
        ['1', 'random/model.json'],
        ['2', 'base/model.json'],
        ['3', 'shortcut/model.json'],
      ],
    );
    const section = rankingSection(old);
    assert.equal(section.tables[0].caption, 'Model ranking');
    assert.deepEqual(section.notes, [
      'Ranking rule: higher median H first, then lower median I (shortcut learning)',
    ]);
    assert.deepEqual(trajectoryData(old)?.onsets, []);
    assert.equal(onsetSummary(old), '');
    assert.deepEqual(scaleNotes(old), []);
    assert.equal(compareLayerTable(old, null).rows.length, 3);
    assert.equal(miDensityCurves(snapshot, null).length, 3);
    assert.ok(layerCsv(snapshot).split('\r\n')[1].includes(',reference,'));
    assert.ok(Number.isNaN(normalizeCompare(old).thresholds.scaleRatio));
  }
  // Without a baseline, version 1 read each model against the rest of the cohort.
  const cohort = { ...versionOneCompare(), baseline: null };
  const ref = compareReference(cohort);
  assert.equal(ref?.label, 'median of the model medians');
  near(ref?.x ?? NaN, 2.0); // median of 2.0, 1.2, 2.6
  near(ref?.y ?? NaN, 0.1); // median of 0.1, 0.4, 0.04
  assert.ok(comparePoints(cohort).every((p) => p.role === 'read'));
  assert.equal(compareTable(cohort).rows[0].cells[2], 'no signature');
  // With the old pooled reference, its medians are the centre.
  const pooled = {
    ...versionOneCompare({ label: 'pooled cohort', entropyMedian: 1.9, miMedian: 0.2 }),
    baseline: null,
  };
  assert.deepEqual(compareReference(pooled), { label: 'cohort median', x: 1.9, y: 0.2 });
  // No orderings in version 1: computed from the models if ever needed.
  assert.deepEqual(normalizeCompare(cohort).orderings.entropy, [
    'runs/random/model.json',
    'runs/base/model.json',
    'runs/shortcut/model.json',
  ]);
});

void test('a model whose H change follows the activation scale gets a note', () => {
  const report = tinyCompare();
  report.models[1].signature = {
    ...report.models[1].signature,
    entropyDirection: 'equal',
    scale: {
      range: { min: -8, max: 8 },
      referenceRange: { min: -2, max: 2 },
      factor: 4,
      layerBinned: { deltaEntropy: 0.02, notchesOverlap: true, direction: 'equal' },
      globalDirection: 'lower',
    },
  };
  assert.deepEqual(scaleNotes(report), [
    'shortcut/model.json: H is lower under global bins but equal under per-layer bins; the value ranges differ ×4.00 ([−8.00, 8.00] against [−2.00, 2.00]), so the H change follows the activation scale and H is read as equal.',
  ]);
  assert.deepEqual(scaleNotes(tinyCompare()), []);
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
  assert.deepEqual(header.slice(-12), [
    'signature',
    'delta_entropy',
    'notches_overlap',
    'mi_ratio',
    'mi_ratio_low',
    'mi_ratio_high',
    'error',
    'not_comparable',
    'range_min',
    'range_max',
    'rank',
    'flag',
  ]);
  const col = (name: string) => header.indexOf(name);
  assert.deepEqual(
    rows
      .slice(1)
      .map((r) => [
        r[0],
        r[1],
        r[col('signature')],
        r[col('mi_ratio')],
        r[col('range_min')],
        r[col('rank')],
      ]),
    [
      ['runs/base/model.json', 'dense_1', 'reference', '1', '-2', ''],
      ['runs/base/model.json', 'dense_2', 'reference', '1', '-2', ''],
      ['runs/shortcut/model.json', 'dense_1', 'heuristic', '4', '-1.2', '1'],
      ['runs/shortcut/model.json', 'dense_2', 'heuristic', '4', '-1.2', '1'],
      ['runs/random/model.json', 'dense_1', 'example-level', '0.4', '-2.6', 'flagged'],
      ['runs/random/model.json', 'dense_2', 'example-level', '0.4', '-2.6', 'flagged'],
    ],
  );
  // 16 layer columns and 12 compare columns: the path, 21 empty cells, the quoted error, and
  // the 5 newer columns empty.
  assert.equal(
    lines.at(-1),
    `runs/broken/model.json${','.repeat(22)}"runs/broken/model.json: expected a layers-model, found a graph-model"${','.repeat(5)}`,
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

void test('twelve models get twelve colours; beyond them the colours repeat with other markers, dashed', () => {
  assert.deepEqual(
    [0, 5, 6, 11, 12, 23, 24, 47, 48].map((i) => [seriesColor(i), seriesMarker(i)]),
    [
      ['blue', 'circle'],
      ['yellow', 'circle'],
      ['teal', 'circle'],
      ['gray', 'circle'],
      ['blue', 'rect'],
      ['gray', 'rect'],
      ['blue', 'triangle'],
      ['gray', 'rectRot'],
      ['blue', 'circle'],
    ],
  );
  const report = tinyCompare();
  const first = report.models[0];
  report.models = Array.from({ length: 14 }, (_, i) => ({
    ...first,
    path: `runs/s${i}/model.json`,
  }));
  const boxes = entropyBoxData(modelSeries({ kind: 'compare', report }), 100);
  const twelve = boxes.models.slice(0, 12);
  assert.equal(new Set(twelve.map((m) => m.color)).size, 12);
  assert.ok(twelve.every((m) => m.marker === 'circle'));
  assert.deepEqual(
    boxes.models.slice(11, 14).map((m) => [m.color, m.marker]),
    [
      ['gray', 'circle'],
      ['blue', 'rect'],
      ['orange', 'rect'],
    ],
  );
  const curves = miDensityCurves({ kind: 'compare', report }, null);
  assert.equal(new Set(curves.slice(0, 12).map((c) => c.color)).size, 12);
  assert.deepEqual(
    curves.map((c) => c.dashed),
    [...Array<boolean>(12).fill(false), true, true],
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
  // Against a reference checkpoint the same; against the cohort median nothing is marked.
  const checkpoint = { ...report, baseline: null };
  checkpoint.reference = { ...report.reference, mode: 'checkpoint' };
  assert.deepEqual(
    compareLayerTable(checkpoint, 'dense_2').rows.map((r) => r.cells[1]),
    marked,
  );
  const cohortReport = { ...report, baseline: null };
  cohortReport.reference = { ...report.reference, mode: 'cohort', path: null };
  const cohort = compareLayerTable(cohortReport, 'dense_2').rows.map((r) => r.cells[1]);
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

void test('an axis fits its data: padded 5% a side, widened when near-constant, never across 0', () => {
  const range = (values: number[], minSpan: number, limits = {}) => {
    const r = paddedRange(values, minSpan, limits);
    return r === null ? null : [r.min, r.max];
  };
  // 1 .. 3: span 2, padding 0.1 a side.
  const wide = range([2, 1, 3, Number.NaN], 0.5);
  near(wide?.[0] ?? NaN, 0.9);
  near(wide?.[1] ?? NaN, 3.1);
  // 2.40 .. 2.42 is widened about 2.41 to 0.5 (2.16 .. 2.66), then padded by 0.025.
  const flat = range([2.4, 2.42], 0.5);
  near(flat?.[0] ?? NaN, 2.135);
  near(flat?.[1] ?? NaN, 2.685);
  // 0.1 widened to -0.15 .. 0.35 would cross 0: moved up to 0 .. 0.5, and padded above only.
  const low = range([0.1], 0.5);
  near(low?.[0] ?? NaN, 0);
  near(low?.[1] ?? NaN, 0.525);
  // 0.01 .. 0.4 padded by 0.0195 would reach -0.0095: it stops at 0. 0.02 .. 0.4 is not
  // pulled to 0 (padded by 0.019, from 0.001).
  assert.equal(range([0.01, 0.4], 0.05)?.[0], 0);
  near(range([0.02, 0.4], 0.05)?.[0] ?? NaN, 0.001);
  // Values below 0 may show below 0; an upper limit cuts the padding.
  const negative = range([-0.01, 0.02], 0.05);
  near(negative?.[0] ?? NaN, -0.0225);
  near(negative?.[1] ?? NaN, 0.0325);
  const capped = range([1, 3], 0.5, { max: 3 });
  near(capped?.[1] ?? NaN, 3);
  assert.equal(range([Number.NaN], 0.5), null);
  assert.equal(range([], 0.5), null);
});

void test('the entropy axis spans the boxes and their notches, within 0 .. ln(bins)', () => {
  // BOX_A: 1 .. 5, BOX_B: 0.5 .. 2 (notches inside): 0.5 .. 5, padded by 0.225.
  const data = entropyBoxData(modelSeries(analysis()), 1000);
  const r = entropyAxisRange(data);
  near(r?.min ?? NaN, 0.275);
  near(r?.max ?? NaN, 5.225);
  // With 100 bins no entropy passes ln 100 = 4.605: the axis stops there.
  near(entropyAxisRange(entropyBoxData(modelSeries(analysis()), 100))?.max ?? NaN, Math.log(100));
  // One near-constant layer at H = 2 shows 1.75 .. 2.25 padded: 1.725 .. 2.275.
  const constant = analysis();
  const box = { ...BOX_A, min: 2, q1: 2, median: 2, q3: 2, max: 2, notchLow: 2, notchHigh: 2 };
  constant.report.layers = [{ ...constant.report.layers[0], entropies: [2, 2, 2], entropy: box }];
  const c = entropyAxisRange(entropyBoxData(modelSeries(constant), 100));
  near(c?.min ?? NaN, 1.725);
  near(c?.max ?? NaN, 2.275);
  // A notch reaching below 0 (few neurons) does not take the axis below 0.
  constant.report.layers[0].entropy = { ...box, min: 0.2, notchLow: -0.4 };
  assert.equal(entropyAxisRange(entropyBoxData(modelSeries(constant), 100))?.min, 0);
});

void test('the trajectory axes each fit their series, not pulled to 0', () => {
  const t = trajectoryData(tinyCompare());
  assert.ok(t !== null);
  // H 1.2 .. 2.6 padded by 0.07; I 0.04 .. 0.4 padded by 0.018.
  const axes = trajectoryAxes(t);
  near(axes.entropy?.min ?? NaN, 1.13);
  near(axes.entropy?.max ?? NaN, 2.67);
  near(axes.mi?.min ?? NaN, 0.022);
  near(axes.mi?.max ?? NaN, 0.418);
  // A flat I (0.30 .. 0.32) is widened to 0.05 about 0.31, then padded: 0.2825 .. 0.3375.
  const flat = trajectoryAxes({
    ...t,
    mi: [0.3, 0.31, 0.32].map((y, i) => ({ x: i, y })),
  });
  near(flat.mi?.min ?? NaN, 0.2825);
  near(flat.mi?.max ?? NaN, 0.3375);
  assert.deepEqual(trajectoryAxes({ ...t, entropy: [], mi: [] }), { entropy: null, mi: null });
});

/** A density on `x` with one component of `sd`, and quartiles inside its data. */
function grid(x: number[], density: number[], sd: number): MiDensity {
  return { components: [{ weight: 1, mean: 0.5, sd }], bic: 0, x, density };
}
const QUARTILES: MiSummary = { pairs: 100, median: 0.5, mean: 0.5, q1: 0.3, q3: 0.7 };

void test('the MI data range comes back from the density grid; the curve starts at the data', () => {
  // A grid 1.2 wide: padding max(1.2 / 12, 3 sd) = 0.1 for sd 0.01, so the data span 0 .. 1.
  const d = grid([-0.1, 0.2, 0.5, 0.8, 1.1], [1, 4, 2, 1, 0.5], 0.01);
  const r = densityDataRange(d, QUARTILES);
  near(r?.min ?? NaN, 0);
  near(r?.max ?? NaN, 1);
  // sd 0.05: padding 0.15, data 0.05 .. 0.95.
  near(
    densityDataRange({ ...d, components: [{ weight: 1, mean: 0.5, sd: 0.05 }] }, QUARTILES)?.min ??
      NaN,
    0.05,
  );
  // Not a grid of the core's rule: the padding would pass the middle, or leave out q1.
  assert.equal(densityDataRange(grid([0, 0.5, 1], [1, 2, 1], 0.2), QUARTILES), null);
  assert.equal(densityDataRange(d, { ...QUARTILES, q1: -0.05 }), null);
  assert.equal(densityDataRange(grid([0.5], [Number.NaN], 0), QUARTILES), null);
  // Where the axis starts: at 0 for data from 0 or just above it (within 10% of their range).
  assert.equal(densityAxisStart({ min: 0.05, max: 0.95 }), 0);
  assert.equal(densityAxisStart({ min: 1, max: 2 }), 1);
  assert.equal(densityAxisStart({ min: -0.2, max: 0.8 }), -0.2);
  // The curve from the data minimum on, its value there interpolated: 1 + 3 * (0.1 / 0.3).
  const points = d.x.map((x, i) => ({ x, y: d.density[i] }));
  assert.deepEqual(
    clipCurve(points, 0).map((p) => [p.x, Math.round(p.y * 1e9) / 1e9]),
    [
      [0, 2],
      [0.2, 4],
      [0.5, 2],
      [0.8, 1],
      [1.1, 0.5],
    ],
  );
  assert.deepEqual(clipCurve(points, 0.5), points.slice(2));
  assert.deepEqual(clipCurve(points, 2), []);
  // In the chart data: dense_1 on this grid, dense_2 on the tiny grid (its range unknown).
  const snapshot = analysis();
  snapshot.report.layers[0].density = d;
  snapshot.report.layers[0].mi = QUARTILES;
  const [one, two] = miDensityCurves(snapshot, null);
  near(one.points[0].x, 0);
  assert.deepEqual([one.start, two.start], [0, null]);
  assert.equal(miAxisMin([one]), 0);
  assert.equal(miAxisMin([one, two]), null);
});

void test('the data range read back from the grid is that of the values the core fitted', () => {
  const rng = new Rng(5);
  for (const [n, centre] of [
    [40, 0.05],
    [500, 0.3],
    [2000, 1.2],
  ]) {
    const values = Array.from({ length: n }, () => centre * Math.exp(0.5 * rng.normal()) - 0.01);
    const sorted = [...values].sort((a, b) => a - b);
    const mi = { pairs: n, median: NaN, mean: NaN, q1: sorted[n >> 2], q3: sorted[(3 * n) >> 2] };
    const r = densityDataRange(miDensity(values), mi);
    near(r?.min ?? NaN, sorted[0], 1e-9);
    near(r?.max ?? NaN, sorted[n - 1], 1e-9);
  }
});

void test('scatter labels are placed greedily where they overlap no label and no other marker', () => {
  const bounds = { left: 0, top: 0, right: 200, bottom: 100 };
  const label = (x: number, y: number, width = 40) => ({ x, y, radius: 4, width, height: 10 });
  const placed = placeLabels(
    [
      label(50, 50), // above right: 58 .. 98 x 36 .. 46
      label(60, 52), // above right would cover the first label, above left its marker: below right
      label(195, 50), // at the right edge: above left
      label(100, 5), // at the top: below right
      label(100, 50, 300), // wider than the plot: left out
    ],
    bounds,
  );
  assert.deepEqual(placed, [
    { left: 58, top: 36, right: 98, bottom: 46 },
    { left: 68, top: 56, right: 108, bottom: 66 },
    { left: 147, top: 36, right: 187, bottom: 46 },
    { left: 108, top: 9, right: 148, bottom: 19 },
    null,
  ]);
  const boxes = placed.filter((b) => b !== null);
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b) => assert.ok(!boxesOverlap(a, b))));
  // A bigger marker keeps its label further out (radius 9: 11 px, not 8).
  assert.deepEqual(placeLabels([{ ...label(50, 50), radius: 9 }], bounds)[0], {
    left: 61,
    top: 34.5,
    right: 101,
    bottom: 44.5,
  });
});

void test('each signature cell expands to its evidence; without a reference there is none', () => {
  const report = tinyCompare();
  report.models[2].notComparable = 'its layers differ: dense_2 has 8 neurons, expected 4';
  const t = compareTable(report);
  assert.equal(t.evidenceColumn, t.columns.indexOf('Signature'));
  assert.deepEqual(
    t.rows.map((r) => r.evidence),
    [
      report.models[0].signature.explanation,
      'heuristic: median H -0.8 nats, median I x4',
      'not comparable: its layers differ: dense_2 has 8 neurons, expected 4',
      undefined,
    ],
  );
  // No reference: empty signature cells, nothing to expand (the row tooltip stays).
  const none = compareTable(noReferenceCompare());
  assert.ok(none.rows.every((r) => r.evidence === undefined));
  assert.ok(none.rows[0].title?.startsWith('no signature'));
  assert.equal(reportSubject(analysis()), 'shortcut/model.json');
  assert.equal(reportSubject(compare()), 'comparison of 4 models');
});
