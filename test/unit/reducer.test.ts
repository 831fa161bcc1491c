import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReportSnapshot } from '../../src/shared/protocol';
import type { Action, ViewState } from '../../webview-ui/state';
import {
  DEFAULT_UI,
  initialState,
  reducer,
  restoreUi,
  selectableLayers,
} from '../../webview-ui/state';
import { tinyAnalysis, tinyCompare } from './chartDataFixtures';

const analysis: ReportSnapshot = { kind: 'analysis', report: tinyAnalysis() };
const compare: ReportSnapshot = { kind: 'compare', report: tinyCompare() };

const run = (actions: Action[], start: ViewState = initialState()): ViewState =>
  actions.reduce(reducer, start);

void test('persisted UI state is restored field by field; anything else falls back to defaults', () => {
  assert.deepEqual(restoreUi(undefined), DEFAULT_UI);
  assert.deepEqual(restoreUi('garbage'), DEFAULT_UI);
  assert.deepEqual(restoreUi({ selectedLayer: 3, showNeurons: 'yes', reportId: null }), DEFAULT_UI);
  assert.deepEqual(
    restoreUi({ selectedLayer: 'dense_2', showNeurons: false, reportId: 'r1', extra: 1 }),
    {
      selectedLayer: 'dense_2',
      showNeurons: false,
      reportId: 'r1',
    },
  );
  const s = initialState({ selectedLayer: 'dense_2' });
  assert.equal(s.snapshot, null);
  assert.equal(s.ui.selectedLayer, 'dense_2');
});

void test('a report replaces the view; a restored layer survives when the report has it', () => {
  const s = run(
    [{ type: 'report/show', snapshot: analysis, reportId: 'a.json' }],
    initialState({ selectedLayer: 'dense_2' }),
  );
  assert.equal(s.snapshot, analysis);
  assert.equal(s.ui.selectedLayer, 'dense_2');
  assert.equal(s.ui.reportId, 'a.json');
  // A report without that layer resets the choice to all layers.
  const other: ReportSnapshot = {
    kind: 'analysis',
    report: { ...tinyAnalysis(), layers: tinyAnalysis().layers.slice(0, 1) },
  };
  const t = reducer(s, { type: 'report/show', snapshot: other });
  assert.equal(t.ui.selectedLayer, null);
  assert.equal(t.ui.reportId, null);
});

void test('selecting a layer: known layers only, and the same choice changes nothing', () => {
  const s = run([{ type: 'report/show', snapshot: analysis }]);
  const picked = reducer(s, { type: 'ui/selectLayer', layer: 'dense_1' });
  assert.equal(picked.ui.selectedLayer, 'dense_1');
  assert.equal(picked.snapshot, s.snapshot);
  assert.equal(reducer(picked, { type: 'ui/selectLayer', layer: 'dense_1' }), picked);
  assert.equal(reducer(picked, { type: 'ui/selectLayer', layer: 'nope' }).ui.selectedLayer, null);
  assert.equal(reducer(picked, { type: 'ui/selectLayer', layer: null }).ui.selectedLayer, null);
  // Without a report there is nothing to select.
  assert.equal(
    reducer(initialState(), { type: 'ui/selectLayer', layer: 'dense_1' }).ui.selectedLayer,
    null,
  );
});

void test('the neuron toggle flips only when it changes', () => {
  const s = initialState();
  assert.equal(reducer(s, { type: 'ui/showNeurons', show: true }), s);
  const off = reducer(s, { type: 'ui/showNeurons', show: false });
  assert.equal(off.ui.showNeurons, false);
  assert.notEqual(off.ui, s.ui);
});

void test('busy updates: progress set and cleared; clearing twice is a no-op', () => {
  const s = run([
    { type: 'report/show', snapshot: analysis },
    { type: 'busy/update', busy: { label: 'capturing dense_1', fraction: 0.25 } },
  ]);
  assert.deepEqual(s.busy, { label: 'capturing dense_1', fraction: 0.25 });
  assert.equal(s.snapshot, analysis, 'the report stays while busy');
  const done = reducer(s, { type: 'busy/update', busy: null });
  assert.equal(done.busy, null);
  assert.equal(reducer(done, { type: 'busy/update', busy: null }), done);
  // UI state is untouched by host progress (nothing new to persist).
  assert.equal(done.ui, s.ui);
});

void test('clearing shows the message and forgets the report and its layer', () => {
  const s = run([
    { type: 'report/show', snapshot: analysis, reportId: 'a' },
    { type: 'ui/selectLayer', layer: 'dense_2' },
    { type: 'report/clear', message: 'No analysis yet. Right-click a model to analyse it.' },
  ]);
  assert.equal(s.snapshot, null);
  assert.equal(s.emptyMessage, 'No analysis yet. Right-click a model to analyse it.');
  assert.equal(s.ui.selectedLayer, null);
  assert.equal(s.ui.reportId, null);
  assert.equal(s.ui.showNeurons, true);
});

void test('the selectable layers of a comparison come from the models that succeeded', () => {
  assert.deepEqual(selectableLayers(compare), ['dense_1', 'dense_2']);
  assert.deepEqual(selectableLayers(null), []);
  const s = run([
    { type: 'report/show', snapshot: compare },
    { type: 'ui/selectLayer', layer: 'dense_2' },
  ]);
  assert.equal(s.ui.selectedLayer, 'dense_2');
});

void test('the reducer is pure: the previous state is not modified', () => {
  const s = run([{ type: 'report/show', snapshot: analysis }]);
  const frozen = JSON.stringify({ ...s, snapshot: null });
  run(
    [
      { type: 'ui/selectLayer', layer: 'dense_1' },
      { type: 'ui/showNeurons', show: false },
      { type: 'busy/update', busy: { label: 'x', fraction: 0.5 } },
      { type: 'report/clear', message: 'gone' },
    ],
    s,
  );
  assert.equal(JSON.stringify({ ...s, snapshot: null }), frozen);
  assert.equal(s.snapshot, analysis);
});
