// The browser test: MemLens as a user meets it, in code-server with the .vsix installed.
// Opens the workspace, right-clicks the shortcut example model in the explorer, chooses
// "MemLens: Analyze Memorization", waits for the progress to end, checks the report panel's
// webview (charts painted, the summary table naming the heuristic signature), then opens the
// training script and checks the code lens and the warning squiggle. Then, on their own (they
// need only the workbench), the PyTorch steps: torch/train.py's lens on its torch.save line,
// the factory quick pick for the state_dict it saves, the report panel, and the factory kept in
// the workspace settings. Every wait is on a condition (a locator or an event) with a time
// limit; screenshots go to --artifacts.
// Prints one line per step and ends with `N passed, N failed` (also written to --results);
// a step whose prerequisite failed cannot run and counts as failed.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
/** The PyTorch files (test/e2e-workspace/torch/; run.sh ran train.py to write mlp_state.pt). */
const TORCH_FOLDER = 'torch';
const TORCH_SCRIPT = 'train.py';
const TORCH_MODEL = 'mlp_state.pt';
/** The line of TORCH_SCRIPT that saves the model (no spaces: the editor renders them apart). */
const TORCH_SAVE_CALL = 'torch.save(model.state_dict()';
/** The lens of a save line whose model has no result yet. */
const ANALYZE_LENS = 'MemLens: analyze memorization';
/** The factory to pick (torch/nets.py), and the modules MemLens measures: Mlp's but the head. */
const TORCH_FACTORY = 'nets:Mlp';
const TORCH_LAYERS = ['hidden1', 'hidden2', 'hidden3'];
const TORCH_HEAD = 'output';
/** The title of the factory quick pick. */
const FACTORY_PICK_TITLE = `MemLens: ${TORCH_FOLDER}/${TORCH_MODEL} holds a state_dict: which code builds its model?`;
/** Any MemLens lens with a result: "MemLens: H 3.41 · I 0.21 · ...". */
const ANY_RESULT_LENS = /^MemLens: H \d+\.\d\d · I \d+\.\d\d · /;
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

