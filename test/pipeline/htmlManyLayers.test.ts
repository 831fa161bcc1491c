// The HTML report of a network with 40 layers (graph-model names) in headless Chromium: MI
// small multiples instead of a 40-entry legend, a layer filter that narrows every view,
// short names with the full ones on hover, and the warnings in one collapsed table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { renderHtmlReport } from '../../src/core/report/html';
import type { AnalysisReport } from '../../src/core/report/schema';
import { manyLayerAnalysis } from '../unit/chartDataFixtures';
import type { PageGlobals, VsCodeTheme } from './htmlBrowser';
import {
  DARK_HIGH_CONTRAST,
  inVsCodeTheme,
  launchChromium,
  palettePng,
  skipWithoutChromium,
} from './htmlBrowser';

/** Where to save the 800 px screenshots (MEMLENS_SCREENSHOTS=<folder>); unset: not saved. */
const SCREENSHOTS = process.env.MEMLENS_SCREENSHOTS;

interface Options {
  colorScheme?: 'light' | 'dark';
  theme?: VsCodeTheme;
  width?: number;
}

async function withPage<T>(
  report: AnalysisReport,
  options: Options,
  use: (page: Page, problems: string[]) => Promise<T>,
): Promise<T> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: options.width ?? 1200, height: 900 },
      colorScheme: options.colorScheme ?? 'light',
    });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    const html = renderHtmlReport(report);
    await page.setContent(options.theme === undefined ? html : inVsCodeTheme(html, options.theme));
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 15_000 });
    return await use(page, problems);
  } finally {
    await browser.close();
  }
}

interface Facts {
  panels: string[];
  panelTitles: string[];
  panelHeights: number[];
  canvases: string[];
  miCardHeight: number;
  tableLayers: string[];
  tableTitles: string[];
  warningsOpen: boolean | undefined;
  warningSummary: string;
  warningRows: number;
  filterCount: string;
  notes: string;
  pageWidth: number;
}

async function facts(page: Page): Promise<Facts> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    const all = (sel: string) => [...document.querySelectorAll(sel)];
    const rows = all('#summary-table tbody tr td:first-child');
    return {
      panels: all('#mi-panels .ml-panel-name').map((e) => e.textContent ?? ''),
      panelTitles: all('#mi-panels .ml-panel-name').map(
        (e) => (e as unknown as { title: string }).title,
      ),
      panelHeights: all('#mi-panels canvas').map((e) => e.getBoundingClientRect().height),
      canvases: [...document.querySelectorAll('canvas')].map((c) => c.id),
      miCardHeight: document.getElementById('mi-card')?.getBoundingClientRect().height ?? 0,
      tableLayers: rows.map((e) => e.textContent ?? ''),
      tableTitles: rows.map((e) => (e as unknown as { title: string }).title),
      warningsOpen: document.getElementById('warnings')?.open,
      warningSummary:
        document.getElementById('warnings')?.querySelector('summary')?.textContent ?? '',
      warningRows: all('#warning-table tbody tr').length,
      filterCount: document.getElementById('layer-filter-count')?.textContent ?? '',
      notes: all('.ml-notes')
        .map((e) => e.textContent ?? '')
        .join(' '),
      pageWidth: document.documentElement.scrollWidth,
    };
  });
}

/** Types into the layer filter and waits for the page's next render. */
async function filterLayers(page: Page, text: string): Promise<void> {
  const before = await page.evaluate(
    () => (globalThis as unknown as PageGlobals).document.body.dataset.renders,
  );
  await page.fill('#layer-filter', text);
  await page.waitForFunction(
    (b) => {
      const body = (globalThis as unknown as PageGlobals).document.body;
      return body.dataset.rendered === 'true' && body.dataset.renders !== b;
    },
    before,
    { timeout: 15_000 },
  );
}

