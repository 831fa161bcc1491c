import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Signature, SignatureKind } from '../../src/core/report/schema';
import { UserError } from '../../src/core/errors';
import type { ResultEntry } from '../../src/extension/logic/resultStore';
import {
  errorLine,
  escapeMarkdown,
  latestResult,
  localTime,
  shortModelName,
  statusView,
  type StatusInput,
} from '../../src/extension/logic/statusText';

// Times built from local components, so the expected local text holds in every time zone.
const at = (h: number, m: number): Date => new Date(2024, 0, 5, h, m);
const iso = (h: number, m: number): string => at(h, m).toISOString();
const rel = (file: string): string => path.relative('/w', file);

function signature(kind: SignatureKind, reference: string): Signature {
  return {
    kind,
    deltaEntropy: -0.3,
    notchesOverlap: false,
    miRatio: 3.9,
    miRatioLow: 3.8,
    miRatioHigh: 4.0,
    reference,
    explanation: kind,
  };
}

function entry(
  modelPath: string,
  analysedAt: string,
  sig: Signature | null,
  compareKey: string | null = null,
): ResultEntry {
  return {
    modelPath,
    key: compareKey ? '' : 'k',
    analysedAt,
    checkedAt: analysedAt,
    entropyMedian: 3.0512,
    miMedian: 0.51749,
    backend: 'wasm',
    signature: sig,
    signatureSource: sig ? (compareKey ? 'compare' : 'baseline') : null,
    compareKey,
    context: {
      id: 'c',
      kind: compareKey ? 'compare' : sig ? 'baseline' : 'alone',
      probe: '/w/probe.npy',
      reference: sig?.reference ?? null,
      settings: '1000 samples',
    },
  };
}

const shortcut = entry(
  '/w/examples/shortcut/model.json',
  iso(9, 7),
  signature('heuristic', 'the baseline shortcut-baseline'),
);
const idle = (latest: StatusInput['latest']): StatusInput => ({ busy: null, ended: null, latest });

void test('idle: the latest result, its model and its signature', () => {
  const view = statusView(idle({ kind: 'analysis', entry: shortcut }), rel);
  assert.equal(view.text, '$(pulse) MemLens: shortcut · heuristic memorization');
  assert.equal(
    view.tooltip,
    '**examples/shortcut/model\\.json**\n\n' +
      'heuristic memorization signature against the baseline shortcut\\-baseline\n\n' +
      'median H 3.05 nats · median I 0.517 nats\n\n' +
      'analysed 2024-01-05 09:07 · backend wasm\n\n' +
      'Click to open the report of shortcut.',
  );
  assert.equal(view.open, '/w/examples/shortcut/model.json');
  assert.equal(view.error, false);
});

void test('idle: the other signatures, and a model read against nothing', () => {
  const onnx = (sig: Signature | null) =>
    statusView(idle({ kind: 'analysis', entry: entry('/w/net.onnx', iso(9, 7), sig) })).text;
  assert.equal(
    onnx(signature('example-level', 'b')),
    '$(pulse) MemLens: net.onnx · example-level memorization',
  );
  assert.equal(onnx(signature('none', 'b')), '$(pulse) MemLens: net.onnx · no memorization');
  assert.equal(onnx(null), '$(pulse) MemLens: net.onnx · no reference');
  const lone = statusView(idle({ kind: 'analysis', entry: entry('/w/net.onnx', iso(9, 7), null) }));
  assert.match(lone.tooltip, /No reference, so no signature: the measures are comparative/);
});

void test('idle with no result', () => {
  const view = statusView(idle(null));
  assert.equal(view.text, 'MemLens: no result');
  assert.equal(view.open, null);
  assert.equal(
    view.tooltip,
    'No analysis yet: right-click a model file and choose MemLens: Analyze Memorization.',
  );
});

void test('idle after a compare: how many models, how many flagged, each one listed', () => {
  const models = [
    entry('/w/onset/epoch-4/model.json', iso(10, 0), signature('none', 'r'), 'c1'),
    entry('/w/onset/epoch-8/model.json', iso(10, 0), signature('heuristic', 'r'), 'c1'),
    entry('/w/onset/epoch-10/model.json', iso(10, 0), signature('heuristic', 'r'), 'c1'),
  ];
  const view = statusView(idle({ kind: 'compare', createdAt: iso(10, 0), models }), rel);
  assert.equal(view.text, '$(pulse) MemLens: 3 models compared · 2 flagged');
  assert.equal(
    view.tooltip,
    '**Compared 3 models** at 2024-01-05 10:00\n\n' +
      '- onset/epoch\\-4/model\\.json: no memorization\n' +
      '- onset/epoch\\-8/model\\.json: heuristic memorization\n' +
      '- onset/epoch\\-10/model\\.json: heuristic memorization\n\n' +
      'Click to open a report.',
  );
  assert.equal(view.open, null);
});

