/**
 * The VS Code webview's views in headless Chromium (dist/webview.js in the shell, with a
 * stand-in for acquireVsCodeApi): the side view's compact summary at 300 px, an analysis
 * with its baseline's boxes and density, a lone model's command buttons, and the panel's
 * Export HTML button readable in Dark High Contrast. MEMLENS_SCREENSHOTS=<folder> saves the
 * summary and the analysis with its reference as PNGs there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { AnalysisReport, HostMessage, ReportSnapshot } from '../../src/shared/protocol';
import { isWebviewMessage } from '../../src/shared/protocol';
import { webviewShellHtml } from '../../src/shared/webviewShell';
import { withSignatureFlag } from '../../src/core/report/signatureText';
import { realisticAnalysis, realisticCompare, signature } from '../unit/chartDataFixtures';
import type { PageGlobals, VsCodeTheme } from './htmlBrowser';
import {
  DARK_HIGH_CONTRAST,
  composite,
  contrastRatio,
  launchChromium,
  palettePng,
  skipWithoutChromium,
  vscodeStub,
} from './htmlBrowser';

const SCREENSHOTS = process.env.MEMLENS_SCREENSHOTS;

/** VS Code's Dark Modern theme, as far as the summary uses it. */
const DARK: VsCodeTheme = {
  bodyClass: 'vscode-dark',
  vars: {
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-sideBar-background': '#181818',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-panel-border': '#2b2b2b',
    '--vscode-button-background': '#0078d4',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-secondaryBackground': '#313131',
    '--vscode-button-secondaryForeground': '#cccccc',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7',
  },
};

/** The shortcut model read against the generalising baseline, with the baseline's own report. */
function againstBaseline(): ReportSnapshot & { kind: 'analysis' } {
  const [base, shortcut] = realisticCompare().models;
  const asReport = (m: typeof base): AnalysisReport => ({
    ...realisticAnalysis(),
    model: { path: `/work/${m.path}`, format: 'tfjs-layers', sha256: 'ab'.repeat(32) },
    flags: [],
    layers: m.layers,
    summary: m.summary,
  });
  const report = withSignatureFlag(
    asReport(shortcut),
    { ...signature('heuristic', -0.9, 3.75), reference: `/work/${base.path}` },
    { deltaEntropy: 0.3, miRatio: 1.5 },
  );
  return { kind: 'analysis', report, reference: asReport(base) };
}

interface Opened {
  page: Page;
  posted(): Promise<Record<string, unknown>[]>;
  errors: string[];
}

/** Opens the webview shell at `width` px in `theme` (none: the light fallbacks), shows `message`. */
async function openWebview(
  browser: Browser,
  dir: string,
  width: number,
  theme: VsCodeTheme | null,
  message: HostMessage,
): Promise<Opened> {
  const shell = path.join(dir, 'view.html');
  writeFileSync(
    shell,
    webviewShellHtml({
      scriptUri: pathToFileURL(path.join(__dirname, 'webview.js')).href,
      styleUri: pathToFileURL(path.join(__dirname, 'webview.css')).href,
      cspSource: 'file:',
      nonce: randomBytes(16).toString('hex'),
      title: 'MemLens',
    }),
  );
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.addInitScript(vscodeStub);
  await page.goto(pathToFileURL(shell).href);
  const posted = () =>
    page.evaluate(
      () => (globalThis as unknown as PageGlobals).__posted as Record<string, unknown>[],
    );
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__posted.length > 0);
  if (theme !== null) {
    await page.evaluate((t) => {
      const g = globalThis as unknown as PageGlobals;
      for (const [k, v] of Object.entries(t.vars))
        g.document.documentElement.style.setProperty(k, v);
      g.document.body.className = t.bodyClass;
    }, theme);
  }
  const before = Number((await page.getAttribute('body', 'data-renders')) ?? 0);
  await page.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), message);
  await page.waitForFunction((n) => {
    const { body } = (globalThis as unknown as PageGlobals).document;
    return body.dataset.rendered === 'true' && Number(body.dataset.renders) > n;
  }, before);
  return { page, posted, errors };
}