void test(
  '40 layers: MI small multiples (no 40-entry legend), short names with full ones on hover, warnings collapsed',
  { skip: skipWithoutChromium },
  async () => {
    const report = manyLayerAnalysis(40);
    await withPage(report, {}, async (page, problems) => {
      const f = await facts(page);
      assert.deepEqual(problems, []);
      // One entropy chart, and one small chart per layer plus one of all pairs: no mi-chart
      // with a legend of 40 entries.
      assert.equal(f.canvases.filter((c) => c === 'mi-chart').length, 0);
      assert.equal(f.panels.length, 41);
      assert.equal(f.panels[0], 'all layers (all pairs)');
      assert.equal(f.panels[2], 'block_1_expand/Conv2D');
      assert.equal(f.panelTitles[2], report.layers[1].name);
      for (const h of f.panelHeights) assert.ok(h > 80 && h < 140, `panel height ${h}`);
      // The entropy box chart keeps its one-row height (one model: no legend to grow).
      const entropyHeight = await page.evaluate(
        () =>
          (globalThis as unknown as PageGlobals).document
            .getElementById('entropy-chart')
            ?.getBoundingClientRect().height ?? 0,
      );
      assert.ok(entropyHeight <= 340, `entropy chart ${entropyHeight} px`);
      // The table: short names, the full one in each cell's title.
      assert.equal(f.tableLayers.length, 41);
      assert.equal(f.tableLayers[0], 'Conv1/Conv2D');
      assert.equal(f.tableTitles[0], report.layers[0].name);
      assert.equal(f.tableLayers[40], 'all layers');
      // 23 warnings of three kinds in one closed table; no "Conv1: Conv1:" anywhere.
      assert.equal(f.warningsOpen, false);
      assert.match(f.warningSummary, /Warnings \(23 of 3 kinds\)/);
      assert.equal(f.warningRows, 3);
      const text = await page.evaluate(
        () => (globalThis as unknown as PageGlobals).document.body.innerText,
      );
      assert.doesNotMatch(text, /Conv2D: .*Conv2D: /);
      assert.doesNotMatch(f.notes, /Warning:/);
      assert.equal(f.filterCount, '40 of 40 layers');
    });
  },
);

void test(
  'the layer filter narrows the small multiples, the entropy boxes, the table and the warnings',
  { skip: skipWithoutChromium },
  async () => {
    const report = manyLayerAnalysis(40);
    await withPage(report, {}, async (page, problems) => {
      await filterLayers(page, 'block_2_');
      const f = await facts(page);
      assert.deepEqual(problems, []);
      assert.deepEqual(f.panels, [
        'all layers (all pairs)',
        'block_2_expand/Conv2D',
        'block_2_project/Conv2D',
      ]);
      assert.deepEqual(f.tableLayers, [
        'block_2_expand/Conv2D',
        'block_2_project/Conv2D',
        'all layers',
      ]);
      assert.equal(f.filterCount, '2 of 40 layers');
      // block_2_expand is layer 3 (heavy ties); the probe warning is model-wide: 2 rows, open.
      assert.equal(f.warningRows, 2);
      assert.equal(f.warningsOpen, true);
      // Focus and caret stay in the filter box while typing.
      const focus = await page.evaluate(
        () => (globalThis as unknown as PageGlobals).document.activeElement?.id,
      );
      assert.equal(focus, 'layer-filter');
      await filterLayers(page, '');
      assert.equal((await facts(page)).panels.length, 41);
    });
  },
);

void test(
  'at 800 px, light, dark and high contrast: no sideways scroll; screenshots',
  { skip: skipWithoutChromium },
  async () => {
    const views: [string, Options][] = [
      ['light', { colorScheme: 'light' }],
      ['dark', { colorScheme: 'dark' }],
      ['high-contrast', { theme: DARK_HIGH_CONTRAST }],
    ];
    for (const [name, options] of views) {
      await withPage(manyLayerAnalysis(40), { ...options, width: 800 }, async (page, problems) => {
        assert.deepEqual(problems, []);
        const f = await facts(page);
        assert.ok(f.pageWidth <= 800, `${name}: page ${f.pageWidth} px wide`);
        // Panels of about 180 px: three or four a row at 800 px.
        assert.equal(f.panels.length, 41);
        if (SCREENSHOTS !== undefined) {
          mkdirSync(SCREENSHOTS, { recursive: true });
          const shot = await page.screenshot({ fullPage: true });
          writeFileSync(
            path.join(SCREENSHOTS, `report-many-layers-${name}-800.png`),
            palettePng(shot),
          );
        }
      });
    }
  },
);
