// The HTML report (renderHtmlReport) rendered offline in headless Chromium: painted charts,
// the tables, the page's own exports, no errors and no requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { layerTableCsv } from '../../src/core/report/csv';
import { renderHtmlReport } from '../../src/core/report/html';
import type { AnalysisReport, CompareReport } from '../../src/core/report/schema';
import {
  noReferenceCompare,
  realisticAnalysis,
  realisticCompare,
  signature,
  versionOneCompare,
} from '../unit/chartDataFixtures';
import type { PageGlobals } from './htmlBrowser';
import { launchChromium, skipWithoutChromium } from './htmlBrowser';

interface Downloads {
  csv: { name: string; bytes: Buffer };
  json: { name: string; bytes: Buffer };
  png: { name: string; bytes: Buffer };
}

interface PageFacts {
  rendered: string | undefined;
  title: string;
  summary: string;
  ranking: string;
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
        ranking: document.getElementById('ranking-table')?.textContent ?? '',
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
    // The global bin range in the header, each layer's range in the table.
    const range = report.summary.range;
    assert.ok(range !== undefined);
    assert.ok(
      facts.text.includes(`bins (global, over [${range.min.toFixed(2).replace('-', '−')},`),
    );
    assert.ok(facts.summary.includes('Value range'));
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
    assert.ok(facts.summary.includes('reference'));
    assert.ok(facts.summary.includes('Value range'));
    assert.ok(
      facts.text.includes('Reference: the baseline generalising/model.json.'),
      'the header names the reference',
    );
    // Target shortcut: the ranking, the flagged model and why, the rule.
    assert.ok(facts.text.includes('Model ranking (target: shortcut learning)'));
    assert.ok(facts.ranking.includes('flagged'));
    assert.ok(facts.ranking.includes('a possible label-noise memoriser'));
    assert.ok(facts.text.includes('Ranking rule: '));
    // The onsets, in the trajectory's caption.
    assert.ok(facts.text.includes('heuristic from step 1000'));
  },
);

void test(
  'a compare report without a reference or target, and a version 1 report, render in Chromium',
  { skip: skipWithoutChromium },
  async () => {
    const none = await renderInChromium(noReferenceCompare(), 'light');
    assert.deepEqual(none.problems, []);
    assert.ok(
      none.facts.text.includes(
        'No reference: the charts show the models’ H and I; signatures need a baseline, a reference checkpoint or the cohort median.',
      ),
    );
    assert.ok(!none.facts.summary.includes('memorization'), 'no signatures');
    assert.ok(none.facts.text.includes('By median H (highest first)'));
    assert.ok(none.facts.text.includes('By median I (highest first)'));
    assert.ok(none.facts.text.includes('Without a target there is no single best'));
    assert.ok(!none.facts.text.includes('Model ranking'));
    for (const c of none.facts.canvases) assert.ok(c.painted > 5000, `${c.id} is painted`);

    const old = await renderInChromium(versionOneCompare(), 'dark');
    assert.deepEqual(old.problems, []);
    assert.ok(old.facts.text.includes('Reference: the baseline base/model.json.'));
    assert.ok(old.facts.text.includes('Model ranking'));
    assert.ok(old.facts.summary.includes('heuristic memorization'));
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
