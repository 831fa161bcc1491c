import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Signature } from '../../src/core/report/schema';
import { UserError } from '../../src/core/errors';
import { exportFormatOf } from '../../src/extension/logic/exportFormats';
import { isChildMessage, isJobRequest } from '../../src/extension/child/protocol';
import { defaultJobParams } from '../fixtures/jobParams';
import {
  ANALYZE_LENS_TITLE,
  SAVED_PICK_TITLE,
  diagnosticMessage,
  entryForSavedPath,
  isStale,
  lensTitle,
  resultTooltip,
  savedFileDescription,
  savedPickPlaceholder,
  showsMemorization,
  unresolvedTooltip,
} from '../../src/extension/logic/lensText';
import { withSignatureFlag } from '../../src/core/report/signatureText';
import { commandLink, modelViewerHtml } from '../../src/extension/logic/modelViewerHtml';
import type { ResultEntry } from '../../src/extension/logic/resultStore';
import { makeNonce, resourceCspSource } from '../../src/extension/logic/webviewCsp';
import { webviewShellHtml } from '../../src/shared/webviewShell';

const signature: Signature = {
  kind: 'heuristic',
  deltaEntropy: -0.8149,
  notchesOverlap: false,
  miRatio: 3.126,
  miRatioLow: 2.704,
  miRatioHigh: 3.555,
  reference: 'examples/shortcut-baseline/model.json',
  explanation: 'heuristic memorization (shortcut learning)',
};

function entry(modelPath: string, analysedAt: string, sig: Signature | null): ResultEntry {
  return {
    modelPath,
    key: 'k',
    analysedAt,
    checkedAt: analysedAt,
    entropyMedian: 2.314,
    miMedian: 0.8449,
    backend: 'wasm',
    signature: sig,
    signatureSource: sig ? 'baseline' : null,
    compareKey: null,
    context: {
      id: sig ? 'b' : 'a',
      kind: sig ? 'baseline' : 'alone',
      probe: '/w/probe.npy',
      reference: sig?.reference ?? null,
      settings: '1000 samples',
    },
  };
}

void test('lens titles: before analysis, with a signature, without a reference', () => {
  assert.equal(lensTitle(undefined), ANALYZE_LENS_TITLE);
  assert.equal(ANALYZE_LENS_TITLE, 'MemLens: analyze memorization');
  assert.equal(
    lensTitle(entry('/w/m.onnx', 't', signature)),
    'MemLens: H 2.31 · I 0.84 · heuristic memorization signature',
  );
  assert.equal(
    lensTitle(entry('/w/m.onnx', 't', { ...signature, kind: 'none' })),
    'MemLens: H 2.31 · I 0.84 · no memorization signature',
  );
  assert.equal(
    lensTitle(entry('/w/m.onnx', 't', null)),
    'MemLens: H 2.31 · I 0.84 · no reference (set memlens.baseline or compare)',
  );
});

void test('an unresolved lens says why its path is unknown and what a click offers', () => {
  const loop = { reason: 'the path depends on `epoch`, a loop variable', glob: 'ckpt/epoch_*.pt' };
  assert.equal(
    unresolvedTooltip(loop),
    'The saved path is not known statically (the path depends on `epoch`, a loop variable): ' +
      'choose one of the files matching ckpt/epoch_*.pt',
  );
  assert.equal(
    unresolvedTooltip({ reason: 'the path depends on `path`, a parameter of `save`', glob: null }),
    'The saved path is not known statically (the path depends on `path`, a parameter of `save`): ' +
      'choose the model file to analyse',
  );
  assert.equal(SAVED_PICK_TITLE, 'MemLens: Analyze a Saved Checkpoint');
  assert.equal(
    savedPickPlaceholder(loop.reason, loop.glob),
    'The path depends on `epoch`, a loop variable: the files matching ckpt/epoch_*.pt, newest first',
  );
  // Local time: 5 January 2024, 09:07:30.
  assert.equal(
    savedFileDescription(new Date(2024, 0, 5, 9, 7, 30).getTime()),
    'saved 2024-01-05 09:07',
  );
});

void test('a result is stale once the model file is modified after it was last checked', () => {
  const e = {
    ...entry('/w/m.onnx', '2026-05-01T10:00:00.000Z', signature),
    checkedAt: '2026-05-02T08:00:00.000Z',
  };
  const checked = Date.parse('2026-05-02T08:00:00.000Z');
  assert.equal(isStale(e, checked - 1), false, 'saved before the check');
  assert.equal(isStale(e, checked), false, 'saved at the check');
  assert.equal(
    isStale(e, checked + 1),
    true,
    'saved after the check (analysedAt is earlier still)',
  );
  assert.equal(isStale(e, undefined), false, 'no file: nothing newer');
  assert.equal(
    lensTitle(e, true),
    'MemLens: H 2.31 · I 0.84 · heuristic memorization signature · model saved since: analyze again',
  );
  assert.match(
    diagnosticMessage(e, 'm.onnx', true),
    / \(from an earlier save of the model: analyze it again\)$/,
  );
});

