// Report panels share one column: the first opens beside the editor, the next ones as tabs where
// the report panels are, even when a report has the focus (Beside of it would add a column).
// Set-up: train.js open, the shortcut model analysed (with its baseline, memlens.baseline).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { CompareReport } from '../../src/core/report/schema';
import {
  analysedShortcut,
  shortcutModel,
  trainingScript,
  waitFor,
  workspaceUri,
} from './workspace';

/** The groups holding a MemLens report tab, with those tabs' labels. */
function reportGroups(): { group: vscode.TabGroup; labels: string[] }[] {
  return vscode.window.tabGroups.all
    .map((group) => ({
      group,
      labels: group.tabs
        .filter(
          (t) =>
            t.input instanceof vscode.TabInputWebview && /memlens\.report/.test(t.input.viewType),
        )
        .map((t) => t.label),
    }))
    .filter((g) => g.labels.length > 0);
}

const reportTabCount = () => reportGroups().reduce((n, g) => n + g.labels.length, 0);

/** Waits until the tab model (which reaches the extension host by message) shows `n` report tabs. */
const reportTabs = (n: number) =>
  waitFor(`${n} MemLens report tabs`, () => (reportTabCount() === n ? reportGroups() : undefined), [
    vscode.window.tabGroups.onDidChangeTabs,
    vscode.window.tabGroups.onDidChangeTabGroups,
  ]);

describe('report column', () => {
  before(async () => {
    await analysedShortcut();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await reportTabs(0);
    await vscode.window.showTextDocument(trainingScript(), { viewColumn: vscode.ViewColumn.One });
  });

  it('opens three reports as tabs of one column beside the editor', async () => {
    await vscode.commands.executeCommand('memlens.openReport', shortcutModel());
    const [first] = await reportTabs(1);
    const scriptGroup = vscode.window.tabGroups.all.find((g) =>
      g.tabs.some(
        (t) =>
          t.input instanceof vscode.TabInputText && t.input.uri.fsPath === trainingScript().fsPath,
      ),
    );
    assert.ok(scriptGroup, 'train.js is open');
    assert.notEqual(
      first.group.viewColumn,
      scriptGroup.viewColumn,
      'the first report opens beside',
    );

    // With a report focused, Beside would be a new column to its right.
    await vscode.commands.executeCommand('workbench.action.focusSecondEditorGroup');
    const epoch12 = workspaceUri('models', 'shortcut-onset', 'epoch-12', 'model.json');
    assert.ok(await vscode.commands.executeCommand('memlens.analyze', epoch12));
    await reportTabs(2);

    await vscode.commands.executeCommand('workbench.action.focusSecondEditorGroup');
    const baseline = workspaceUri('models', 'shortcut-baseline', 'model.json');
    const compare = await vscode.commands.executeCommand<CompareReport>(
      'memlens.compare',
      shortcutModel(),
      [baseline, shortcutModel()],
    );
    assert.ok(compare, 'memlens.compare returned nothing');
    const groups = await reportTabs(3);
    assert.equal(
      groups.length,
      1,
      `report tabs in several groups: ${JSON.stringify(groups.map((g) => g.labels))}`,
    );
    assert.equal(groups[0].group.viewColumn, first.group.viewColumn);
    assert.equal(groups[0].labels.filter((l) => /compare \(2 models\)/.test(l)).length, 1);

    // A report already open is revealed, not opened again (the compare's tab is the active one).
    await vscode.commands.executeCommand('memlens.openReport', epoch12);
    await waitFor(
      'the epoch-12 report as the active tab of the report column',
      () => (/epoch-12/.test(reportGroups()[0]?.group.activeTab?.label ?? '') ? true : undefined),
      [vscode.window.tabGroups.onDidChangeTabs],
    );
    assert.equal(reportTabCount(), 3);
  });
});
