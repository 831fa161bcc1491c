// The HTML report (renderHtmlReport) rendered offline in headless Chromium: painted charts,
// the tables, the page's own exports, no errors and no requests; readable buttons in high
// contrast, no sideways scrolling at 800 px, evidence that expands, legends that filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { layerTableCsv } from '../../src/core/report/csv';
import { renderHtmlReport } from '../../src/core/report/html';
import type { AnalysisReport, CompareReport } from '../../src/core/report/schema';
import { PALETTE, PNG_SCALE, PNG_TITLE_BAND } from '../../webview-ui/chartData';
import {
  noReferenceCompare,
  realisticAnalysis,
  realisticCompare,
  signature,
  versionOneCompare,
} from '../unit/chartDataFixtures';
import type { PageGlobals, VsCodeTheme } from './htmlBrowser';
import {
  DARK_HIGH_CONTRAST,
  composite,
  contrastRatio,
  deltaE,
  inVsCodeTheme,
  launchChromium,
  palettePng,
  parseRgb,
  skipWithoutChromium,
} from './htmlBrowser';

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
  canvases: { id: string; width: number; cssWidth: number; cssHeight: number; painted: number }[];
  text: string;
}

interface PageOptions {
  colorScheme?: 'light' | 'dark';
  /** The viewport width (CSS pixels; 1200 unless given). */
  width?: number;
  /** Shown as a VS Code webview in this theme would show it. */
  theme?: VsCodeTheme;
}

/**
 * Opens `report` as the HTML report in headless Chromium, waits for it to be drawn and runs
 * `use` on the page; console errors and warnings, page errors and requests are collected.
 */
async function withReportPage<T>(
  report: AnalysisReport | CompareReport,
  options: PageOptions,
  use: (page: Page, log: { problems: string[]; requests: string[] }) => Promise<T>,
): Promise<T> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: options.width ?? 1200, height: 900 },
      colorScheme: options.colorScheme ?? 'light',
      acceptDownloads: true,
    });
    const log = { problems: [] as string[], requests: [] as string[] };
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') log.problems.push(m.text());
    });
    page.on('pageerror', (e) => log.problems.push(e.message));
    page.on('request', (r) => log.requests.push(r.url()));
    const html = renderHtmlReport(report);
    await page.setContent(options.theme === undefined ? html : inVsCodeTheme(html, options.theme));
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 15_000 });
    return await use(page, log);
  } finally {
    await browser.close();
  }
}

/** The file a click on `button` downloads. */
async function download(page: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return { name: file.suggestedFilename(), bytes: readFileSync(await file.path()) };
}