void test('a saved folder matches the model.json inside it; the most recent match wins', () => {
  const entries = [
    entry('/w/models/shortcut/model.json', '2026-01-01T00:00:00Z', null),
    entry(
      '/w/models/shortcut/model.json'.replace('shortcut', 'other'),
      '2026-03-01T00:00:00Z',
      null,
    ),
    entry('/w/ckpt/final.pt', '2026-02-01T00:00:00Z', signature),
  ];
  assert.equal(
    entryForSavedPath('/w/models/shortcut', entries)?.modelPath,
    '/w/models/shortcut/model.json',
  );
  assert.equal(
    entryForSavedPath('/w/models/shortcut/model.json', entries)?.modelPath,
    '/w/models/shortcut/model.json',
  );
  assert.equal(entryForSavedPath('/w/ckpt/final.pt', entries)?.signature?.kind, 'heuristic');
  assert.equal(
    entryForSavedPath('/w/models', entries),
    undefined,
    'a grandparent folder is not the saved model',
  );
  const newer = entry('/w/models/shortcut/weights.h5', '2026-04-01T00:00:00Z', signature);
  assert.equal(entryForSavedPath('/w/models/shortcut', [...entries, newer]), newer);
});

void test('warnings only for a memorization signature; the message carries the evidence', () => {
  assert.equal(showsMemorization(entry('/w/m', 't', signature)), true);
  assert.equal(
    showsMemorization(entry('/w/m', 't', { ...signature, kind: 'example-level' })),
    true,
  );
  assert.equal(showsMemorization(entry('/w/m', 't', { ...signature, kind: 'none' })), false);
  assert.equal(showsMemorization(entry('/w/m', 't', null)), false);
  assert.equal(showsMemorization(undefined), false);
  assert.equal(
    diagnosticMessage(entry('/w/m', 't', signature), 'examples/shortcut/model.json'),
    'MemLens: heuristic memorization signature in examples/shortcut/model.json vs examples/shortcut-baseline/model.json: ' +
      'median H -0.81 nats (notches apart), median I x3.13 [2.70, 3.56]',
  );
});

const params = defaultJobParams('/w/probe.npy');

void test('IPC guards accept well-formed messages and reject malformed ones', () => {
  const analyzeJob = (p: Record<string, unknown>) => ({
    type: 'job/analyze',
    source: '/w/m.onnx',
    baseline: null,
    measurements: null,
    params: { ...params, ...p },
  });
  assert.equal(isJobRequest(analyzeJob({})), true);
  assert.equal(
    isJobRequest({ type: 'job/analyze', source: '/w/m.onnx', params }),
    false,
    'baseline is required (null or path)',
  );
  assert.equal(isJobRequest(analyzeJob({ binning: 'log' })), false);
  assert.equal(isJobRequest(analyzeJob({ estimator: 'mixed' })), true);
  assert.equal(isJobRequest(analyzeJob({ estimator: 'gao' })), false);
  assert.equal(isJobRequest(analyzeJob({ estimator: undefined })), false, 'estimator is required');
  assert.equal(isJobRequest(analyzeJob({ input: 3 })), false, 'input is a name or null');
  assert.equal(isJobRequest(analyzeJob({ input: 'input_ids' })), true);
  assert.equal(isJobRequest({ type: 'job/compare', paths: [], baseline: null, params }), false);
  assert.equal(
    isJobRequest({
      type: 'job/compare',
      paths: ['/a', '/b'],
      baseline: '/a',
      reference: null,
      measurements: null,
      params,
    }),
    true,
  );
  assert.equal(
    isJobRequest({
      type: 'job/inspect',
      source: '/w/m.onnx',
      params: { ...params, backend: 'gpu' },
    }),
    false,
  );
  assert.equal(
    isJobRequest({
      type: 'job/inspect',
      source: '/w/m.onnx',
      params: { ...params, backend: 'cpu', input: 'ids', python: '/usr/bin/python3' },
    }),
    true,
  );
  assert.equal(isJobRequest({ type: 'job/delete', source: '/' }), false);
  assert.equal(
    isChildMessage({ type: 'job/progress', progress: { stage: 'mi', done: 1, total: 2 } }),
    true,
  );
  assert.equal(
    isChildMessage({ type: 'job/progress', progress: { stage: 'mi', done: '1', total: 2 } }),
    false,
  );
  assert.equal(isChildMessage({ type: 'job/error', message: 'x' }), false);
  assert.equal(isChildMessage({ type: 'job/result', result: null }), true);
  assert.equal(isChildMessage(null), false);
});

