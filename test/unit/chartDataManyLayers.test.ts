// Reports of networks with many layers: short layer names, the layer filter, the MI small
// multiples and the warning table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReportSnapshot } from '../../src/shared/protocol';
import {
  analysisTable,
  entropyBoxData,
  miDensityCurves,
  miSmallMultiples,
  modelSeries,
  usesSmallMultiples,
} from '../../webview-ui/chartData';
import {
  matchesLayerFilter,
  shortLayerNames,
  shownLayers,
  warningGroups,
  warningTable,
  withoutLayerPrefix,
} from '../../webview-ui/layerNames';
import { reducer, initialState } from '../../webview-ui/state';
import { manyLayerAnalysis, realisticAnalysis } from './chartDataFixtures';

const P = 'StatefulPartitionedCall/mobilenetv2_1.00_224/MobilenetV2';

void test('shortLayerNames: the shortest /-suffix no other name ends with', () => {
  assert.deepEqual(
    shortLayerNames([
      `${P}/Conv1/Conv2D`,
      `${P}/block_1_expand/Conv2D`,
      `${P}/block_1_project/Conv2D`,
      `${P}/out_relu/Relu`,
    ]),
    ['Conv1/Conv2D', 'block_1_expand/Conv2D', 'block_1_project/Conv2D', 'Relu'],
  );
  // Collisions two segments deep need a third; plain names stay as they are.
  assert.deepEqual(
    shortLayerNames([
      'model/a/block/conv/BiasAdd',
      'model/b/block/conv/BiasAdd',
      'model/b/other/conv/BiasAdd',
      'dense_1',
    ]),
    ['a/block/conv/BiasAdd', 'b/block/conv/BiasAdd', 'other/conv/BiasAdd', 'dense_1'],
  );
  // A name that is another's suffix keeps its whole self; the longer one takes a segment more.
  assert.deepEqual(shortLayerNames(['conv/BiasAdd', 'x/conv/BiasAdd']), [
    'conv/BiasAdd',
    'x/conv/BiasAdd',
  ]);
  // Equal names cannot be told apart: kept whole. Labels are always distinct otherwise.
  assert.deepEqual(shortLayerNames(['a/b', 'a/b', 'c']), ['a/b', 'a/b', 'c']);
  const names = manyLayerAnalysis(40).layers.map((l) => l.name);
  const short = shortLayerNames(names);
  assert.equal(new Set(short).size, 40);
  short.forEach((s, i) => assert.ok(names[i].endsWith(s) && s.length < names[i].length, s));
});

void test('the layer filter: every word, any case; a selected layer wins over it', () => {
  assert.equal(matchesLayerFilter(`${P}/block_3_expand/Conv2D`, 'BLOCK_3 expand'), true);
  assert.equal(matchesLayerFilter(`${P}/block_3_project/Conv2D`, 'block_3 expand'), false);
  assert.equal(matchesLayerFilter('anything', '  '), true);
  const names = ['a/conv', 'b/conv', 'c/relu'];
  assert.deepEqual(shownLayers(names, null, 'conv'), ['a/conv', 'b/conv']);
  assert.deepEqual(shownLayers(names, 'c/relu', 'conv'), ['c/relu']);
  assert.deepEqual(shownLayers(names, null, undefined), names);
});

void test('many layers: small multiples (all pairs first, then the filtered layers in order) on one x axis', () => {
  const report = manyLayerAnalysis(40);
  const snapshot: ReportSnapshot = { kind: 'analysis', report };
  assert.equal(usesSmallMultiples(snapshot, null), true);
  assert.equal(usesSmallMultiples(snapshot, report.layers[3].name), false);
  assert.equal(usesSmallMultiples({ kind: 'analysis', report: realisticAnalysis() }, null), false);
  const all = miSmallMultiples(snapshot);
  assert.equal(all.panels.length, 41);
  assert.equal(all.panels[0].layer, null);
  assert.deepEqual(
    all.panels.slice(1).map((p) => p.layer),
    report.layers.map((l) => l.name),
  );
  assert.equal(all.panels[2].label, 'block_1_expand/Conv2D');
  assert.equal(all.panels[2].title, `${P}/block_1_expand/Conv2D`);
  // One curve a panel (no baseline), its layer's median; the x axis covers every curve.
  for (const p of all.panels) assert.equal(p.curves.length, 1);
  assert.equal(all.panels[5].curves[0].median, report.layers[4].mi.median);
  const x = all.x;
  assert.ok(x !== null);
  for (const c of all.panels.flatMap((p) => p.curves)) {
    assert.ok(c.points[0].x >= x.min - 1e-12 && c.points[c.points.length - 1].x <= x.max + 1e-12);
  }
  const expand = miSmallMultiples(snapshot, 'expand');
  assert.deepEqual(
    expand.panels.map((p) => p.label),
    [
      'all layers (all pairs)',
      ...Array.from({ length: 20 }, (_, i) => `block_${i + 1}_expand/Conv2D`),
    ],
  );
  assert.equal(miSmallMultiples(snapshot, 'no such layer').panels.length, 1);
});

