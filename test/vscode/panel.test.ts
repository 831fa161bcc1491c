// memlens.openReport shows the report of the analysed model in a webview panel tab. Set-up: the
// shortcut model has a result.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { analysedShortcut, shortcutModel, waitFor } from './workspace';

const memlensWebviewTabs = () =>
  vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && /memlens/i.test(t.input.viewType));

describe('report panel', () => {
  before(analysedShortcut);

  it('opens the report as a webview tab', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // The tab model reaches the extension host by message: wait for the closing to arrive.
    await waitFor('no MemLens tab', () => (memlensWebviewTabs().length === 0 ? true : undefined), [
      vscode.window.tabGroups.onDidChangeTabs,
    ]);
    await vscode.commands.executeCommand('memlens.openReport', shortcutModel());
    const tabs = await waitFor(
      'a MemLens webview tab',
      () => {
        const t = memlensWebviewTabs();
        return t.length > 0 ? t : undefined;
      },
      [vscode.window.tabGroups.onDidChangeTabs],
    );
    assert.equal(tabs.length, 1);
    assert.match(tabs[0].label, /model\.json|shortcut/);
  });
});
