// memlens.compare on an explorer multi-selection: the shortcut model against its baseline
// (memlens.baseline) gets the heuristic signature, as in the paper's shortcut-learning
// experiment (H lower, I higher), and the comparison opens in its own panel. Set-up: the
// extension is active (the comparison measures both models itself).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { CompareReport } from '../../src/core/report/schema';
import { activated, shortcutModel, waitFor, workspaceUri } from './workspace';

describe('compare', () => {
  before(activated);

  const baseline = () => workspaceUri('models', 'shortcut-baseline', 'model.json');

  it('gives the shortcut model the heuristic signature against its baseline', async () => {
    const report = await vscode.commands.executeCommand<CompareReport>(
      'memlens.compare',
      shortcutModel(),
      [baseline(), shortcutModel()],
    );
    assert.ok(report, 'memlens.compare returned nothing');
    assert.equal(report.schema, 'memlens.compare');
    assert.equal(report.baseline, baseline().fsPath);
    assert.deepEqual(
      report.models.map((m) => m.path).sort(),
      [baseline().fsPath, shortcutModel().fsPath].sort(),
    );
    const shortcut = report.models.find((m) => m.path === shortcutModel().fsPath);
    assert.ok(shortcut && shortcut.error === undefined, shortcut?.error);
    assert.equal(shortcut.signature.kind, 'heuristic');
    assert.ok(shortcut.signature.deltaEntropy < 0, 'median H should be lower than the baseline');
    assert.ok(shortcut.signature.miRatio > 1, 'median I should be higher than the baseline');
  });

  it('shows the comparison of the 2 models in a webview tab', async () => {
    const tab = await waitFor(
      'the comparison tab',
      () =>
        vscode.window.tabGroups.all
          .flatMap((g) => g.tabs)
          .find(
            (t) =>
              t.input instanceof vscode.TabInputWebview && /compare \(2 models\)/.test(t.label),
          ),
      [vscode.window.tabGroups.onDidChangeTabs],
    );
    assert.ok(tab);
  });
});
