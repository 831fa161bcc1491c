// Before any analysis: the training script's checkpoint lines carry the "analyze" lens and no
// warning. Set-up: no stored result (whatever ran before). Then a save whose path depends on a
// loop variable (train_onset.js): its lens says why and, clicked, offers the checkpoints that
// match the path's pattern, newest first.
import * as assert from 'node:assert/strict';
import { readFileSync, statSync, utimesSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../../src/core/report/schema';
import {
  ANALYZE_LENS,
  memlensLenses,
  saveLines,
  trainingScript,
  withoutResults,
  workspaceUri,
} from './workspace';

describe('training script before analysis', () => {
  before(withoutResults);

  it('shows "MemLens: analyze memorization" on each line that saves a model', async () => {
    await vscode.window.showTextDocument(trainingScript());
    const lines = saveLines();
    assert.deepEqual(await memlensLenses(trainingScript()), [
      { line: lines.shortcut, title: ANALYZE_LENS },
      { line: lines.generalising, title: ANALYZE_LENS },
    ]);
  });

  it('has no MemLens diagnostics yet', () => {
    const mine = vscode.languages
      .getDiagnostics(trainingScript())
      .filter((d) => d.source === 'MemLens' || d.message.startsWith('MemLens'));
    assert.deepEqual(mine, []);
  });
});

describe('training script saving in a loop', () => {
  const script = () => workspaceUri('train_onset.js');
  const checkpoint = (epoch: number) =>
    workspaceUri('models', 'shortcut-onset', `epoch-${epoch}`, 'model.json');
  /** Days of January 2024 as modification times: newest first is epoch-4, 12, 10, 8, 6, 2. */
  const savedOn: Record<number, number> = { 2: 1, 4: 7, 6: 2, 8: 3, 10: 4, 12: 5 };
  const original: { file: string; atime: Date; mtime: Date }[] = [];

  /** The resolved MemLens lenses of train_onset.js. */
  async function lenses(): Promise<vscode.CodeLens[]> {
    await vscode.window.showTextDocument(script());
    const all = await vscode.commands.executeCommand<vscode.CodeLens[]>(
      'vscode.executeCodeLensProvider',
      script(),
      100,
    );
    return all.filter((l) => l.command?.title.startsWith('MemLens'));
  }

  before(async () => {
    await withoutResults();
    for (const [epoch, day] of Object.entries(savedOn)) {
      const file = checkpoint(Number(epoch)).fsPath;
      const { atime, mtime } = statSync(file);
      original.push({ file, atime, mtime });
      const t = Date.UTC(2024, 0, day) / 1000;
      utimesSync(file, t, t);
    }
  });

  after(() => {
    for (const o of original) utimesSync(o.file, o.atime, o.mtime);
  });

  it('the lens on the save says why its path is unknown and which files it may be', async () => {
    const line = readFileSync(script().fsPath, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('onsetModel.save('));
    assert.deepEqual(
      (await lenses()).map((l) => ({
        line: l.range.start.line,
        title: l.command?.title,
        command: l.command?.command,
        arguments: l.command?.arguments,
      })),
      [
        {
          line,
          title: ANALYZE_LENS,
          command: 'memlens.analyzeSavedCheckpoint',
          arguments: [
            path.dirname(script().fsPath),
            {
              reason: 'the path depends on `epoch`, a loop variable',
              glob: 'models/shortcut-onset/epoch-*',
            },
          ],
        },
      ],
    );
  });

  it('clicked, it offers the matching checkpoints newest first: the first is epoch-4', async () => {
    const [lens] = await lenses();
    const command = lens.command;
    assert.ok(command);
    let settled = false;
    const run = Promise.resolve(
      vscode.commands.executeCommand<AnalysisReport | undefined>(
        command.command,
        ...(command.arguments ?? []),
      ),
    ).finally(() => (settled = true));
    // Accepts the quick pick's first item once it is shown (a no-op until then), as Enter would.
    while (!settled) {
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const report = await run;
    assert.equal(report?.model.path, checkpoint(4).fsPath);
  });
});
