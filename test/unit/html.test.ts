// The HTML report's text: the embedded JSON and the CSP. Its rendering in Chromium is a
// pipeline test (test/pipeline/htmlChromium.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { REPORT_JSON_ID, embedJson, renderHtmlReport } from '../../src/core/report/html';
import type { AnalysisReport } from '../../src/core/report/schema';
import { tinyAnalysis } from './chartDataFixtures';

/** A report whose names try to break out of the script element. */
function hostileReport(): AnalysisReport {
  const report = tinyAnalysis();
  report.layers[1].density.density = [0.1, 0.2, 2, 0.3]; // JSON has no NaN
  report.layers[0].name = '</script><script>alert(1)</script>';
  report.layers[1].name = 'dense<!--2\u2028\u2029&amp;"\'';
  report.model.path = '/tmp/<b>bold</b>/model.json';
  return report;
}

function embedded(html: string): string {
  const open = `<script type="application/json" id="${REPORT_JSON_ID}">`;
  const start = html.indexOf(open);
  assert.ok(start >= 0, 'the report JSON element is present');
  const end = html.indexOf('</script>', start);
  return html.slice(start + open.length, end);
}

void test('the report JSON is embedded recoverably and cannot close its element', () => {
  const report = hostileReport();
  const html = renderHtmlReport(report);
  const text = embedded(html);
  assert.deepEqual(JSON.parse(text), report);
  assert.ok(!text.includes('<'), 'no < left in the embedded JSON');
  assert.ok(!/[\u2028\u2029]/.test(text));
  // Exactly two script elements end: the JSON one and the page script.
  assert.equal(html.match(/<\/script/gi)?.length, 2);
  // Names are never written into the markup: the title is static, set by the script.
  assert.ok(!html.includes('<b>bold</b>'));
  assert.ok(html.includes('<title>MemLens report</title>'));
});

void test('embedJson escapes < and the line separators and parses back', () => {
  const value = { a: '</script>', b: '\u2028', c: [1.5, -2] };
  assert.equal(embedJson(value), '{"a":"\\u003c/script>","b":"\\u2028","c":[1.5,-2]}');
  assert.deepEqual(JSON.parse(embedJson(value)), value);
});

void test('the HTML loads nothing from outside: no remote src/href, a CSP allowing only its inline blocks', () => {
  const html = renderHtmlReport(tinyAnalysis());
  assert.ok(!/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i.test(html), 'no remote src= or href=');
  assert.ok(!/<link\b/i.test(html) && !/<script[^>]*\bsrc=/i.test(html), 'no linked resources');
  assert.ok(!/@import|url\(\s*["']?(https?:)?\/\//i.test(html), 'no remote CSS');
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
  assert.ok(csp !== undefined);
  assert.match(csp, /^default-src 'none'; /);
  assert.ok(!csp.includes('unsafe-inline') && !csp.includes('http'));
  // The hashes are those of the exact inline script and style texts.
  const script = /<script>([\s\S]*)<\/script>\s*<\/body>/.exec(html)?.[1] ?? '';
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
  assert.ok(script.length > 10_000 && style.length > 500);
  const hash = (t: string) => createHash('sha256').update(t, 'utf8').digest('base64');
  assert.ok(csp.includes(`script-src 'sha256-${hash(script)}'`));
  assert.ok(csp.includes(`style-src 'sha256-${hash(style)}'`));
});