async function pageFacts(page: Page): Promise<PageFacts> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    const canvases = [...document.querySelectorAll('canvas')].map((c) => {
      const ctx = c.getContext('2d');
      const img = ctx?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
      let painted = 0;
      for (let i = 3; i < img.length; i += 4) if (img[i] > 0) painted++;
      const box = c.getBoundingClientRect();
      return { id: c.id, width: c.width, cssWidth: box.width, cssHeight: box.height, painted };
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
}

async function renderInChromium(
  report: AnalysisReport | CompareReport,
  colorScheme: 'light' | 'dark',
): Promise<{ facts: PageFacts; problems: string[]; requests: string[]; downloads: Downloads }> {
  return withReportPage(report, { colorScheme }, async (page, log) => {
    const facts = await pageFacts(page);
    // The page's own exports: files downloaded from the page, nothing sent anywhere.
    const downloads = {
      csv: await download(page, '#export-csv'),
      json: await download(page, '#export-json'),
      png: await download(page, '#export-entropy-png'),
    };
    return { facts, ...log, downloads };
  });
}

/**
 * A PNG export checked against its chart: PNG_SCALE times the canvas's CSS size, with the
 * title band above it, and its top-left pixel (in the band) the page background.
 */
function assertChartPng(
  bytes: Buffer,
  canvas: PageFacts['canvases'][number],
  background: [number, number, number],
): void {
  const png = PNG.sync.read(bytes);
  assert.equal(png.width, Math.floor(canvas.cssWidth * PNG_SCALE));
  assert.equal(png.height, Math.floor(canvas.cssHeight * PNG_SCALE) + PNG_TITLE_BAND * PNG_SCALE);
  assert.deepEqual([...png.data.subarray(0, 4)], [...background, 255]);
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
    assertChartPng(downloads.png.bytes, facts.canvases[0], [255, 255, 255]);
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

interface ControlColours {
  name: string;
  color: string;
  /** The background of the control and of each ancestor, innermost first. */
  backgrounds: string[];
  border: string;
  borderWidth: string;
  outline: string;
}

/** The colours of the page's controls (every button and disclosure), as computed. */
function controlColours(page: Page, selector: string): Promise<ControlColours[]> {
  return page.evaluate((sel) => {
    const g = globalThis as unknown as PageGlobals;
    return [...g.document.querySelectorAll(sel)].map((element) => {
      const style = g.getComputedStyle(element);
      const backgrounds: string[] = [];
      for (let e: typeof element | null = element; e !== null; e = e.parentElement) {
        backgrounds.push(g.getComputedStyle(e).backgroundColor);
      }
      return {
        name: element.id !== '' ? `#${element.id}` : (element.textContent ?? '').slice(0, 40),
        color: style.color,
        backgrounds,
        border: style.borderTopColor,
        borderWidth: style.borderTopWidth,
        outline: `${style.outlineStyle} ${style.outlineColor}`,
      };
    });
  }, selector);
}

/** WCAG contrast of a control's text against what lies under it. */
function textContrast(c: ControlColours): number {
  return contrastRatio(composite([c.color, ...c.backgrounds]), composite(c.backgrounds));
}

/** The series colours (--ml-<key> of PALETTE) as the page resolves them. */
function paletteColours(page: Page): Promise<string[]> {
  return page.evaluate((keys) => {
    const { document, getComputedStyle } = globalThis as unknown as PageGlobals;
    return keys.map((key) => {
      const probe = document.createElement('span');
      probe.style.color = `var(--ml-${key})`;
      document.body.append(probe);
      return getComputedStyle(probe).color;
    });
  }, PALETTE);
}

/** The smallest colour difference between two of `colors`, and which two. */
function closestPair(colors: readonly string[]): { delta: number; pair: string } {
  let best = { delta: Infinity, pair: '' };
  colors.forEach((a, i) =>
    colors.slice(i + 1).forEach((b, j) => {
      const delta = deltaE(parseRgb(a), parseRgb(b));
      if (delta < best.delta) best = { delta, pair: `${PALETTE[i]}/${PALETTE[i + 1 + j]}` };
    }),
  );
  return best;
}

const CONTROLS = 'button, summary';

void test(
  'in Dark High Contrast every button is readable, outlined in the contrast border, focus and hover marked',
  { skip: skipWithoutChromium },
  async () => {
    await withReportPage(realisticCompare(), { theme: DARK_HIGH_CONTRAST }, async (page, log) => {
      assert.deepEqual(log.problems, []);
      const controls = await controlColours(page, CONTROLS);
      for (const id of ['#export-json', '#export-csv', '#export-entropy-png', '#export-mi-png']) {
        assert.ok(
          controls.some((c) => c.name === id),
          `${id} is on the page`,
        );
      }
      assert.ok(
        controls.some((c) => c.name.startsWith('heuristic')),
        'the evidence disclosures',
      );
      for (const c of controls) {
        const ratio = textContrast(c);
        assert.ok(
          ratio >= 4.5,
          `${c.name}: contrast ${ratio.toFixed(2)} (${c.color} on ${c.backgrounds[0]})`,
        );
      }
      for (const c of controls.filter((x) => x.name.startsWith('#export-'))) {
        assert.equal(c.border, 'rgb(111, 195, 223)', `${c.name} outlined in the contrast border`);
        assert.equal(c.borderWidth, '1px');
      }
      // Hover: still readable, outlined dashed in the active border.
      await page.hover('#export-json');
      const [hovered] = await controlColours(page, '#export-json');
      assert.ok(textContrast(hovered) >= 4.5);
      assert.equal(hovered.outline, 'dashed rgb(243, 133, 24)');
      // Keyboard focus: the focus border.
      await page.mouse.move(0, 0);
      await page.focus('#export-csv');
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Tab');
      const [focused] = await controlColours(page, '#export-csv');
      assert.equal(focused.outline, 'solid rgb(243, 133, 24)');
      // The twelve series colours stay apart on black.
      const far = closestPair(await paletteColours(page));
      assert.ok(far.delta >= 15, `${far.pair}: ΔE ${far.delta.toFixed(1)}`);
      // A PNG on the theme's black.
      const png = await download(page, '#export-compare-png');
      const facts = await pageFacts(page);
      const canvas = facts.canvases.find((c) => c.id === 'compare-chart');
      assert.ok(canvas !== undefined);
      assertChartPng(png.bytes, canvas, [0, 0, 0]);
    });
  },
);

void test(
  'in the plain page, light and dark, the buttons are readable and the twelve series colours distinct',
  { skip: skipWithoutChromium },
  async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await withReportPage(realisticCompare(), { colorScheme }, async (page) => {
        for (const c of await controlColours(page, CONTROLS)) {
          const ratio = textContrast(c);
          assert.ok(ratio >= 4.5, `${colorScheme} ${c.name}: contrast ${ratio.toFixed(2)}`);
        }
        const colors = await paletteColours(page);
        assert.equal(new Set(colors).size, 12, colors.join(' '));
        const far = closestPair(colors);
        assert.ok(far.delta >= 15, `${colorScheme} ${far.pair}: ΔE ${far.delta.toFixed(1)}`);
      });
    }
  },
);

