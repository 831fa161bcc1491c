// A model keeps one result per context: the workspace's baseline run, a lone run, and its place
// in a compare; the newest is shown, MemLens: Switch Result… shows another, and Open Report opens
// the report of the one shown. A baseline run also keeps the baseline's own numbers.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AnalysisReport, CompareReport } from '../../src/core/report/schema';
import type { MemLensApi } from '../../src/extension/host/extension';
import {
  activated,
  analysedShortcut,
  shortcutModel,
  suiteSettings,
  withoutResults,
  workspaceUri,
} from './workspace';

async function results(uri: vscode.Uri): Promise<ReturnType<MemLensApi['results']>> {
  return ((await activated()).exports as MemLensApi).results(uri.fsPath);
}

describe('results per context', () => {
  const settings = suiteSettings();
  const baseline = () => workspaceUri('models', 'shortcut-baseline', 'model.json');
  const generalising = () => workspaceUri('models', 'generalising', 'model.json');
  let withBaseline: AnalysisReport;

  before(async () => {
    // From no stored result (earlier suites compare the shortcut model too); the workspace sets
    // memlens.baseline, so the shortcut model is read against it.
    await withoutResults();
    withBaseline = await analysedShortcut();
  });
  after(() => settings.restore());

  it('a run against the baseline keeps the baseline context, and the baseline its own numbers', async () => {
    assert.equal(withBaseline.signature?.kind, 'heuristic');
    const mine = await results(shortcutModel());
    const current = mine.find((r) => r.current);
    assert.equal(current?.context.kind, 'baseline');
    assert.equal(current?.context.reference, baseline().fsPath);
    assert.equal(current?.signature, 'heuristic');
    const theirs = await results(baseline());
    assert.ok(
      theirs.some((r) => r.context.kind === 'alone' && r.context.probe === current?.context.probe),
      `the baseline's own result: ${JSON.stringify(theirs)}`,
    );
  });

  it('a lone run adds a context and is shown; the baseline result is kept, and Switch Result brings it back', async () => {
    await settings.set('baseline', '');
    const alone = await vscode.commands.executeCommand<AnalysisReport>(
      'memlens.analyze',
      shortcutModel(),
    );
    assert.ok(alone && alone.signature === undefined, 'a lone analysis has no signature');
    const kept = await results(shortcutModel());
    assert.deepEqual(kept.map((r) => [r.context.kind, r.current]).sort(), [
      ['alone', true],
      ['baseline', false],
    ]);
    // The same numbers in both contexts: one measurement of the model, on the same probe.
    const byBaseline = kept.find((r) => r.context.kind === 'baseline');
    assert.ok(byBaseline);
    const switched = await vscode.commands.executeCommand<string>(
      'memlens.switchResult',
      shortcutModel(),
      byBaseline.context.id,
    );
    assert.equal(switched, byBaseline.context.id);
    const now = await results(shortcutModel());
    assert.equal(now.find((r) => r.current)?.context.kind, 'baseline');
    assert.deepEqual(
      alone.summary,
      withBaseline.summary,
      'the model measured the same in both contexts',
    );
  });

  it('a compare adds its context; Open Report opens the compare while it is shown', async () => {
    const report = await vscode.commands.executeCommand<CompareReport>(
      'memlens.compare',
      shortcutModel(),
      [generalising(), shortcutModel()],
    );
    assert.ok(report);
    const kept = await results(shortcutModel());
    assert.equal(kept.find((r) => r.current)?.context.kind, 'compare');
    assert.equal(kept.length, 3);
    const id = await vscode.commands.executeCommand<string>('memlens.openReport', shortcutModel());
    assert.match(id, /^compare:/);
    const alone = kept.find((r) => r.context.kind === 'alone');
    assert.ok(alone);
    await vscode.commands.executeCommand('memlens.switchResult', shortcutModel(), alone.context.id);
    const reopened = await vscode.commands.executeCommand<string>(
      'memlens.openReport',
      shortcutModel(),
    );
    assert.match(reopened, /^analysis:/);
  });
});
