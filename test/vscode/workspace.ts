// What the extension-host suites share: the files of the e2e workspace (a copy of
// test/e2e-workspace made for each run), waits on conditions with a time limit, and the set-up
// each suite does in its before() so that it runs alone as well as after any other suite
// (MEMLENS_E2E_SUITES, see index.ts).
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../../src/core/report/schema';

export const EXTENSION_ID = 'memlens.memlens';
export const COMMANDS = [
  'memlens.analyze',
  'memlens.compare',
  'memlens.selectProbe',
  'memlens.openReport',
  'memlens.exportReport',
  'memlens.compareWith',
  'memlens.useAsBaseline',
  'memlens.chooseReference',
  'memlens.analyzeAllPairs',
];
export const ANALYZE_LENS = 'MemLens: analyze memorization';

export function workspaceUri(...segments: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the e2e workspace is not open');
  return vscode.Uri.joinPath(folder.uri, ...segments);
}

export const shortcutModel = () => workspaceUri('models', 'shortcut', 'model.json');
export const trainingScript = () => workspaceUri('train.js');

/**
 * The 0-based lines of train.js that save a model, found by plain text search in the fixture
 * (independently of the extension's finder): the `shortcutModel.save(` and
 * `generalisingModel.save(` calls.
 */
export function saveLines(): { shortcut: number; generalising: number } {
  const lines = readFileSync(trainingScript().fsPath, 'utf8').split('\n');
  const find = (needle: string) => {
    const i = lines.findIndex((l) => l.includes(needle));
    if (i < 0) throw new Error(`train.js has no line with ${needle}`);
    return i;
  };
  return { shortcut: find('shortcutModel.save('), generalising: find('generalisingModel.save(') };
}

/** The hidden layers of a TF.js layers-model, read from its model.json: name and units. */
export function denseLayers(modelJson: vscode.Uri): { name: string; units: number }[] {
  const topology = JSON.parse(readFileSync(modelJson.fsPath, 'utf8')) as {
    modelTopology: {
      config: {
        layers: {
          class_name: string;
          config: { name: string; units: number; activation: string };
        }[];
      };
    };
  };
  return topology.modelTopology.config.layers
    .filter((l) => l.class_name === 'Dense' && l.config.activation === 'relu')
    .map((l) => ({ name: l.config.name, units: l.config.units }));
}

/** The number of rows of a .npy file, read from its header (`'shape': (rows, ...)`). */
export function npyRows(file: vscode.Uri): number {
  const header = readFileSync(file.fsPath).subarray(0, 256).toString('latin1');
  const m = /'shape':\s*\((\d+)/.exec(header);
  if (!m) throw new Error(`${file.fsPath}: no shape in the .npy header`);
  return Number(m[1]);
}

/**
 * Re-evaluates `probe` whenever `event` fires (and once at the start) until it returns a value
 * other than undefined; rejects after `ms` with `what` and the last value seen.
 */
export function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  events: vscode.Event<unknown>[],
  ms = 30_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const subs: vscode.Disposable[] = [];
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      subs.forEach((s) => s.dispose());
      f();
    };
    const check = async () => {
      try {
        const v = await probe();
        if (v !== undefined) finish(() => resolve(v));
      } catch (e) {
        finish(() => reject(e instanceof Error ? e : new Error(String(e))));
      }
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`))),
      ms,
    );
    for (const e of events) subs.push(e(() => void check()));
    void check();
  });
}

/** The MemLens code lenses of a document, resolved, with their 0-based line and title. */
export async function memlensLenses(uri: vscode.Uri): Promise<{ line: number; title: string }[]> {
  // The lens providers run on open documents only.
  await vscode.workspace.openTextDocument(uri);
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
    'vscode.executeCodeLensProvider',
    uri,
    100,
  );
  return lenses
    .filter((l) => l.command?.title.startsWith('MemLens'))
    .map((l) => ({ line: l.range.start.line, title: l.command?.title ?? '' }))
    .sort((a, b) => a.line - b.line);
}

/** The extension, activated (commands, lenses and diagnostics registered). */
export async function activated(): Promise<vscode.Extension<unknown>> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not installed`);
  await ext.activate();
  return ext;
}

/** The MemLens diagnostics of train.js. */
const memlensDiagnostics = () =>
  vscode.languages
    .getDiagnostics(trainingScript())
    .filter((d) => d.source === 'MemLens' || d.message.startsWith('MemLens'));

/**
 * No result is stored (memlens.clearResults), no editor is open, and train.js carries no MemLens
 * diagnostic any more: the state of a fresh workspace, whatever suites ran before.
 */
export async function withoutResults(): Promise<void> {
  await activated();
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await vscode.commands.executeCommand('memlens.clearResults', { confirm: false });
  await waitFor(
    'train.js without MemLens diagnostics',
    () => (memlensDiagnostics().length === 0 ? true : undefined),
    [vscode.languages.onDidChangeDiagnostics],
  );
}

/** train.js open in an editor, as the user has it: its lenses and diagnostics are computed. */
export async function trainingScriptOpen(): Promise<void> {
  await activated();
  await vscode.window.showTextDocument(trainingScript());
}

/**
 * The shortcut example model has a stored result: analysed now, or its cached result when an
 * earlier suite analysed it and it has not changed since.
 */
export async function analysedShortcut(): Promise<AnalysisReport> {
  await activated();
  const report = await vscode.commands.executeCommand<AnalysisReport | undefined>(
    'memlens.analyze',
    shortcutModel(),
  );
  if (!report) throw new Error('set-up: memlens.analyze of the shortcut model returned nothing');
  return report;
}

/**
 * Workspace-level `memlens.*` settings a suite changes: `set` keeps each key's first value,
 * `restore` (in after()) puts them all back.
 */
export function suiteSettings(): {
  set(key: string, value: unknown): Promise<void>;
  restore(): Promise<void>;
} {
  const settings = () => vscode.workspace.getConfiguration('memlens');
  const saved: Record<string, unknown> = {};
  return {
    async set(key, value) {
      if (!(key in saved)) saved[key] = settings().inspect(key)?.workspaceValue;
      await settings().update(key, value, vscode.ConfigurationTarget.Workspace);
    },
    async restore() {
      for (const [key, value] of Object.entries(saved))
        await settings().update(key, value, vscode.ConfigurationTarget.Workspace);
    },
  };
}
