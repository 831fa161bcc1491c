// Before any analysis: the training script's checkpoint lines carry the "analyze" lens and no
// warning. Set-up: no stored result (whatever ran before).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import {
  ANALYZE_LENS,
  memlensLenses,
  saveLines,
  trainingScript,
  withoutResults,
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
