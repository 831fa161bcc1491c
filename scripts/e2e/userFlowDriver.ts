// The browser test: MemLens as a user meets it, in code-server with the .vsix installed.
// Opens the workspace, right-clicks the shortcut example model in the explorer, chooses
// "MemLens: Analyze Memorization", waits for the progress to end, checks the report panel's
// webview (charts painted, the summary table naming the heuristic signature), then opens the
// training script and checks the code lens and the warning squiggle. Every wait is on a
// condition (a locator or an event) with a time limit; screenshots go to --artifacts.
// Prints one line per step and ends with `N passed, N failed` (also written to --results);
// a step whose prerequisite failed cannot run and counts as failed.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { openSession, workspaceUrl } from './browser';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    workspace: { type: 'string' },
    results: { type: 'string' },
    artifacts: { type: 'string' },
    profile: { type: 'string' },
    log: { type: 'string' },
  },
});
const need = (name: keyof typeof values): string => {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new Error(`userFlowDriver: --${name} is required`);
  return v;
};

/** The files of test/e2e-workspace the scenario uses. */
const MODEL_FOLDERS = ['models', 'shortcut'];
const MODEL_FILE = 'model.json';
const SCRIPT_FILE = 'train.js';
/** The call in SCRIPT_FILE that saves the shortcut model (its line gets the warning). */
const SAVE_CALL = 'shortcutModel.save(';
const ANALYZE_TITLE = 'MemLens: Analyze Memorization';
/** The lens once the shortcut model has a result: "MemLens: H 2.31 · I 0.84 · heuristic ...". */
const RESULT_LENS = /^MemLens: H \d+\.\d\d · I \d+\.\d\d · heuristic memorization signature$/;
/**
 * Upper bounds, not delays: every wait ends as soon as its condition holds. The analysis (the
 * shortcut model and its baseline, 192 neurons each on 600 probe inputs) takes 20-60 s here.
 */
const UI_MS = 30_000;
const ANALYSIS_MS = 300_000;
/** A painted chart has at least this many non-transparent pixels. */
const MIN_PAINTED = 500;

/** The part of a canvas element the pixel count needs (the driver's tsconfig has no DOM lib). */
interface PaintableCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  } | null;
}

interface Step {
  name: string;
  /** Indices of the steps this one cannot run without (default: every earlier step). */
  needs?: number[];
  run: (page: Page) => Promise<string | void>;
}

const artifacts = need('artifacts');
const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(artifacts, `e2e-${name}.png`) });

