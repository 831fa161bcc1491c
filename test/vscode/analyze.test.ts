// memlens.analyze on the shortcut example model (probe data and baseline come from the
// workspace settings, so no prompt appears): a report, then the result lens and the
// memorization warning on the line of train.js that saves that model. Set-up: no stored result,
// so that the first test analyses the model itself, and train.js open in an editor.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../../src/core/report/schema';
import {
  ANALYZE_LENS,
  denseLayers,
  memlensLenses,
  npyRows,
  saveLines,
  shortcutModel,
  trainingScript,
  trainingScriptOpen,
  waitFor,
  withoutResults,
  workspaceUri,
} from './workspace';

describe('analyze the shortcut example model', () => {
  before(async () => {
    await withoutResults();
    await trainingScriptOpen();
  });

  let report: AnalysisReport | undefined;
  /** Date.now() once the first test's analysis returned: its result was checked by then. */
  let analysedBy = 0;
  /** The report of the first test; the later ones check what it changed. */
  const analysed = (): AnalysisReport => {
    if (!report) throw new Error('no report: memlens.analyze failed in the first test');
    return report;
  };

  it('returns a report of the model: its three hidden layers of 64 neurons on the probe set', async () => {
    report = await vscode.commands.executeCommand<AnalysisReport>(
      'memlens.analyze',
      shortcutModel(),
    );
    analysedBy = Date.now();
    assert.ok(report, 'memlens.analyze returned nothing');
    assert.equal(report.schema, 'memlens.report');
    const expected = denseLayers(shortcutModel());
    assert.deepEqual(
      expected.map((l) => l.units),
      [64, 64, 64],
    );
    assert.deepEqual(
      report.layers.map((l) => ({ name: l.name, units: l.neurons })),
      expected,
    );
    assert.equal(report.probe?.samples, npyRows(workspaceUri('models', 'probe.npy')));
    assert.ok(report.summary.entropy.median > 0 && report.summary.mi.median > 0);
  });

  it('turns the lens of the line saving models/shortcut into its result', async () => {
    const lines = saveLines();
    const h = analysed().summary.entropy.median.toFixed(2);
    const i = analysed().summary.mi.median.toFixed(2);
    assert.deepEqual(await memlensLenses(trainingScript()), [
      {
        line: lines.shortcut,
        title: `MemLens: H ${h} · I ${i} · heuristic memorization signature`,
      },
      { line: lines.generalising, title: ANALYZE_LENS },
    ]);
  });

  it('puts a memorization warning on that line, naming the signature and its evidence', async () => {
    analysed();
    const lines = saveLines();
    const warnings = await waitFor(
      'a MemLens warning in train.js',
      () => {
        const d = vscode.languages
          .getDiagnostics(trainingScript())
          .filter((x) => x.message.includes('memorization'));
        return d.length > 0 ? d : undefined;
      },
      [vscode.languages.onDidChangeDiagnostics],
    );
    assert.equal(warnings.length, 1);
    const [w] = warnings;
    assert.equal(w.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(w.range.start.line, lines.shortcut);
    assert.match(w.message, /heuristic memorization signature/);
    assert.match(w.message, /median H/);
    assert.match(w.message, /median I/);
  });

  it('offers a quick fix on the warning that opens the report', async () => {
    const warning = vscode.languages
      .getDiagnostics(trainingScript())
      .find((x) => x.message.includes('memorization'));
    assert.ok(warning, 'no memorization warning');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      trainingScript(),
      warning.range,
    );
    const open = actions.filter((a) => a.command?.command === 'memlens.openReport');
    assert.equal(open.length, 1, actions.map((a) => a.title).join('; '));
    assert.equal(open[0].title, 'MemLens: Open report');
  });

  it('marks the lens and the warning stale when the model is saved again, until it is analysed again', async () => {
    analysed();
    const lines = saveLines();
    // A training run saving the checkpoint again (same bytes: only the modification time moves).
    // A result is stale when the file is newer than the result's check; the file clock may lag
    // the wall clock by a tick, so it is saved until its time is past the check, by count.
    const bytes = await vscode.workspace.fs.readFile(shortcutModel());
    let saves = 0;
    do {
      await vscode.workspace.fs.writeFile(shortcutModel(), bytes);
      saves++;
    } while ((await vscode.workspace.fs.stat(shortcutModel())).mtime <= analysedBy);
    assert.ok(saves >= 1);
    const [lens] = await memlensLenses(trainingScript());
    assert.equal(lens.line, lines.shortcut);
    assert.ok(lens.title.endsWith(' · model saved since: analyze again'), lens.title);
    // The file watcher refreshes the warnings.
    await waitFor(
      'the stale warning',
      () =>
        vscode.languages
          .getDiagnostics(trainingScript())
          .find((d) => d.message.endsWith('(from an earlier save of the model: analyze it again)')),
      [vscode.languages.onDidChangeDiagnostics],
    );
    // Same content: the cached result, checked against the model now.
    await vscode.commands.executeCommand('memlens.analyze', shortcutModel());
    const [fresh] = await memlensLenses(trainingScript());
    assert.ok(!fresh.title.includes('saved since'), fresh.title);
  });
});