void test('busy: the job and its progress, whatever the latest result', () => {
  const view = statusView(
    {
      busy: { job: 'Analyzing net.onnx', fraction: 0.424, stage: 'MI pairs 120/2016' },
      ended: { kind: 'failed', job: 'x', error: 'y', at: at(8, 0) },
      latest: { kind: 'analysis', entry: shortcut },
    },
    rel,
  );
  assert.equal(view.text, '$(sync~spin) MemLens: Analyzing net.onnx 42%');
  assert.equal(
    view.tooltip,
    '**Analyzing net\\.onnx**: MI pairs 120/2016\n\n' +
      'Cancel from the progress notification.\n\n' +
      'Click to open the report of shortcut.',
  );
  assert.equal(view.open, '/w/examples/shortcut/model.json');
  const starting = statusView({
    busy: { job: 'Comparing 2 models', fraction: null, stage: null },
    ended: null,
    latest: null,
  });
  assert.equal(starting.text, '$(sync~spin) MemLens: Comparing 2 models');
  assert.equal(
    starting.tooltip,
    '**Comparing 2 models**\n\nCancel from the progress notification.',
  );
});

void test('after a failed job: the one-line error and its time, until the next result', () => {
  const view = statusView(
    {
      busy: null,
      ended: {
        kind: 'failed',
        job: 'Analyzing bad.onnx',
        error: errorLine(new UserError('bad.onnx: not an ONNX model')),
        at: at(14, 3),
      },
      latest: { kind: 'analysis', entry: shortcut },
    },
    rel,
  );
  assert.equal(view.text, '$(error) MemLens: failed');
  assert.equal(view.error, true);
  assert.equal(
    view.tooltip,
    '**Analyzing bad\\.onnx failed** at 2024-01-05 14:03\n\n' +
      'bad\\.onnx: not an ONNX model\n\n' +
      'Click to open the report of shortcut.',
  );
  // A failure before any job started (reading the model) names no job.
  const early = statusView({
    busy: null,
    ended: { kind: 'failed', job: null, error: 'no such file', at: at(14, 3) },
    latest: null,
  });
  assert.equal(early.tooltip, '**MemLens failed** at 2024-01-05 14:03\n\nno such file');
});

void test('after a cancelled job', () => {
  const view = statusView({
    busy: null,
    ended: { kind: 'cancelled', job: 'Comparing 4 models', at: at(23, 59) },
    latest: null,
  });
  assert.equal(view.text, '$(circle-slash) MemLens: cancelled');
  assert.equal(view.tooltip, '**Comparing 4 models** cancelled at 2024-01-05 23:59');
  assert.equal(view.error, false);
});

void test('the latest result: a compare at least as new as every analysis wins', () => {
  const older = entry('/w/a.onnx', iso(9, 0), null);
  const compared = entry('/w/b.onnx', iso(10, 0), signature('none', 'r'), 'c1');
  assert.equal(latestResult([], undefined), null);
  assert.deepEqual(latestResult([older], undefined), { kind: 'analysis', entry: older });
  assert.deepEqual(latestResult([older, compared], { key: 'c1', createdAt: iso(10, 0) }), {
    kind: 'compare',
    createdAt: iso(10, 0),
    models: [compared],
  });
  const newer = entry('/w/c.onnx', iso(11, 0), null);
  assert.deepEqual(latestResult([older, compared, newer], { key: 'c1', createdAt: iso(10, 0) }), {
    kind: 'analysis',
    entry: newer,
  });
  // A compare none of whose models is current any more: the newest analysis.
  assert.deepEqual(latestResult([older], { key: 'gone', createdAt: iso(12, 0) }), {
    kind: 'analysis',
    entry: older,
  });
});

void test("the latest result: the latest job's own, not a baseline stored after it", () => {
  const model = entry('/w/shortcut/model.json', iso(9, 0), signature('heuristic', 'b'));
  const baseline = entry('/w/shortcut-baseline/model.json', iso(9, 1), null);
  const entries = [baseline, model];
  assert.deepEqual(latestResult(entries, undefined), { kind: 'analysis', entry: baseline });
  assert.deepEqual(latestResult(entries, undefined, { model: model.modelPath }), {
    kind: 'analysis',
    entry: model,
  });
  const compared = entry('/w/b.onnx', iso(8, 0), signature('none', 'r'), 'c1');
  assert.deepEqual(
    latestResult([...entries, compared], { key: 'c1', createdAt: iso(8, 0) }, { compare: 'c1' }),
    { kind: 'compare', createdAt: iso(8, 0), models: [compared] },
  );
  // Gone from the store (results cleared): what the store holds.
  assert.equal(latestResult([], undefined, { model: model.modelPath }), null);
});

void test('names, times, errors and Markdown escapes', () => {
  assert.equal(shortModelName('/w/examples/shortcut/model.json'), 'shortcut');
  assert.equal(shortModelName('/w/ckpt/epoch_3.pt'), 'epoch_3.pt');
  assert.equal(localTime(new Date(2024, 10, 30, 0, 5)), '2024-11-30 00:05');
  assert.equal(errorLine(new Error('first line\n    at stack')), 'first line');
  assert.equal(errorLine('plain'), 'plain');
  assert.equal(errorLine(new Error('')), 'unknown error');
  assert.equal(escapeMarkdown('my_net*[v2].pt'), 'my\\_net\\*\\[v2\\]\\.pt');
});
