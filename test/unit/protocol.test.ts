import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostMessage, WebviewMessage } from '../../src/shared/protocol';
import { assertNever, isHostMessage, isWebviewMessage } from '../../src/shared/protocol';
import { escapeHtml, webviewCsp, webviewShellHtml } from '../../src/shared/webviewShell';
import { tinyAnalysis, tinyCompare } from './chartDataFixtures';

/** Messages cross the boundary as JSON-like structured clones. */
const clone = <T>(value: T): unknown => JSON.parse(JSON.stringify(value));

const PNG =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==';

void test('every well-formed host message passes the guard after a round trip', () => {
  const messages: HostMessage[] = [
    { type: 'report/show', snapshot: { kind: 'analysis', report: tinyAnalysis() } },
    {
      type: 'report/show',
      snapshot: { kind: 'compare', report: tinyCompare() },
      reportId: 'cmp-1',
    },
    { type: 'report/clear', message: 'No analysis yet' },
    { type: 'busy/update', busy: { label: 'MI pairs 1200/2016', fraction: 0.595 } },
    { type: 'busy/update', busy: { label: 'loading', fraction: null } },
    { type: 'busy/update', busy: null },
  ];
  for (const m of messages) assert.equal(isHostMessage(clone(m)), true, m.type);
});

void test('the host guard rejects malformed messages', () => {
  const analysis = tinyAnalysis();
  const bad: unknown[] = [
    null,
    'report/show',
    [],
    {},
    { type: 'report/unknown' },
    { type: 'report/show' },
    // The kind must match the report's schema.
    { type: 'report/show', snapshot: { kind: 'compare', report: analysis } },
    { type: 'report/show', snapshot: { kind: 'analysis', report: { ...analysis, layers: 'x' } } },
    { type: 'report/show', snapshot: { kind: 'analysis', report: analysis }, reportId: 7 },
    { type: 'report/clear' },
    { type: 'busy/update', busy: { label: 'x', fraction: 1.5 } },
    { type: 'busy/update', busy: { fraction: 0.5 } },
    { type: 'busy/update' },
    // A webview message is not a host message.
    { type: 'webview/ready' },
  ];
  for (const m of bad) assert.equal(isHostMessage(m), false, JSON.stringify(m)?.slice(0, 80));
});

void test('every well-formed webview message passes the guard after a round trip', () => {
  const messages: WebviewMessage[] = [
    { type: 'webview/ready' },
    {
      type: 'export/request',
      format: 'png',
      chart: 'entropy',
      dataUrl: PNG,
      fileName: 'model-entropy.png',
    },
    {
      type: 'export/request',
      format: 'csv',
      content: 'a,b\r\n1,2\r\n',
      fileName: 'model-layers.csv',
    },
    { type: 'export/request', format: 'json', content: '{}', fileName: 'model memlens.json' },
    { type: 'report/openSource', path: '/work/models/model.json' },
  ];
  for (const m of messages) assert.equal(isWebviewMessage(clone(m)), true, m.type);
});

void test('the webview guard rejects malformed or unsafe requests', () => {
  const png = {
    type: 'export/request',
    format: 'png',
    chart: 'mi',
    dataUrl: PNG,
    fileName: 'a.png',
  };
  const bad: unknown[] = [
    undefined,
    { type: 'report/show' },
    { ...png, dataUrl: 'javascript:alert(1)' },
    { ...png, dataUrl: 'data:image/svg+xml;base64,PHN2Zz4=' },
    { ...png, chart: 'pie' },
    { ...png, fileName: '../../.bashrc' },
    { ...png, fileName: 'sub/dir.png' },
    { ...png, fileName: 'C:\\x.png' },
    { ...png, fileName: '.hidden' },
    { ...png, fileName: '' },
    { type: 'export/request', format: 'csv', fileName: 'a.csv' },
    { type: 'export/request', format: 'xlsx', content: '', fileName: 'a.xlsx' },
    { type: 'report/openSource', path: '' },
    { type: 'report/openSource' },
  ];
  for (const m of bad) assert.equal(isWebviewMessage(m), false, JSON.stringify(m));
});

void test('assertNever reports what was not handled', () => {
  assert.throws(
    () => assertNever({ type: 'x/y' } as never),
    /unhandled message: \{"type":"x\/y"\}/,
  );
});

