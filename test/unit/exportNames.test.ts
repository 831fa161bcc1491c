// What Export Report and Clear Cached Results show: report names, default file names, what
// Open and Reveal do, the clear confirmation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clearQuestion,
  exportFileName,
  openExportIn,
  reportChoice,
  reportFinding,
  reportTime,
  revealCommand,
  sanitiseFileStem,
} from '../../src/extension/logic/exportNames';
import { modelDisplayName } from '../../src/extension/logic/modelDisplayName';
import { signature, tinyAnalysis, tinyCompare } from './chartDataFixtures';

void test('model names: the folder of a folder model, else the file without its extension', () => {
  assert.equal(modelDisplayName('/w/models/shortcut/model.json'), 'shortcut');
  assert.equal(modelDisplayName('/w/runs/net.onnx'), 'net');
  assert.equal(modelDisplayName('/w/acts.v2.npz'), 'acts.v2');
  assert.equal(modelDisplayName('/w/.hidden'), '.hidden');
});

void test('file stems: one dash for each run of unsafe characters, none at the ends', () => {
  assert.equal(sanitiseFileStem('my model: v2/final'), 'my-model-v2-final');
  assert.equal(sanitiseFileStem('../../etc/passwd'), 'etc-passwd');
  assert.equal(sanitiseFileStem('réseau_1.5'), 'réseau_1.5');
  assert.equal(sanitiseFileStem('CON<>|?*'), 'CON');
  assert.equal(sanitiseFileStem('...'), 'report');
  assert.equal(sanitiseFileStem('a'.repeat(79) + '-b'), 'a'.repeat(79));
  assert.equal(sanitiseFileStem('x'.repeat(200)).length, 80);
});

void test('default export file names: the model, or the first of a compare and how many others', () => {
  assert.equal(exportFileName(tinyAnalysis()), 'shortcut-memlens.json');
  assert.equal(exportFileName(tinyAnalysis(), 'csv'), 'shortcut-memlens.csv');
  // tinyCompare: runs/base, runs/shortcut, runs/random, runs/broken.
  assert.equal(exportFileName(tinyCompare()), 'compare-base-and-3-memlens.json');
  const spaced = {
    ...tinyAnalysis(),
    model: { ...tinyAnalysis().model, path: '/w/My Net (v2).onnx' },
  };
  assert.equal(exportFileName(spaced, 'html'), 'My-Net-v2-memlens.html');
});

void test('report choices: the model or compare, the local time, and what was found', () => {
  const at = new Date(2026, 0, 2, 3, 4, 59);
  assert.equal(reportTime(at.toISOString()), '2026-01-02 03:04');
  assert.equal(reportTime('not a date'), 'not a date');
  const lone = { ...tinyAnalysis(), createdAt: at.toISOString() };
  assert.equal(reportFinding(lone), 'no reference');
  assert.deepEqual(reportChoice(lone, true), {
    label: 'shortcut',
    description: 'active report · 2026-01-02 03:04 · no reference',
  });
  assert.equal(
    reportFinding({ ...lone, signature: signature('heuristic', -0.8, 4) }),
    'heuristic memorization signature',
  );
  const compare = { ...tinyCompare(), createdAt: at.toISOString() };
  // shortcut (heuristic) and random (example-level); base has none, broken failed.
  assert.deepEqual(reportChoice(compare, false), {
    label: 'compare of 4 models',
    description: '2026-01-02 03:04 · 2 of 4 models with a memorization signature',
  });
  const one = { ...compare, models: compare.models.filter((m) => !m.path.includes('random')) };
  assert.equal(reportFinding(one), 'shortcut: heuristic memorization signature');
  assert.equal(
    reportFinding({ ...compare, models: [compare.models[0]] }),
    'no memorization signature',
  );
});

void test('Open shows HTML in the browser only where the browser sees the file; Reveal falls back to the Explorer', () => {
  assert.equal(openExportIn('/w/r.html', true), 'browser');
  assert.equal(openExportIn('/w/r.HTM', true), 'browser');
  assert.equal(openExportIn('/w/r.html', false), 'editor');
  assert.equal(openExportIn('/w/r.json', true), 'editor');
  assert.equal(openExportIn('/w/r.png', true), 'editor');
  assert.equal(revealCommand(true, true), 'revealFileInOS');
  assert.equal(revealCommand(false, true), 'revealInExplorer');
  assert.equal(revealCommand(true, false), 'revealInExplorer');
});

void test('the clear confirmation counts the results; nothing cached asks nothing', () => {
  assert.equal(clearQuestion(3, true), 'Clear 3 cached results and measurements?');
  assert.equal(clearQuestion(1, false), 'Clear 1 cached result and measurements?');
  assert.equal(clearQuestion(0, true), 'Clear the cached measurements?');
  assert.equal(clearQuestion(0, false), undefined);
});