void test('the filter narrows the entropy boxes, the overlay curves and the layer table alike', () => {
  const report = manyLayerAnalysis(40);
  const snapshot: ReportSnapshot = { kind: 'analysis', report };
  const boxes = entropyBoxData(modelSeries(snapshot), 100, null, 'block_2_');
  assert.deepEqual(boxes.layers, [`${P}/block_2_expand/Conv2D`, `${P}/block_2_project/Conv2D`]);
  assert.deepEqual(boxes.labels, ['block_2_expand/Conv2D', 'block_2_project/Conv2D']);
  assert.deepEqual(
    boxes.boxes.map((b) => b.layerIndex),
    [0, 1],
  );
  const curves = miDensityCurves(snapshot, null, 'block_2_');
  assert.deepEqual(
    curves.map((c) => [c.label, c.title]),
    [
      ['block_2_expand/Conv2D', `${P}/block_2_expand/Conv2D`],
      ['block_2_project/Conv2D', `${P}/block_2_project/Conv2D`],
      ['all layers (all pairs)', undefined],
    ],
  );
  const table = analysisTable(snapshot, boxes.layers);
  assert.deepEqual(
    table.rows.map((r) => [r.cells[0], r.titles?.[0]]),
    [
      ['block_2_expand/Conv2D', `${P}/block_2_expand/Conv2D`],
      ['block_2_project/Conv2D', `${P}/block_2_project/Conv2D`],
      ['all layers', undefined],
    ],
  );
  // The reducer keeps the filter; the same text again changes nothing.
  const s = reducer(initialState(), { type: 'report/show', snapshot });
  const f = reducer(s, { type: 'ui/filterLayers', filter: 'block_2_' });
  assert.equal(f.ui.layerFilter, 'block_2_');
  assert.equal(reducer(f, { type: 'ui/filterLayers', filter: 'block_2_' }), f);
  assert.equal(reducer(s, { type: 'ui/filterLayers', filter: '' }), s);
});

void test('warnings: grouped by code, layers listed once, no repeated layer prefix, counted', () => {
  assert.equal(withoutLayerPrefix('Conv1: 3 of 8 neurons', 'Conv1'), '3 of 8 neurons');
  assert.equal(withoutLayerPrefix('Conv1 has 3', 'Conv1'), 'Conv1 has 3');
  const report = manyLayerAnalysis(40);
  const groups = warningGroups(report.warnings);
  assert.deepEqual(
    groups.map((g) => [g.code, g.count, g.layers.length]),
    [
      // Layers 0, 3, ..., 39: 14 of them; 1, 6, ..., 36: 8.
      ['heavy-ties', 14, 14],
      ['dead-neurons', 8, 8],
      ['small-probe', 1, 0],
    ],
  );
  // Messages that differ by layer: the code's title, each layer's message in the details.
  const ties = groups[0];
  assert.equal(ties.text, 'Many tied values: KSG MI is biased by ties');
  assert.equal(ties.details.length, 14);
  assert.ok(ties.details[1].message.startsWith('on average 23.0% of each'));
  // The same message for every layer: that message once, without any layer's name.
  assert.equal(groups[1].text, '1 of 64 neurons are constant over the probe set (H = 0)');
  assert.deepEqual(groups[1].details, []);
  const short = new Map(
    report.layers.map((l, i) => [l.name, shortLayerNames(report.layers.map((x) => x.name))[i]]),
  );
  const table = warningTable(report.warnings, short);
  assert.deepEqual(table.columns, ['Warning', 'Layers', 'Count']);
  assert.deepEqual(
    table.rows.map((r) => r.cells[2]),
    ['14', '8', '1'],
  );
  assert.ok(table.rows[1].cells[1].startsWith('block_1_expand/Conv2D, block_3_project/Conv2D'));
  assert.equal(table.rows[1].titles?.[1]?.split('\n')[0], `${P}/block_1_expand/Conv2D`);
  assert.equal(table.rows[2].cells[1], 'whole model');
  for (const r of table.rows)
    assert.doesNotMatch(r.cells.join(' ') + (r.evidence ?? ''), /StatefulPartitionedCall/);
  assert.match(table.rows[0].evidence ?? '', /^Conv1\/Conv2D: on average 20\.0%/);
  // Only the shown layers' warnings (model-wide ones stay).
  const narrowed = warningTable(report.warnings, short, [report.layers[1].name]);
  assert.deepEqual(
    narrowed.rows.map((r) => [r.cells[1], r.cells[2]]),
    [
      ['block_1_expand/Conv2D', '1'],
      ['whole model', '1'],
    ],
  );
});