/** Where to save the 800 px screenshots (MEMLENS_SCREENSHOTS=<folder>); unset: not saved. */
const SCREENSHOTS = process.env.MEMLENS_SCREENSHOTS;

void test(
  'at 800 px the page never scrolls sideways: wide tables scroll in their own box',
  { skip: skipWithoutChromium },
  async () => {
    const views: [string, AnalysisReport | CompareReport, PageOptions][] = [
      ['analysis-light', realisticAnalysis(), { colorScheme: 'light' }],
      ['compare-light', realisticCompare(), { colorScheme: 'light' }],
      ['compare-dark', realisticCompare(), { colorScheme: 'dark' }],
      ['compare-high-contrast', realisticCompare(), { theme: DARK_HIGH_CONTRAST }],
      ['no-reference-light', noReferenceCompare(), { colorScheme: 'light' }],
    ];
    for (const [name, report, options] of views) {
      await withReportPage(report, { ...options, width: 800 }, async (page, log) => {
        assert.deepEqual(log.problems, []);
        const widths = await page.evaluate(() => {
          const { document } = globalThis as unknown as PageGlobals;
          return {
            page: document.documentElement.scrollWidth,
            tables: [...document.querySelectorAll('.ml-scroll')].map((s) => s.clientWidth),
          };
        });
        assert.ok(widths.page <= 800, `${name}: the page is ${widths.page} px wide`);
        assert.ok(widths.tables.length > 0 && widths.tables.every((w) => w <= 800), name);
        if (SCREENSHOTS !== undefined) {
          mkdirSync(SCREENSHOTS, { recursive: true });
          const shot = await page.screenshot({ fullPage: true });
          writeFileSync(path.join(SCREENSHOTS, `report-${name}-800.png`), palettePng(shot));
        }
      });
    }
  },
);

