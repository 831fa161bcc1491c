/**
 * The panel's webview (dist/webview.js in the shell from webviewShellHtml) in headless
 * Chromium, with a stand-in for VS Code's acquireVsCodeApi: the protocol round trip, the
 * strict CSP, theme following, exports and persisted UI state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import type { HostMessage } from '../../src/shared/protocol';
import { isWebviewMessage } from '../../src/shared/protocol';
import { webviewShellHtml } from '../../src/shared/webviewShell';
import { layerCsv } from '../../webview-ui/chartData';
import { realisticCompare } from '../unit/chartDataFixtures';
import type { PageGlobals } from './htmlBrowser';
import { launchChromium, skipWithoutChromium, vscodeStub } from './htmlBrowser';

void test(
  'the webview panel: ready, renders a snapshot under the strict CSP, follows the theme, exports, persists UI state',
  { skip: skipWithoutChromium },
  async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'memlens-webview-'));
    const browser = await launchChromium();
    try {
      const shell = path.join(dir, 'panel.html');
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
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.addInitScript(vscodeStub);
      await page.goto(pathToFileURL(shell).href);
      const posted = () => page.evaluate(() => (globalThis as unknown as PageGlobals).__posted);
      /** The renders the page has finished (data-renders, set by webview-ui/view.ts). */
      const renders = async () => Number((await page.getAttribute('body', 'data-renders')) ?? 0);
      /** Waits for a finished render after the first `count`. */
      const renderAfter = (count: number) =>
        page.waitForFunction((n) => {
          const { body } = (globalThis as unknown as PageGlobals).document;
          return body.dataset.rendered === 'true' && Number(body.dataset.renders) > n;
        }, count);
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__posted.length > 0);
      assert.deepEqual(await posted(), [{ type: 'webview/ready' }]);

      const report = realisticCompare();
      const show: HostMessage = {
        type: 'report/show',
        snapshot: { kind: 'compare', report },
        reportId: 'cmp',
      };
      await page.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), show);
      await page.waitForSelector('body[data-rendered="true"]');
      assert.ok((await page.textContent('#summary-table'))?.includes('heuristic memorization'));

      /** Pixels of a canvas that are painted, and that are exactly #00ff00. */
      const pixels = (id: string) =>
        page.evaluate((canvasId) => {
          const c = (globalThis as unknown as PageGlobals).document.getElementById(canvasId);
          if (c === null) return { painted: 0, green: 0 };
          const d =
            c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ??
            new Uint8ClampedArray();
          let painted = 0;
          let green = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 0) painted++;
            if (d[i] === 0 && d[i + 1] === 255 && d[i + 2] === 0 && d[i + 3] === 255) green++;
          }
          return { painted, green };
        }, id);
      for (const id of ['entropy-chart', 'mi-chart', 'compare-chart', 'trajectory-chart']) {
        assert.ok((await pixels(id)).painted > 5000, `${id} is painted`);
      }
      assert.equal((await pixels('entropy-chart')).green, 0);

      // A theme change (VS Code sets the variables on <html> and the class on <body>) redraws.
      const beforeTheme = await renders();
      await page.evaluate(() => {
        const g = globalThis as unknown as PageGlobals;
        g.document.documentElement.style.setProperty('--vscode-charts-orange', '#00ff00');
        g.document.body.className = 'vscode-dark';
      });
      await renderAfter(beforeTheme);
      assert.ok(
        (await pixels('entropy-chart')).green > 50,
        // The first model is the baseline, drawn in the muted colour as the reference.
        'the second model is drawn in the new orange',
      );

      // Exports: a PNG of the chart and the per-layer CSV, as messages the host accepts.
      await page.click('#export-entropy-png');
      await page.click('#export-csv');
      const [, png, csv] = (await posted()) as Record<string, string>[];
      assert.equal(isWebviewMessage(png), true);
      assert.equal(png.fileName, 'generalising-compare-memlens-entropy.png');
      const image = PNG.sync.read(Buffer.from(png.dataUrl.split(',')[1], 'base64'));
      const canvasWidth = await page.evaluate(
        () =>
          (globalThis as unknown as PageGlobals).document.getElementById('entropy-chart')?.width,
      );
      assert.equal(image.width, canvasWidth);
      assert.equal(isWebviewMessage(csv), true);
      assert.equal(csv.content, layerCsv(show.snapshot));

      // A model name opens its file; picking a layer is persisted as UI state.
      await page.click('#summary-table tbody tr:nth-child(2) button');
      assert.deepEqual((await posted()).at(-1), {
        type: 'report/openSource',
        path: report.models[1].path,
      });
      const beforeSelect = await renders();
      await page.selectOption('#layer-select', 'dense_2');
      await renderAfter(beforeSelect);
      assert.deepEqual(await page.evaluate(() => (globalThis as unknown as PageGlobals).__state), {
        selectedLayer: 'dense_2',
        showNeurons: true,
        reportId: 'cmp',
      });
      assert.equal(await page.inputValue('#layer-select'), 'dense_2');
      // From the keyboard: the rebuilt select keeps the focus.
      await page.focus('#layer-select');
      const beforeKey = await renders();
      await page.keyboard.press('ArrowDown');
      await renderAfter(beforeKey);
      assert.equal(await page.inputValue('#layer-select'), 'dense_3');
      assert.equal(
        await page.evaluate(
          () =>
            (globalThis as unknown as { document: { activeElement: { id: string } | null } })
              .document.activeElement?.id,
        ),
        'layer-select',
      );

      // Progress shows without disturbing the charts.
      await page.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), {
        type: 'busy/update',
        busy: { label: 'MI pairs 1008/2016', fraction: 0.5 },
      } satisfies HostMessage);
      await page.waitForSelector('.ml-busy:not([hidden])');
      assert.equal((await page.textContent('.ml-busy'))?.trim(), 'MI pairs 1008/2016 50%');

      // A malformed message is ignored. Messages arrive in order: once the well-formed one
      // posted after it shows, the malformed one has been handled, and it drew nothing.
      const beforeMalformed = await renders();
      await page.evaluate(() => {
        const g = globalThis as unknown as PageGlobals;
        g.postMessage({ type: 'report/show', snapshot: { kind: 'x' } }, '*');
        g.postMessage({ type: 'busy/update', busy: { label: 'after it', fraction: null } }, '*');
      });
      await page.locator('.ml-busy', { hasText: 'after it' }).waitFor();
      assert.equal(await renders(), beforeMalformed, 'the malformed message drew nothing');
      assert.ok((await page.textContent('#summary-table'))?.includes('heuristic memorization'));

      assert.deepEqual(
        await page.evaluate(() => (globalThis as unknown as PageGlobals).__violations),
        [],
      );
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
