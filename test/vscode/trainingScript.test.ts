// Before any analysis: the training script's checkpoint lines carry the "analyze" lens and no
// warning.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { ANALYZE_LENS, memlensLenses, saveLines, trainingScript } from './workspace';

describe('training script before analysis', () => {
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
