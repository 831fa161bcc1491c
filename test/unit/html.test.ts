import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { layerTableCsv } from '../../src/core/report/csv';
import { REPORT_JSON_ID, embedJson, renderHtmlReport } from '../../src/core/report/html';
import type { AnalysisReport, CompareReport } from '../../src/core/report/schema';
import { realisticAnalysis, realisticCompare, signature, tinyAnalysis } from './chartDataFixtures';
import type { PageGlobals } from './htmlBrowser';
import { launchChromium, skipWithoutChromium } from './htmlBrowser';

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

interface Downloads {
  csv: { name: string; bytes: Buffer };
  json: { name: string; bytes: Buffer };
  png: { name: string; bytes: Buffer };
}

interface PageFacts {
  rendered: string | undefined;
  title: string;
  summary: string;
  canvases: { id: string; width: number; painted: number }[];
  text: string;
}

async function renderInChromium(
  report: AnalysisReport | CompareReport,
  colorScheme: 'light' | 'dark',
): Promise<{ facts: PageFacts; problems: string[]; requests: string[]; downloads: Downloads }> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: 1200, height: 900 },
      colorScheme,
      acceptDownloads: true,
    });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(renderHtmlReport(report));
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 15_000 });
    const facts = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      const canvases = [...document.querySelectorAll('canvas')].map((c) => {
        const ctx = c.getContext('2d');
        const img = ctx?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
        let painted = 0;
        for (let i = 3; i < img.length; i += 4) if (img[i] > 0) painted++;
        return { id: c.id, width: c.width, painted };
      });
      return {
        rendered: document.body.dataset.rendered,
        title: document.title,
        summary: document.getElementById('summary-table')?.textContent ?? '',
        canvases,
        text: document.body.innerText,
      };
    });
    // The page's own exports: files downloaded from the page, nothing sent anywhere.
    const download = async (button: string) => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
      return { name: file.suggestedFilename(), bytes: readFileSync(await file.path()) };
    };
    const downloads = {
      csv: await download('#export-csv'),
      json: await download('#export-json'),
      png: await download('#export-entropy-png'),
    };
    return { facts, problems, requests, downloads };
  } finally {
    await browser.close();
  }
}

void test(
  'an analysis report renders offline in Chromium: painted charts, the layer table, no errors',
  { skip: skipWithoutChromium },
  async () => {
    const report = realisticAnalysis();
    const { facts, problems, requests, downloads } = await renderInChromium(report, 'light');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:')),
      [],
    );
    assert.equal(facts.title, 'MemLens: shortcut/model.json');
    assert.deepEqual(
      facts.canvases.map((c) => c.id),
      ['entropy-chart', 'mi-chart'],
    );
    for (const c of facts.canvases) {
      assert.ok(c.width > 300, `${c.id} has a size`);
      assert.ok(c.painted > 5000, `${c.id} is painted (${c.painted} pixels)`);
    }
    for (const name of ['dense_1', 'dense_2', 'dense_3', 'all layers']) {
      assert.ok(facts.summary.includes(name), name);
    }
    // The median H of dense_1, to two decimals, as the table shows it.
    assert.ok(facts.summary.includes(report.layers[0].entropy.median.toFixed(2)));
    assert.ok(facts.text.includes('a verdict needs a reference'));
    // Exports download the same CSV as the CLI, the report itself, and a PNG of the chart.
    assert.equal(downloads.csv.name, 'shortcut-memlens-layers.csv');
    assert.equal(downloads.csv.bytes.toString('utf8'), layerTableCsv(report));
    assert.deepEqual(JSON.parse(downloads.json.bytes.toString('utf8')), report);
    assert.equal(downloads.png.name, 'shortcut-memlens-entropy.png');
    const png = PNG.sync.read(downloads.png.bytes);
    assert.equal(png.width, facts.canvases[0].width);
  },
);

void test(
  'a compare report renders in Chromium (dark scheme) with the signatures and all four charts',
  { skip: skipWithoutChromium },
  async () => {
    const { facts, problems } = await renderInChromium(realisticCompare(), 'dark');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      facts.canvases.map((c) => c.id),
      ['entropy-chart', 'mi-chart', 'compare-chart', 'trajectory-chart'],
    );
    for (const c of facts.canvases) assert.ok(c.painted > 5000, `${c.id} is painted`);
    assert.ok(facts.summary.includes('heuristic memorization'));
    assert.ok(facts.summary.includes('example-level memorization'));
    assert.ok(facts.summary.includes('baseline (reference)'));
    assert.ok(facts.text.includes('Model ranking'));
  },
);

void test(
  'a lone model read against a baseline names its signature in the summary table',
  { skip: skipWithoutChromium },
  async () => {
    const report = realisticAnalysis();
    const message =
      'heuristic memorization signature against the baseline examples/shortcut-baseline: median H -0.61 nats (notches apart), median I x10.24 [10.06, 10.39]';
    report.flags = [
      { code: 'baseline-signature', message, threshold: 'H differs by at least 0.1 nats' },
    ];
    report.signature = signature('heuristic', -0.61, 10.24);
    const { facts, problems } = await renderInChromium(report, 'light');
    assert.deepEqual(problems, []);
    assert.ok(facts.summary.includes(`Signature: ${message}`));
    assert.ok(!facts.text.includes('a verdict needs a reference'));
  },
);