void test('the model viewer runs no script and escapes every name', () => {
  const html = modelViewerHtml({
    displayPath: 'models/<b>evil</b>.onnx',
    modelPath: '/w/models/x".onnx',
    outline: {
      kind: 'model',
      path: '/w/m',
      format: 'onnx',
      backend: 'cpu',
      inputShape: [null, 128],
      layers: [
        {
          name: '<script>alert(1)</script>',
          type: 'Dense',
          outputShape: [null, 64],
          activation: 'relu',
          measuredByDefault: true,
        },
      ],
      probeFit: null,
      parameters: null,
    },
    outlineNote: null,
    entry: null,
    nonce: 'abcdefghijklmnopqrstuvwxyz012345',
    now: new Date(),
  });
  assert.ok(!/<script/i.test(html), 'no script element at all');
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('models/&lt;b&gt;evil&lt;/b&gt;.onnx'));
  assert.ok(
    html.includes(
      `content="default-src 'none'; style-src 'nonce-abcdefghijklmnopqrstuvwxyz012345';"`.replace(
        /'/g,
        '&#39;',
      ),
    ),
  );
  assert.ok(html.includes('[?, 64]'));
  // The command link carries the path as a JSON array, URI-encoded.
  assert.equal(
    commandLink('memlens.analyze', '/w/a b.onnx'),
    'command:memlens.analyze?%5B%22%2Fw%2Fa%20b.onnx%22%5D',
  );
});

void test('export format from the target extension; anything else is a one-line user error', () => {
  assert.equal(exportFormatOf('/w/r.JSON'), 'json');
  assert.equal(exportFormatOf('/w/r.csv'), 'csv');
  assert.equal(exportFormatOf('/w/r.htm'), 'html');
  assert.throws(
    () => exportFormatOf('/w/report.txt'),
    (err: unknown) =>
      err instanceof UserError &&
      err.message ===
        "/w/report.txt: expected an export file ending in .json, .csv or .html, found '.txt'",
  );
});

void test('webview CSP: the host source taken from VS Code 1.100 cspSource passes the shell; nonces are fresh tokens', () => {
  assert.equal(resourceCspSource("'self' https://*.vscode-cdn.net"), 'https://*.vscode-cdn.net');
  assert.equal(resourceCspSource('vscode-resource:'), 'vscode-resource:');
  const a = makeNonce();
  const b = makeNonce();
  assert.match(a, /^[A-Za-z0-9]{32}$/);
  assert.notEqual(a, b);
  const html = webviewShellHtml({
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.css',
    cspSource: resourceCspSource("'self' https://*.vscode-cdn.net"),
    nonce: a,
    title: 'MemLens',
  });
  assert.ok(html.includes(`script-src &#39;nonce-${a}&#39;`));
  assert.ok(html.includes('style-src https://*.vscode-cdn.net'));
});

void test('an analysis against a baseline states its signature as a flag instead of "no reference"', () => {
  const flags = [
    { code: 'no-reference', message: 'A lone model has no verdict', threshold: 'always' },
    { code: 'mi-high', message: 'median I 0.697 nats', threshold: 'median I >= 0.5 nats' },
  ];
  const report = { flags } as unknown as Parameters<typeof withSignatureFlag>[0];
  const out = withSignatureFlag(report, signature, { deltaEntropy: 0.1, miRatio: 1.5 });
  assert.deepEqual(
    out.flags.map((f) => f.code),
    ['baseline-signature', 'mi-high'],
  );
  assert.equal(
    out.flags[0].message,
    'heuristic memorization signature against the baseline examples/shortcut-baseline/model.json: ' +
      'median H -0.81 nats (notches apart), median I x3.13 [2.70, 3.56]',
  );
  assert.equal(
    out.flags[0].threshold,
    'H differs by at least 0.1 nats with notches apart; I ratio at least 1.5 (or at most 1/1.5) with its 95% bootstrap interval excluding 1',
  );
  assert.equal(report.flags.length, 2, 'the input report is not modified');
});

void test('a result lens tooltip names the context and offers the other results', () => {
  const rel = (p: string) => p.replace('/w/', '');
  assert.equal(
    resultTooltip(entry('/w/m.onnx', 't', signature), 3, rel),
    'heuristic memorization (shortcut learning). Result against examples/shortcut-baseline/model.json, on probe.npy (1000 samples). 2 other result(s): MemLens: Switch Result… shows another.',
  );
  assert.equal(
    resultTooltip(entry('/w/m.onnx', 't', null), 1, rel),
    'No reference: open the report. Result alone, on probe.npy (1000 samples).',
  );
});