/** The explorer row whose label is exactly `name` (rows are virtualised: visible ones only). */
function explorerRow(page: Page, name: string): Locator {
  return page.locator('.explorer-folders-view .monaco-list-row').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace('.', '\\.')}$`) }),
  });
}

/**
 * The content frame of MemLens's report webview: VS Code hosts each webview in an iframe whose
 * src names the extension, and nests the page in #active-frame. Other webviews (a walkthrough,
 * another extension's) have other iframes.
 */
function reportFrame(page: Page): FrameLocator {
  return page
    .locator('iframe.webview.ready[src*="extensionId=memlens.memlens"]')
    .contentFrame()
    .locator('#active-frame')
    .contentFrame();
}

const steps: Step[] = [
  {
    name: 'the workbench opens the workspace with the models in the explorer',
    run: async (page) => {
      await page.goto(workspaceUrl(need('base'), need('workspace')));
      await explorerRow(page, MODEL_FOLDERS[0]).waitFor({ timeout: UI_MS });
    },
  },
  {
    name: `the explorer context menu of ${MODEL_FOLDERS.join('/')}/${MODEL_FILE} offers "${ANALYZE_TITLE}"`,
    run: async (page) => {
      for (const folder of MODEL_FOLDERS) {
        const row = explorerRow(page, folder);
        if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
        await page
          .locator('.explorer-folders-view .monaco-list-row[aria-expanded="true"]')
          .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${folder}$`) }) })
          .waitFor({ timeout: UI_MS });
      }
      const model = explorerRow(page, MODEL_FILE);
      await model.click({ button: 'right' });
      // Wait for the item to be enabled, not just shown: a click on a disabled item does nothing.
      const item = page.locator('.monaco-menu .action-item:not(.disabled)', {
        hasText: ANALYZE_TITLE,
      });
      await item.waitFor({ timeout: UI_MS });
      await shot(page, '1-context-menu');
      await item.click();
    },
  },
  {
    name: 'the analysis runs with progress and opens the report panel',
    run: async (page) => {
      const tab = page.locator('.tabs-container .tab', { hasText: 'MemLens' }).first();
      // An error notification from MemLens ends the wait early, with its text.
      const error = page
        .locator('.notification-toast', { hasText: 'MemLens' })
        .filter({ has: page.locator('.codicon-error') })
        .first();
      await tab.or(error).first().waitFor({ timeout: ANALYSIS_MS });
      if (await error.isVisible()) {
        throw new Error(`MemLens reported: ${(await error.innerText()).split('\n')[0]}`);
      }
      // The panel opens once the analysis is done; its progress notification must be gone.
      const progress = page
        .locator('.notification-toast', { hasText: 'MemLens' })
        .filter({ has: page.locator('.monaco-progress-container.active') });
      await progress.first().waitFor({ state: 'hidden', timeout: ANALYSIS_MS });
      await reportFrame(page).locator('body[data-rendered="true"]').waitFor({ timeout: UI_MS });
    },
  },
  {
    name: 'the report panel paints its charts (canvas pixels)',
    run: async (page) => {
      const canvases = reportFrame(page).locator('canvas');
      const painted = await canvases.evaluateAll((list) =>
        list.map((c) => {
          const canvas = c as unknown as PaintableCanvas;
          const ctx = canvas.getContext('2d');
          if (!ctx || canvas.width === 0 || canvas.height === 0) return 0;
          const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
          return n;
        }),
      );
      await shot(page, '2-report-panel');
      if (painted.length < 2)
        throw new Error(`expected at least 2 charts, found ${painted.length}`);
      const blank = painted.filter((n) => n < MIN_PAINTED).length;
      if (blank > 0)
        throw new Error(`${blank} of ${painted.length} canvases are blank: ${painted.join(', ')}`);
      return `${painted.length} canvases, painted pixels ${painted.join(', ')}`;
    },
  },
  {
    name: 'the summary table shows the heuristic memorization signature',
    run: async (page) => {
      const table = reportFrame(page).locator('#summary-table');
      await table.waitFor({ timeout: UI_MS });
      const text = (await table.innerText()).replace(/\s+/g, ' ');
      if (!/heuristic memorization/.test(text)) {
        throw new Error(
          `#summary-table does not name the heuristic signature: "${text.slice(0, 300)}"`,
        );
      }
    },
  },
  {
    name: `${SCRIPT_FILE} shows the result lens and the memorization squiggle`,
    // It needs the analysis to have run (steps 0 and 1), not the panel.
    needs: [0, 1],
    run: async (page) => {
      await explorerRow(page, SCRIPT_FILE).click();
      const lens = page
        .locator('.codelens-decoration')
        .locator('a, span', { hasText: RESULT_LENS });
      await lens.first().waitFor({ timeout: UI_MS });
      // The warning squiggle must sit on the line that saves the shortcut model.
      const saveLine = page.locator('.view-line', { hasText: SAVE_CALL });
      await saveLine.waitFor({ timeout: UI_MS });
      const squiggles = page.locator('.squiggly-warning');
      await squiggles.first().waitFor({ timeout: UI_MS });
      await shot(page, '3-training-script');
      const line = await saveLine.boundingBox();
      const boxes = await squiggles.evaluateAll((list) =>
        list.map((e) => {
          const r = e.getBoundingClientRect();
          return r.top + r.height / 2;
        }),
      );
      if (!line || !boxes.some((y) => y >= line.y && y <= line.y + line.height)) {
        throw new Error(`no warning squiggle on the line "${SAVE_CALL}..."`);
      }
      return (await lens.first().innerText()).trim();
    },
  },
];

async function main(): Promise<number> {
  mkdirSync(artifacts, { recursive: true });
  const results = need('results');
  writeFileSync(results, '');
  const out = (line: string) => {
    appendFileSync(results, `${line}\n`);
    console.log(line);
  };
  const { browser, page } = await openSession(need('profile'), need('log'));
  let passed = 0;
  let failed = 0;
  try {
    const ok: boolean[] = [];
    for (const [i, step] of steps.entries()) {
      const needs = step.needs ?? [...Array(i).keys()];
      if (!needs.every((n) => ok[n])) {
        ok.push(false);
        failed++;
        out(`  SKIP ${step.name} (a step it needs failed)`);
        continue;
      }
      const t0 = Date.now();
      try {
        const note = await step.run(page);
        passed++;
        ok.push(true);
        out(`  ok   ${step.name} (${Date.now() - t0} ms)${note ? `: ${note}` : ''}`);
      } catch (e) {
        failed++;
        ok.push(false);
        const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
        out(`  FAIL ${step.name}: ${msg}`);
        await shot(page, `failed-step-${i + 1}`).catch(() => undefined);
      }
    }
  } finally {
    await browser.close();
  }
  out(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`browser test: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