/** The WCAG contrast of an element's text against the backgrounds under it. */
function textContrast(page: Page, selector: string): Promise<number> {
  return page
    .evaluate((sel) => {
      const g = globalThis as unknown as PageGlobals;
      const element = g.document.querySelectorAll(sel)[Symbol.iterator]().next().value;
      if (element === undefined) return null;
      const backgrounds: string[] = [];
      for (let e: typeof element | null = element; e !== null; e = e.parentElement) {
        backgrounds.push(g.getComputedStyle(e).backgroundColor);
      }
      return { color: g.getComputedStyle(element).color, backgrounds };
    }, selector)
    .then((c) => {
      assert.ok(c !== null, `${selector} is on the page`);
      return contrastRatio(composite([c.color, ...c.backgrounds]), composite(c.backgrounds));
    });
}

/** Per chart canvas: the pixels within a small distance of the muted colour #59636e. */
function mutedPixels(page: Page): Promise<Record<'entropy-chart' | 'mi-chart', number>> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as PageGlobals;
    const count = (id: string) => {
      const c = document.getElementById(id);
      const d = c?.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      if (d === undefined) return n;
      for (let i = 0; i < d.length; i += 4) {
        const near = Math.abs(d[i] - 89) + Math.abs(d[i + 1] - 99) + Math.abs(d[i + 2] - 110);
        if (d[i + 3] > 200 && near < 24) n++;
      }
      return n;
    };
    return { 'entropy-chart': count('entropy-chart'), 'mi-chart': count('mi-chart') };
  });
}