/** Expands the explorer folder `name` (a visible row) unless it is expanded already. */
async function expandFolder(page: Page, name: string): Promise<void> {
  const row = explorerRow(page, name);
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
  await page
    .locator('.explorer-folders-view .monaco-list-row[aria-expanded="true"]')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${name}$`) }) })
    .waitFor({ timeout: UI_MS });
}

/** Runs the command-palette entry whose label is exactly `label`. */
async function runCommand(page: Page, label: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: UI_MS });
  await input.fill(`>${label}`);
  const row = page.locator('.quick-input-list .monaco-list-row').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }),
  });
  await row.first().click({ timeout: UI_MS });
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: UI_MS });
}

/**
 * A MemLens error notification (an analysis that failed), to end a long wait early. Not VS
 * Code's "Actual command not found, wanted to execute memlens..." of a stale lens (hasText is
 * case-insensitive, so it would match): the lens step clicks again on that one.
 */
function memlensError(page: Page): Locator {
  return page
    .locator('.notification-toast', { hasText: 'MemLens' })
    .filter({ has: page.locator('.codicon-error'), hasNotText: 'Actual command not found' })
    .first();
}

/** Waits for `target`, failing early with the text of a MemLens error notification. */
async function waitWithoutError(page: Page, target: Locator, ms: number): Promise<void> {
  const error = memlensError(page);
  await target.or(error).first().waitFor({ timeout: ms });
  if (await error.isVisible()) {
    throw new Error(`MemLens reported: ${(await error.innerText()).split('\n')[0]}`);
  }
}

/** Waits until no MemLens progress notification is running. */
async function progressEnded(page: Page): Promise<void> {
  const progress = page
    .locator('.notification-toast', { hasText: 'MemLens' })
    .filter({ has: page.locator('.monaco-progress-container.active') });
  await progress.first().waitFor({ state: 'hidden', timeout: ANALYSIS_MS });
}

/** The non-transparent pixels of each canvas of the report panel; throws unless all are painted. */
async function paintedCanvases(page: Page): Promise<string> {
  const painted = await reportFrame(page)
    .locator('canvas')
    .evaluateAll((list) =>
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
  if (painted.length < 2) throw new Error(`expected at least 2 charts, found ${painted.length}`);
  const blank = painted.filter((n) => n < MIN_PAINTED).length;
  if (blank > 0)
    throw new Error(`${blank} of ${painted.length} canvases are blank: ${painted.join(', ')}`);
  return `${painted.length} canvases, painted pixels ${painted.join(', ')}`;
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
      for (const folder of MODEL_FOLDERS) await expandFolder(page, folder);
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
      await waitWithoutError(page, tab, ANALYSIS_MS);
      // The panel opens once the analysis is done; its progress notification must be gone.
      await progressEnded(page);
      await reportFrame(page).locator('body[data-rendered="true"]').waitFor({ timeout: UI_MS });
    },
  },
  {
    name: 'the report panel paints its charts (canvas pixels)',
    run: async (page) => {
      await shot(page, '2-report-panel');
      return paintedCanvases(page);
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
    name: 'the report panel offers Export HTML beside Export JSON and Export CSV',
    needs: [0, 1, 2],
    run: async (page) => {
      const frame = reportFrame(page);
      for (const id of ['#export-json', '#export-csv', '#export-html']) {
        await frame.locator(id).waitFor({ timeout: UI_MS });
      }
      return (await frame.locator('#export-html').innerText()).trim();
    },
  },
  {
    name: 'the Latest Analysis side view shows the compact summary, not the charts',
    needs: [0, 1, 2],
    run: async (page) => {
      await page.locator('.activitybar .action-item a[aria-label^="MemLens"]').first().click();
      // Both MemLens webviews (panel and side view) are iframes of the extension: find the
      // one whose page draws the summary.
      const frames = page.locator('iframe.webview.ready[src*="extensionId=memlens.memlens"]');
      const summaryIn = (i: number) =>
        frames.nth(i).contentFrame().locator('#active-frame').contentFrame().locator('#summary');
      const deadline = Date.now() + UI_MS;
      try {
        for (;;) {
          const n = await frames.count();
          for (let i = 0; i < n; i++) {
            const summary = summaryIn(i);
            if ((await summary.count()) === 0) continue;
            const doc = frames.nth(i).contentFrame().locator('#active-frame').contentFrame();
            const canvases = await doc.locator('canvas').count();
            if (canvases > 0) throw new Error(`the side view draws ${canvases} charts`);
            await doc.locator('#summary-open').waitFor({ timeout: UI_MS });
            await shot(page, '2b-side-summary');
            const signature = (await doc.locator('#summary-signature').innerText()).trim();
            if (!/heuristic memorization signature/.test(signature)) {
              throw new Error(`the summary's signature reads "${signature}"`);
            }
            return signature;
          }
          if (Date.now() > deadline) throw new Error('no MemLens webview shows the summary');
          await page.waitForTimeout(250);
        }
      } finally {
        // The steps after this one use the explorer.
        await runCommand(page, 'View: Show Explorer');
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

/**
 * The PyTorch steps, from index `first` on: each needs the workbench (step 0) and the PyTorch
 * steps before it, not the TF.js ones.
 */
function torchSteps(first: number): Step[] {
  const after = (n: number) => [0, ...Array.from({ length: n }, (_, i) => first + i)];
  const script = `${TORCH_FOLDER}/${TORCH_SCRIPT}`;
  return [
    {
      name: `${script} shows "${ANALYZE_LENS}" on its torch.save line`,
      needs: after(0),
      run: async (page) => {
        // From a plain workbench, whatever the steps before left: no quick input, no editor
        // (so the report webview found later is the PyTorch one).
        await page.keyboard.press('Escape');
        await runCommand(page, 'View: Close All Editors');
        await page
          .locator('iframe.webview[src*="extensionId=memlens.memlens"]')
          .first()
          .waitFor({ state: 'detached', timeout: UI_MS });
        await expandFolder(page, TORCH_FOLDER);
        await explorerRow(page, TORCH_SCRIPT).click();
        // The save is near the end of the script, below the fold: the editor renders only the
        // lines in view. Ctrl+End in the editor brings the end of the file into view.
        const editor = page.locator('.editor-instance .monaco-editor .view-lines').first();
        await page
          .locator('.tabs-container .tab.active', { hasText: TORCH_SCRIPT })
          .waitFor({ timeout: UI_MS });
        await editor.click();
        await page.keyboard.press('Control+End');
        const saveLine = page.locator('.view-line', { hasText: TORCH_SAVE_CALL });
        await saveLine.waitFor({ timeout: UI_MS });
        const lens = page.locator('.codelens-decoration a', { hasText: ANALYZE_LENS });
        await lens.waitFor({ timeout: UI_MS });
        await shot(page, 'torch-1-lens');
        // A lens sits in the view zone just above its line.
        const line = await saveLine.boundingBox();
        const box = await lens.boundingBox();
        if (
          !line ||
          !box ||
          box.y + box.height > line.y + 1 ||
          box.y + box.height < line.y - line.height
        ) {
          throw new Error(
            `the lens (y ${box?.y}, height ${box?.height}) is not just above the line "${TORCH_SAVE_CALL}..." (y ${line?.y})`,
          );
        }
      },
    },
    {
      name: `the lens asks which code builds the state_dict's model, offering ${TORCH_FACTORY}`,
      needs: after(1),
      run: async (page) => {
        const lens = page.locator('.codelens-decoration a', { hasText: ANALYZE_LENS });
        const widget = page.locator('.quick-input-widget', { hasText: FACTORY_PICK_TITLE });
        // A known VS Code race (microsoft/vscode#84153): when the lenses are provided again
        // (another extension registering a lens provider, say) just as one is clicked, the
        // old lens's command is already released and VS Code shows this error instead of
        // running it. The lens then shows its new command: a user clicks again, and so do we.
        const stale = page.locator('.notification-toast', { hasText: 'Actual command not found' });
        let clicks = 0;
        for (;;) {
          await lens.click();
          clicks++;
          // Python starts, loads the file and finds a state_dict before the pick shows.
          await widget.or(memlensError(page)).or(stale).first().waitFor({ timeout: ANALYSIS_MS });
          if (clicks >= 3 || !(await stale.isVisible())) break;
          await runCommand(page, 'Notifications: Clear All Notifications');
          await stale.waitFor({ state: 'hidden', timeout: UI_MS });
        }
        await waitWithoutError(page, widget, UI_MS);
        const rows = widget.locator('.quick-input-list .monaco-list-row .label-name');
        await rows.first().waitFor({ timeout: UI_MS });
        const labels = (await rows.allInnerTexts()).map((t) => t.trim());
        await shot(page, 'torch-2-factory-pick');
        if (!labels.includes(TORCH_FACTORY)) {
          throw new Error(`the quick pick lists ${labels.join(', ')}, not ${TORCH_FACTORY}`);
        }
        return `${labels.join(', ')}${clicks > 1 ? ` (${clicks} clicks: the lens was stale)` : ''}`;
      },
    },
    {
      name: `picking ${TORCH_FACTORY} analyses ${TORCH_FOLDER}/${TORCH_MODEL} and opens its report`,
      needs: after(2),
      run: async (page) => {
        await page
          .locator('.quick-input-widget .quick-input-list .monaco-list-row')
          .filter({
            has: page.locator('.label-name', { hasText: new RegExp(`^${TORCH_FACTORY}$`) }),
          })
          .click();
        await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: UI_MS });
        const tab = page.locator('.tabs-container .tab', {
          hasText: `MemLens: ${TORCH_FOLDER}/${TORCH_MODEL}`,
        });
        await waitWithoutError(page, tab, ANALYSIS_MS);
        await progressEnded(page);
        await reportFrame(page).locator('body[data-rendered="true"]').waitFor({ timeout: UI_MS });
        const table = reportFrame(page).locator('#summary-table');
        await table.waitFor({ timeout: UI_MS });
        await shot(page, 'torch-3-report-panel');
        const text = (await table.innerText()).replace(/\s+/g, ' ');
        const missing = TORCH_LAYERS.filter((l) => !new RegExp(`\\b${l}\\b`).test(text));
        if (missing.length > 0 || new RegExp(`\\b${TORCH_HEAD}\\b`).test(text)) {
          throw new Error(
            `#summary-table should name ${TORCH_LAYERS.join(', ')} and not ${TORCH_HEAD}: "${text.slice(0, 300)}"`,
          );
        }
        return paintedCanvases(page);
      },
    },
    {
      name: `the workspace settings keep memlens.torchFactory = ${TORCH_FACTORY}`,
      needs: after(3),
      run: () => {
        const file = path.join(need('workspace'), '.vscode', 'settings.json');
        const settings = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        const factory = settings['memlens.torchFactory'];
        if (factory !== TORCH_FACTORY) {
          throw new Error(`${file}: memlens.torchFactory is ${JSON.stringify(factory)}`);
        }
        return Promise.resolve();
      },
    },
    {
      name: `${script}'s lens shows the result`,
      needs: after(3),
      run: async (page) => {
        await explorerRow(page, TORCH_SCRIPT).click();
        const lens = page
          .locator('.codelens-decoration')
          .locator('a, span', { hasText: ANY_RESULT_LENS });
        await lens.first().waitFor({ timeout: UI_MS });
        await shot(page, 'torch-4-result-lens');
        return (await lens.first().innerText()).trim();
      },
    },
  ];
}
steps.push(...torchSteps(steps.length));