void test('the webview shell has a strict CSP: nothing but its nonce script and its stylesheet', () => {
  const nonce = 'a1B2c3D4e5F6g7H8i9J0';
  const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';
  const html = webviewShellHtml({
    scriptUri: `${cspSource}/ext/dist/webview.js`,
    styleUri: `${cspSource}/ext/dist/webview.css`,
    cspSource,
    nonce,
    title: 'MemLens: <model>.json',
  });
  assert.equal(
    webviewCsp(cspSource, nonce),
    `default-src 'none'; img-src ${cspSource} data:; style-src ${cspSource}; font-src ${cspSource}; script-src 'nonce-${nonce}'`,
  );
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  assert.equal(meta?.[1], webviewCsp(cspSource, nonce).replace(/'/g, '&#39;'));
  assert.ok(!html.includes('unsafe-inline') && !html.includes('unsafe-eval'));
  // One script, external, carrying the nonce; no inline code at all.
  const scripts = html.match(/<script\b[^>]*>/g) ?? [];
  assert.deepEqual(scripts, [`<script nonce="${nonce}" src="${cspSource}/ext/dist/webview.js">`]);
  assert.ok(
    html.includes(`<script nonce="${nonce}" src="${cspSource}/ext/dist/webview.js"></script>`),
  );
  assert.ok(html.includes(`<link rel="stylesheet" href="${cspSource}/ext/dist/webview.css">`));
  assert.ok(html.includes('<title>MemLens: &lt;model&gt;.json</title>'));
  assert.ok(html.includes('<main id="app"'));
});

void test('the shell escapes its URIs and refuses a weak nonce or a CSP source that could extend the policy', () => {
  const base = {
    scriptUri: 'w.js',
    styleUri: 'w.css',
    cspSource: 'vscode-webview:',
    nonce: 'x'.repeat(32),
    title: 't',
  };
  const html = webviewShellHtml({ ...base, scriptUri: 'w.js"><script>alert(1)</script>' });
  assert.ok(html.includes('src="w.js&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'));
  assert.equal((html.match(/<script\b/g) ?? []).length, 1);
  assert.throws(() => webviewShellHtml({ ...base, nonce: 'short' }), /nonce/);
  assert.throws(() => webviewShellHtml({ ...base, nonce: 'abc"def0123456789' }), /nonce/);
  assert.throws(
    () => webviewShellHtml({ ...base, cspSource: "x; script-src 'unsafe-inline'" }),
    /CSP source/,
  );
  assert.equal(
    escapeHtml(`<a href="x">'&'</a>`),
    '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
  );
});

void test('the reference, the side view’s mode, HTML exports and commands pass the guards', () => {
  const baseline = { ...tinyAnalysis(), model: { ...tinyAnalysis().model, path: '/w/base.json' } };
  const host: HostMessage[] = [
    {
      type: 'report/show',
      snapshot: { kind: 'analysis', report: tinyAnalysis(), reference: baseline },
      mode: 'summary',
    },
    { type: 'report/show', snapshot: { kind: 'compare', report: tinyCompare() }, mode: 'full' },
  ];
  for (const m of host) assert.equal(isHostMessage(clone(m)), true, JSON.stringify(m).slice(0, 80));
  const webview: WebviewMessage[] = [
    { type: 'command/run', command: 'memlens.compareWith', modelPath: '/w/model.json' },
    { type: 'command/run', command: 'memlens.useAsBaseline', modelPath: '/w/model.json' },
    { type: 'command/run', command: 'memlens.chooseReference' },
    { type: 'report/open' },
    { type: 'export/request', format: 'html', report: tinyAnalysis(), fileName: 'm-memlens.html' },
    { type: 'export/request', format: 'html', report: tinyCompare(), fileName: 'c.html' },
  ];
  for (const m of webview) assert.equal(isWebviewMessage(clone(m)), true, JSON.stringify(m));
});

void test('command/run runs only the whitelisted MemLens commands', () => {
  const bad: unknown[] = [
    // Not on the list: another MemLens command, VS Code's own, a terminal, an empty id.
    { type: 'command/run', command: 'memlens.clearResults' },
    { type: 'command/run', command: 'memlens.analyze', modelPath: '/w/model.json' },
    { type: 'command/run', command: 'workbench.action.terminal.new' },
    { type: 'command/run', command: 'vscode.open', modelPath: '/etc/passwd' },
    { type: 'command/run', command: '' },
    { type: 'command/run' },
    { type: 'command/run', command: ['memlens.compareWith'] },
    // The argument is a model path or nothing.
    { type: 'command/run', command: 'memlens.compareWith', modelPath: '' },
    { type: 'command/run', command: 'memlens.compareWith', modelPath: 7 },
    { type: 'command/run', command: 'memlens.compareWith', modelPath: { fsPath: '/w' } },
  ];
  for (const m of bad) assert.equal(isWebviewMessage(m), false, JSON.stringify(m));
});

void test('the guards refuse a malformed reference, mode or HTML export', () => {
  const analysis = tinyAnalysis();
  const badHost: unknown[] = [
    { type: 'report/show', snapshot: { kind: 'analysis', report: analysis, reference: {} } },
    {
      type: 'report/show',
      snapshot: { kind: 'analysis', report: analysis, reference: tinyCompare() },
    },
    { type: 'report/show', snapshot: { kind: 'analysis', report: analysis }, mode: 'tiny' },
  ];
  for (const m of badHost) assert.equal(isHostMessage(m), false, JSON.stringify(m).slice(0, 80));
  const badWebview: unknown[] = [
    { type: 'export/request', format: 'html', fileName: 'a.html' },
    { type: 'export/request', format: 'html', content: '<html>', fileName: 'a.html' },
    { type: 'export/request', format: 'html', report: { schema: 'x' }, fileName: 'a.html' },
    { type: 'export/request', format: 'html', report: analysis, fileName: '../a.html' },
  ];
  for (const m of badWebview)
    assert.equal(isWebviewMessage(m), false, JSON.stringify(m).slice(0, 80));
});