async function withBrowser(fn: (browser: Browser, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-views-'));
  const browser = await launchChromium();
  try {
    await fn(browser, dir);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function save(name: string, png: Buffer): void {
  if (SCREENSHOTS === undefined) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  writeFileSync(path.join(SCREENSHOTS, name), palettePng(png));
}

void test(
  'the side view shows the compact summary, not the charts, at 300 px without scrolling sideways',
  { skip: skipWithoutChromium },
  async () => {
    await withBrowser(async (browser, dir) => {
      const snapshot = againstBaseline();
      const { page, posted, errors } = await openWebview(browser, dir, 300, DARK, {
        type: 'report/show',
        snapshot,
        reportId: 'analysis:x',
        mode: 'summary',
      });
      assert.equal(await page.locator('canvas').count(), 0, 'no charts');
      assert.equal(await page.locator('#summary-table').count(), 0, 'no full table');
      assert.equal(await page.textContent('.ml-summary-title'), 'shortcut/model.json');
      assert.equal(
        await page.textContent('#summary-signature'),
        'heuristic memorization signature',
      );
      // One row per layer and the whole model, with the report's medians.
      const rows = await page.locator('#summary-medians tbody tr').allInnerTexts();
      assert.equal(rows.length, snapshot.report.layers.length + 1);
      const l0 = snapshot.report.layers[0];
      assert.match(
        rows[0],
        new RegExp(`${l0.name}\\s+${l0.entropy.median.toFixed(2)}\\s+${l0.mi.median.toFixed(3)}`),
      );
      assert.equal(await page.locator('#summary-spark polyline').count(), 1);
      const width = await page.evaluate(
        () => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth,
      );
      assert.ok(width <= 300, `the view is ${width} px wide`);
      for (const id of ['#summary-open', '#summary-compare-with', '#summary-export']) {
        const ratio = await textContrast(page, id);
        assert.ok(ratio >= 4.5, `${id}: contrast ${ratio.toFixed(2)}`);
      }
      save('side-summary-dark-300.png', await page.screenshot({ fullPage: true }));
      // The buttons ask the host: open the report, compare the model, export the HTML report.
      await page.click('#summary-open');
      await page.click('#summary-compare-with');
      await page.click('#summary-export');
      const [, open, compare, html] = await posted();
      assert.deepEqual(open, { type: 'report/open' });
      assert.deepEqual(compare, {
        type: 'command/run',
        command: 'memlens.compareWith',
        modelPath: snapshot.report.model.path,
      });
      assert.equal(html.format, 'html');
      assert.equal(html.fileName, 'shortcut-memlens.html');
      for (const m of [open, compare, html]) assert.equal(isWebviewMessage(m), true);
      assert.deepEqual(errors, []);
    });
  },
);

void test(
  'an analysis with its baseline draws the reference beside the model; Export HTML reads well in high contrast',
  { skip: skipWithoutChromium },
  async () => {
    await withBrowser(async (browser, dir) => {
      const show = { type: 'report/show', snapshot: againstBaseline() } satisfies HostMessage;
      const light = await openWebview(browser, dir, 800, null, show);
      const canvases = await light.page.locator('canvas').count();
      assert.equal(canvases, 2, 'the entropy and MI charts');
      // The reference is drawn in the muted colour (light fallback #59636e), which a lone
      // model's chart uses only for its tick labels.
      const lone = await openWebview(browser, dir, 800, null, {
        type: 'report/show',
        snapshot: { kind: 'analysis', report: show.snapshot.report },
      });
      const [withRef, without] = [await mutedPixels(light.page), await mutedPixels(lone.page)];
      for (const id of ['entropy-chart', 'mi-chart'] as const) {
        assert.ok(
          withRef[id] > without[id] + 500,
          `${id}: ${withRef[id]} muted pixels with the reference, ${without[id]} without`,
        );
      }
      save(
        'report-analysis-reference-light-800.png',
        await light.page.screenshot({ fullPage: true }),
      );
      assert.equal(await light.page.locator('#lone-model-note').count(), 0);
      assert.deepEqual(light.errors, []);

      const hc = await openWebview(browser, dir, 800, DARK_HIGH_CONTRAST, show);
      const button = hc.page.locator('#export-html');
      assert.equal(await button.innerText(), 'Export HTML');
      const ratio = await textContrast(hc.page, '#export-html');
      assert.ok(ratio >= 4.5, `Export HTML: contrast ${ratio.toFixed(2)}`);
      const border = await button.evaluate(
        (b) => (globalThis as unknown as PageGlobals).getComputedStyle(b as never).borderTopColor,
      );
      assert.equal(border, 'rgb(111, 195, 223)', 'outlined in the contrast border');
      await button.click();
      const html = (await hc.posted()).at(-1) ?? {};
      assert.equal(html.type, 'export/request');
      assert.equal(html.format, 'html');
      assert.equal(isWebviewMessage(html), true);
      save(
        'report-analysis-reference-high-contrast-800.png',
        await hc.page.screenshot({ fullPage: true }),
      );
      assert.deepEqual(hc.errors, []);
    });
  },
);

void test(
  'a lone model’s report offers Compare With… and Use as Baseline, naming no CLI command',
  { skip: skipWithoutChromium },
  async () => {
    await withBrowser(async (browser, dir) => {
      const report = realisticAnalysis();
      const { page, posted, errors } = await openWebview(browser, dir, 800, null, {
        type: 'report/show',
        snapshot: { kind: 'analysis', report },
      });
      const note = await page.innerText('#lone-model-note');
      assert.doesNotMatch(note, /memlens compare|--baseline/);
      await page.click('#run-compare-with');
      await page.click('#run-use-as-baseline');
      const [, compare, baseline] = await posted();
      assert.deepEqual(compare, {
        type: 'command/run',
        command: 'memlens.compareWith',
        modelPath: report.model.path,
      });
      assert.deepEqual(baseline, {
        type: 'command/run',
        command: 'memlens.useAsBaseline',
        modelPath: report.model.path,
      });
      assert.deepEqual(errors, []);
    });
  },
);
