// memlens.exportReport writes the latest report of a model as JSON and as CSV (one row per
// layer), without a dialog when the destination is given. Set-up: the shortcut model has a result.
import * as assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../../src/core/report/schema';
import { analysedShortcut, denseLayers, shortcutModel, workspaceUri } from './workspace';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('export', () => {
  before(analysedShortcut);

  it('writes the report of the analysed model as JSON', async () => {
    const dest = workspaceUri('shortcut-report.json');
    const written = await vscode.commands.executeCommand<string>(
      'memlens.exportReport',
      shortcutModel(),
      dest,
    );
    assert.equal(written, dest.fsPath);
    const report = JSON.parse(readFileSync(dest.fsPath, 'utf8')) as AnalysisReport;
    assert.equal(report.schema, 'memlens.report');
    assert.equal(report.model.path, shortcutModel().fsPath);
    assert.deepEqual(
      report.layers.map((l) => l.name),
      denseLayers(shortcutModel()).map((l) => l.name),
    );
  });

  it('writes the per-layer table as CSV, one row per layer', async () => {
    const dest = workspaceUri('shortcut-layers.csv');
    await vscode.commands.executeCommand<string>('memlens.exportReport', shortcutModel(), dest);
    const [header, ...rows] = readFileSync(dest.fsPath, 'utf8')
      .trimEnd()
      .split('\r\n')
      .map((r) => r.split(','));
    const col = (name: string) => header.indexOf(name);
    assert.ok(col('layer') >= 0 && col('neurons') >= 0, header.join(','));
    assert.deepEqual(
      rows.map((r) => ({ name: r[col('layer')], units: Number(r[col('neurons')]) })),
      denseLayers(shortcutModel()),
    );
  });

  it('asks which report, defaulting to the active one, and names the file after the model', async () => {
    // Two analysed models, the shortcut model's report the active one.
    const epoch12 = workspaceUri('models', 'shortcut-onset', 'epoch-12', 'model.json');
    assert.ok(await vscode.commands.executeCommand('memlens.analyze', epoch12));
    await analysedShortcut();
    const dest = workspaceUri('shortcut-memlens.json');
    rmSync(dest.fsPath, { force: true });
    let settled = false;
    const exported = Promise.resolve(
      vscode.commands.executeCommand<string | undefined>('memlens.exportReport'),
    ).finally(() => (settled = true));
    // Accept what each question proposes: the first item of the pick (the active report), then
    // the path code-server's own save dialog holds. Nothing is open between them: a no-op.
    for (let i = 0; i < 120 && !settled; i++) {
      await pause(500);
      if (!settled)
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    assert.equal(await exported, dest.fsPath);
    const report = JSON.parse(readFileSync(dest.fsPath, 'utf8')) as AnalysisReport;
    assert.equal(report.schema, 'memlens.report');
    assert.equal(report.model.path, shortcutModel().fsPath);
  });
});