/** The document of the first MemLens webview (report, side view, model viewer) whose page has `text`. */
async function memlensWebviewWith(page: Page, text: string): Promise<FrameLocator> {
  const frames = page.locator('iframe.webview.ready[src*="extensionId=memlens.memlens"]');
  const deadline = Date.now() + UI_MS;
  for (;;) {
    const n = await frames.count();
    for (let i = 0; i < n; i++) {
      const doc = frames.nth(i).contentFrame().locator('#active-frame').contentFrame();
      if ((await doc.locator('body', { hasText: text }).count()) > 0) return doc;
    }
    if (Date.now() > deadline) throw new Error(`no MemLens webview shows "${text}"`);
    await page.waitForTimeout(250);
  }
}

steps.push(
  {
    name: 'the Analysed Models tree lists the analysed model with the context of its result',
    needs: [0, 1, 2],
    run: async (page) => {
      await page.locator('.activitybar .action-item a[aria-label^="MemLens"]').first().click();
      try {
        const row = page
          .locator('.monaco-list-row', { hasText: `${MODEL_FOLDERS[1]}/${MODEL_FILE}` })
          .first();
        await row.waitFor({ timeout: UI_MS });
        const text = (await row.innerText()).replace(/\s+/g, ' ');
        if (!/against .*shortcut-baseline/.test(text))
          throw new Error(`the tree row does not say its context: "${text}"`);
        await shot(page, '5-models-tree');
        return text;
      } finally {
        await runCommand(page, 'View: Show Explorer');
      }
    },
  },
  {
    name: "the model viewer shows a Keras model's inputs, outputs and whether the probe fits",
    needs: [0],
    run: async (page) => {
      await runCommand(page, 'View: Show Explorer');
      await expandFolder(page, 'formats');
      await explorerRow(page, 'conv.keras').click();
      const doc = await memlensWebviewWith(page, 'Inputs');
      const body = (await doc.locator('body').innerText()).replace(/\s+/g, ' ');
      for (const want of ['Outputs', 'Probe data', 'Layers'])
        if (!body.includes(want))
          throw new Error(`the viewer lacks "${want}": ${body.slice(0, 300)}`);
      await shot(page, '6-model-viewer');
      return /Probe data:[^.]*\./.exec(body)?.[0] ?? '';
    },
  },
  {
    name: 'Welcome: Open Walkthrough offers "Get started with MemLens" and shows its steps',
    needs: [0],
    run: async (page) => {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: UI_MS });
      await input.fill('>Welcome: Open Walkthrough');
      await page
        .locator('.quick-input-list .monaco-list-row', { hasText: 'Open Walkthrough' })
        .first()
        .click({ timeout: UI_MS });
      await page
        .locator('.quick-input-list .monaco-list-row', { hasText: 'Get started with MemLens' })
        .first()
        .click({ timeout: UI_MS });
      const step = page.locator('.getting-started-step', { hasText: 'Select probe data' });
      await step.first().waitFor({ timeout: UI_MS });
      await shot(page, '7-walkthrough');
      return `${await page.locator('.getting-started-step').count()} steps`;
    },
  },
);

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
