// memlens.compare on an explorer multi-selection: the shortcut model against its baseline
// (memlens.baseline) gets the heuristic signature, as in the paper's shortcut-learning
// experiment (H lower, I higher), and the comparison opens in its own panel. Set-up: the
// extension is active (the comparison measures both models itself).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { CompareReport } from '../../src/core/report/schema';
import type { MemLensApi } from '../../src/extension/host/extension';
import { activated, shortcutModel, waitFor, workspaceUri } from './workspace';

/** The latest job's figures, from the extension's API. */
async function lastJob(): Promise<ReturnType<MemLensApi['lastJob']>> {
  return ((await activated()).exports as MemLensApi).lastJob();
}

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

  it('reads the comparison again against another reference without measuring a model', async () => {
    const cohort = await vscode.commands.executeCommand<CompareReport>(
      'memlens.chooseReference',
      'cohort',
    );
    assert.ok(cohort, 'memlens.chooseReference returned nothing');
    assert.equal(cohort.reference.mode, 'cohort');
    const job = await lastJob();
    assert.ok(job);
    // Both models were measured by the first compare: this job only computes the comparison.
    assert.deepEqual([job.measured, job.reused], [0, 2]);
    console.log(`      re-read against the cohort median in ${job.ms} ms, no model measured`);
    const againstShortcut = await vscode.commands.executeCommand<CompareReport>(
      'memlens.chooseReference',
      shortcutModel().fsPath,
    );
    assert.ok(againstShortcut);
    assert.equal(againstShortcut.reference.path, shortcutModel().fsPath);
    // The mirror of the heuristic signature: against the shortcut model, the baseline has
    // higher H and lower I.
    const base = againstShortcut.models.find((m) => m.path === baseline().fsPath);
    assert.equal(base?.signature.kind, 'example-level');
    assert.deepEqual([(await lastJob())?.measured, (await lastJob())?.reused], [0, 2]);
  });

  it('compares with a reference picked by command, and sets the baseline by command', async () => {
    const generalising = workspaceUri('models', 'generalising', 'model.json');
    const report = await vscode.commands.executeCommand<CompareReport>(
      'memlens.compareWith',
      generalising,
      shortcutModel(),
    );
    assert.ok(report);
    assert.equal(report.reference.path, shortcutModel().fsPath);
    assert.equal(report.models.length, 2);
    const config = vscode.workspace.getConfiguration('memlens');
    const before = config.inspect<string>('baseline')?.workspaceValue;
    try {
      const set = await vscode.commands.executeCommand<string>(
        'memlens.useAsBaseline',
        generalising,
      );
      assert.equal(set, 'models/generalising/model.json');
      assert.equal(
        vscode.workspace.getConfiguration('memlens').get<string>('baseline'),
        'models/generalising/model.json',
      );
    } finally {
      await config.update('baseline', before, vscode.ConfigurationTarget.Workspace);
    }
  });

  it("changes a trajectory's reference checkpoint, measuring nothing again", async () => {
    const onset = workspaceUri('models', 'shortcut-onset');
    const first = await vscode.commands.executeCommand<CompareReport>('memlens.compare', onset);
    assert.ok(first);
    assert.equal(first.reference.mode, 'checkpoint');
    assert.match(first.reference.path ?? '', /epoch-2/);
    const epoch8 = first.models.find((m) => /epoch-8/.test(m.path));
    assert.ok(epoch8);
    const again = await vscode.commands.executeCommand<CompareReport>(
      'memlens.chooseReference',
      epoch8.path,
    );
    assert.ok(again);
    assert.equal(again.reference.mode, 'checkpoint');
    assert.equal(again.reference.path, epoch8.path);
    const job = await lastJob();
    assert.deepEqual([job?.measured, job?.reused], [0, 6]);
    console.log(`      trajectory re-read against epoch-8 in ${job?.ms} ms, no model measured`);
  });
});
