// The reference in the charts (an analysis's baseline report, a comparison's reference model),
// the lone model's note and the side view's summary, against the fixtures' hand-set numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BOX_FILL,
  GROUP_WIDTH,
  LONE_MODEL_NOTE,
  SIGNATURE_PHRASES,
  entropyBoxData,
  isLoneModel,
  layerNames,
  miDensityCurves,
  modelSeries,
  sparklinePoints,
  summaryData,
} from '../../webview-ui/chartData';
import type { AnalysisReport, ReportSnapshot, SignatureKind } from '../../src/shared/protocol';
import { signatureLabel } from '../../src/core/report/signatureText';
import { initialState, reducer, selectableLayers } from '../../webview-ui/state';
import { BOX_A, BOX_B, signature, tinyAnalysis, tinyCompare } from './chartDataFixtures';

const near = (actual: number, expected: number, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} != ${expected}`);

const BASELINE_PATH = '/work/models/base/model.json';

/**
 * The baseline's own report: the fixture's layers with their boxes swapped (dense_1 BOX_B,
 * dense_2 BOX_A), median I 0.05 and 0.08 per layer and 0.07 over all pairs, and a layer
 * dense_3 the model does not have.
 */
function baselineReport(): AnalysisReport {
  const r = tinyAnalysis();
  const [d1, d2] = r.layers;
  return {
    ...r,
    model: { ...r.model, path: BASELINE_PATH, sha256: 'cd'.repeat(32) },
    layers: [
      { ...d1, entropy: BOX_B, entropies: [0.5, 1, 1.5, 2], mi: { ...d1.mi, median: 0.05 } },
      { ...d2, entropy: BOX_A, entropies: [1, 2, 3, 4, 5], mi: { ...d2.mi, median: 0.08 } },
      { ...d2, name: 'dense_3' },
    ],
    summary: { ...r.summary, mi: { ...r.summary.mi, median: 0.07 } },
  };
}

/** The model read against that baseline (heuristic), with the baseline's report beside it. */
function withReference(): ReportSnapshot & { kind: 'analysis' } {
  const report: AnalysisReport = {
    ...tinyAnalysis(),
    signature: { ...signature('heuristic', -0.8, 2.5), reference: BASELINE_PATH },
  };
  return { kind: 'analysis', report, reference: baselineReport() };
}

void test('a lone model draws no reference: one box per layer, no reference curve', () => {
  const snapshot: ReportSnapshot = { kind: 'analysis', report: tinyAnalysis() };
  const boxes = entropyBoxData(modelSeries(snapshot), 100);
  assert.deepEqual(
    boxes.boxes.map((b) => b.reference),
    [false, false],
  );
  assert.deepEqual(
    boxes.models.map((m) => m.label),
    ['shortcut/model.json'],
  );
  assert.ok(miDensityCurves(snapshot, null).every((c) => !c.reference));
  assert.equal(isLoneModel(snapshot), true);
  assert.equal(isLoneModel(withReference()), false);
});

void test('an analysis with its baseline: the baseline’s boxes beside the model’s in each layer slot', () => {
  const snapshot = withReference();
  const data = entropyBoxData(modelSeries(snapshot), 100);
  // Only the model's layers: the baseline's dense_3 gets no slot.
  assert.deepEqual(data.layers, ['dense_1', 'dense_2']);
  assert.deepEqual(selectableLayers(snapshot), ['dense_1', 'dense_2']);
  assert.deepEqual(
    data.models.map((m) => [m.label, m.reference]),
    [
      ['shortcut/model.json', false],
      ['reference: base/model.json', true],
    ],
  );
  // Two series share 0.8 of a slot: sub-slots 0.4 wide, centres at i - 0.2 and i + 0.2.
  const at = (layerIndex: number, reference: boolean) =>
    data.boxes.find((b) => b.layerIndex === layerIndex && b.reference === reference);
  near(at(0, false)?.center ?? NaN, -0.2);
  near(at(0, true)?.center ?? NaN, 0.2);
  near(at(1, true)?.center ?? NaN, 1.2);
  near(at(0, true)?.halfWidth ?? NaN, ((GROUP_WIDTH / 2) * BOX_FILL) / 2);
  // The reference's boxes are the baseline report's numbers, the model's its own.
  assert.deepEqual(at(0, true)?.box, BOX_B);
  assert.deepEqual(at(1, true)?.box, BOX_A);
  assert.deepEqual(at(0, false)?.box, BOX_A);
  // Its neurons are drawn too, at the baseline's entropies.
  assert.deepEqual(
    data.points[1].map((p) => p.y),
    [0.5, 1, 1.5, 2, 1, 2, 3, 4, 5],
  );
});

void test('an analysis with its baseline: the baseline’s MI density as a dashed reference curve', () => {
  const snapshot = withReference();
  const all = miDensityCurves(snapshot, null);
  assert.deepEqual(
    all.map((c) => [c.label, c.median, c.dashed, c.reference]),
    [
      ['dense_1', 0.12, false, false],
      ['dense_2', 0.4, false, false],
      ['all layers (all pairs)', 0.2, true, false],
      ['reference: base/model.json (all pairs)', 0.07, true, true],
    ],
  );
  // One layer: the baseline's curve over that layer's pairs.
  assert.deepEqual(
    miDensityCurves(snapshot, 'dense_2').map((c) => [c.label, c.median, c.reference]),
    [
      ['dense_2', 0.4, false],
      ['reference: base/model.json (dense_2)', 0.08, true],
    ],
  );
});

void test('a comparison marks its reference model: hatched boxes, dashed curve, legend "reference:"', () => {
  const snapshot: ReportSnapshot = { kind: 'compare', report: tinyCompare() };
  const series = modelSeries(snapshot);
  assert.deepEqual(
    series.map((m) => [m.label, m.reference === true]),
    [
      ['base/model.json', true],
      ['shortcut/model.json', false],
      ['random/model.json', false],
    ],
  );
  const data = entropyBoxData(series, 100);
  assert.deepEqual(
    data.boxes.map((b) => b.reference),
    [true, true, false, false, false, false],
  );
  assert.equal(data.models[0].label, 'reference: base/model.json');
  const curves = miDensityCurves(snapshot, null);
  assert.deepEqual(
    curves.map((c) => [c.reference, c.dashed]),
    [
      [true, true],
      [false, false],
      [false, false],
    ],
  );
  // Without a reference model (cohort or none), nothing is marked.
  const cohort = tinyCompare();
  cohort.reference = { ...cohort.reference, mode: 'cohort', path: null };
  assert.ok(modelSeries({ kind: 'compare', report: cohort }).every((m) => m.reference !== true));
  assert.deepEqual(layerNames(series), ['dense_1', 'dense_2']);
});

void test('the lone-model note in VS Code names no CLI command or flag', () => {
  assert.doesNotMatch(LONE_MODEL_NOTE, /memlens \w|--\w/);
});

void test('the summary names signatures as signatureLabel does', () => {
  for (const kind of ['heuristic', 'example-level', 'none'] as SignatureKind[]) {
    assert.equal(SIGNATURE_PHRASES[kind], signatureLabel(kind));
  }
});

void test('the summary of an analysis: signature, median H and I per layer, median I sparkline', () => {
  const lone = summaryData({ kind: 'analysis', report: tinyAnalysis() });
  assert.equal(lone.title, 'shortcut/model.json');
  assert.equal(lone.signature, null);
  assert.equal(lone.rowHeading, 'Layer');
  // The fixture's medians: dense_1 H 3, I 0.12; dense_2 H 1.25, I 0.4; all H 2, I 0.2.
  assert.deepEqual(
    lone.rows.map((r) => [r.name, r.entropy, r.mi]),
    [
      ['dense_1', '3.00', '0.120'],
      ['dense_2', '1.25', '0.400'],
      ['all layers', '2.00', '0.200'],
    ],
  );
  assert.deepEqual(lone.spark, { title: 'Median I per layer', values: [0.12, 0.4] });
  const read = summaryData(withReference());
  assert.deepEqual(read.signature, { text: 'heuristic memorization signature', tone: 'red' });
  assert.equal(read.note, 'Against the baseline base/model.json.');
});

void test('the summary of a comparison: each model’s signature or role and medians', () => {
  const data = summaryData({ kind: 'compare', report: tinyCompare() });
  assert.equal(data.rowHeading, 'Model');
  assert.equal(data.note, 'Reference: the baseline base/model.json.');
  assert.deepEqual(
    data.rows.map((r) => [r.name, r.signature?.text, r.signature?.tone, r.entropy, r.mi]),
    [
      ['base/model.json', 'reference', undefined, '2.00', '0.100'],
      ['shortcut/model.json', 'heuristic memorization', 'red', '1.20', '0.400'],
      ['random/model.json', 'example-level memorization', 'purple', '2.60', '0.040'],
      ['broken/model.json', 'failed', undefined, '—', '—'],
    ],
  );
});

void test('sparkline points: x evenly spaced, y from the top, 1 px inside the box', () => {
  // 12 x 12: x at 1, 6, 11; values 0 (bottom, y 11), 1 (top, y 1), 0.5 (middle, y 6).
  assert.equal(sparklinePoints([0, 1, 0.5], 12, 12), '1,11 6,1 11,6');
  // A non-finite value leaves its place empty; a flat series sits mid-height.
  assert.equal(sparklinePoints([0, Number.NaN, 1], 12, 12), '1,11 11,1');
  assert.equal(sparklinePoints([2, 2], 10, 8), '1,4 9,4');
  assert.equal(sparklinePoints([], 10, 8), '');
});

void test('the host’s mode comes with the report; without one the report is shown in full', () => {
  const shown = reducer(initialState(), {
    type: 'report/show',
    snapshot: { kind: 'analysis', report: tinyAnalysis() },
    mode: 'summary',
  });
  assert.equal(shown.mode, 'summary');
  const full = reducer(shown, { type: 'report/show', snapshot: withReference() });
  assert.equal(full.mode, 'full');
  assert.equal(initialState().mode, 'full');
});