void test(
  'a signature’s evidence opens on click and from the keyboard, not only in a tooltip',
  { skip: skipWithoutChromium },
  async () => {
    const report = realisticCompare();
    const [, shortcut, random] = report.models.map((m) => m.signature.explanation);
    await withReportPage(report, {}, async (page) => {
      /** The summary table as shown (closed disclosures hide their text) and which are open. */
      const shown = () =>
        page.evaluate(() => {
          const { document } = globalThis as unknown as PageGlobals;
          return {
            text: document.getElementById('summary-table')?.innerText ?? '',
            open: [...document.querySelectorAll('#summary-table details')].map((d) => d.open),
          };
        });
      const before = await shown();
      assert.deepEqual(before.open, [false, false, false]);
      assert.ok(!before.text.includes(shortcut) && !before.text.includes(random));
      await page.click('#summary-table tbody tr:nth-child(2) summary');
      const clicked = await shown();
      assert.deepEqual(clicked.open, [false, true, false]);
      assert.ok(clicked.text.includes(shortcut), clicked.text);
      await page.focus('#summary-table tbody tr:nth-child(3) summary');
      await page.keyboard.press('Enter');
      const keyed = await shown();
      assert.deepEqual(keyed.open, [false, true, true]);
      assert.ok(keyed.text.includes(random), keyed.text);
    });
  },
);

void test(
  'a click on a legend entry of the compare scatter hides its models and a second shows them',
  { skip: skipWithoutChromium },
  async () => {
    await withReportPage(realisticCompare(), {}, async (page) => {
      /** Pixels of the compare chart in the heuristic red (#e51400), in canvas pixels. */
      const red = () =>
        page.evaluate(() => {
          const { document } = globalThis as unknown as PageGlobals;
          const c = document.getElementById('compare-chart');
          const d = c?.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
          const at: { x: number; y: number }[] = [];
          if (c === null || d === undefined) return { at, scale: 1, left: 0, top: 0 };
          for (let i = 0; i < d.length; i += 4) {
            const near = Math.abs(d[i] - 229) + Math.abs(d[i + 1] - 20) + Math.abs(d[i + 2]);
            if (near <= 6 && d[i + 3] === 255)
              at.push({ x: (i / 4) % c.width, y: Math.floor(i / 4 / c.width) });
          }
          const box = c.getBoundingClientRect();
          return { at, scale: c.width / box.width, left: box.left, top: box.top };
        });
      const renders = async () => Number((await page.getAttribute('body', 'data-renders')) ?? 0);
      const before = await red();
      // The legend is at the top: its red swatch is the highest red (its centre: the mean of
      // the red within 8 px below that); the point lies further down.
      const top = before.at[0]?.y;
      assert.ok(top !== undefined, 'the heuristic legend entry is drawn');
      const ring = before.at.filter((p) => p.y <= top + 8 * before.scale);
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      const swatch = { x: mean(ring.map((p) => p.x)), y: mean(ring.map((p) => p.y)) };
      const below = (r: typeof before) => r.at.filter((p) => p.y > swatch.y + 16 * r.scale).length;
      assert.ok(below(before) > 0, 'the shortcut model is drawn in red');
      const click = () =>
        page.mouse.click(
          before.left + swatch.x / before.scale,
          before.top + swatch.y / before.scale,
        );
      // chart.js animates a dataset back in: under load its colour takes a while to settle.
      const settles = async (ok: (n: number) => boolean): Promise<boolean> => {
        for (let i = 0; i < 40; i++) {
          if (ok(below(await red()))) return true;
          await page.waitForTimeout(100);
        }
        return false;
      };
      const drawn = await renders();
      await click();
      assert.ok(await settles((n) => n === 0), 'hidden after a click on its legend entry');
      await click();
      assert.ok(await settles((n) => n > 0), 'shown again after a second click');
      assert.equal(await renders(), drawn, 'the legend filters without rebuilding the page');
    });
  },
);
