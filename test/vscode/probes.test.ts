// Probe data per model or folder through memlens.selectProbe with a scope, resolved as an
// analysis would (the extension's probeFor), and an analysis whose probe does not fit its
// model failing with the engine's one-line error. The workspace setting memlens.probeData
// (models/probe.npy, 600 x 128) is the default the choices override. Set-up: none of this
// suite's choices is kept (after() forgets them), so the other suites see the setting alone.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activated, workspaceUri } from './workspace';

interface ProbesApi {
  probeFor(uri: vscode.Uri): string | undefined;
  lastProbeMisfit(): string | undefined;
}

describe('probe data per model or folder', () => {
  let api: ProbesApi;
  const conv = () => workspaceUri('formats', 'conv.keras');
  const gru = () => workspaceUri('formats', 'gru.keras');
  const formats = () => workspaceUri('formats');
  const select = (probe: vscode.Uri | undefined, options: object) =>
    vscode.commands.executeCommand<string | undefined>('memlens.selectProbe', probe, options);

  before(async () => {
    api = (await activated()).exports as ProbesApi;
  });

  after(async () => {
    await select(undefined, { scope: conv(), forget: true });
    await select(undefined, { scope: formats(), forget: true });
  });

  it('without a choice, a model gets the workspace setting', () => {
    assert.equal(api.probeFor(conv()), workspaceUri('models', 'probe.npy').fsPath);
  });

  it('a probe chosen for one model is that model’s, and only its', async () => {
    const probe = workspaceUri('formats', 'conv-probe.npy');
    assert.equal(await select(probe, { scope: conv() }), probe.fsPath);
    assert.equal(api.probeFor(conv()), probe.fsPath);
    assert.equal(api.probeFor(gru()), workspaceUri('models', 'probe.npy').fsPath);
  });

  it('a folder’s choice applies to its other models; the model’s own still wins', async () => {
    const probe = workspaceUri('formats', 'gru-probe.npy');
    assert.equal(await select(probe, { scope: formats() }), probe.fsPath);
    assert.equal(api.probeFor(gru()), probe.fsPath);
    assert.equal(api.probeFor(conv()), workspaceUri('formats', 'conv-probe.npy').fsPath);
    assert.equal(
      api.probeFor(workspaceUri('models', 'shortcut', 'model.json')),
      workspaceUri('models', 'probe.npy').fsPath,
    );
    await select(undefined, { scope: formats(), forget: true });
    assert.equal(api.probeFor(gru()), workspaceUri('models', 'probe.npy').fsPath);
  });

  it('analysing a model with a probe that does not fit fails with the one-line error', async () => {
    // models/probe.npy holds 128 values per example; conv.keras takes 8 x 8 x 1 = 64.
    const digits = workspaceUri('models', 'probe.npy');
    await select(digits, { scope: conv() });
    const report = await vscode.commands.executeCommand('memlens.analyze', conv());
    assert.equal(report, undefined);
    const message = api.lastProbeMisfit() ?? '';
    assert.equal(
      message,
      `${digits.fsPath}: probe does not fit the model: expected examples of shape [8, 8, 1], found [128] (probe shape [600, 128])`,
    );
  });

  it('a compare where the probe does not fit a model offers other probe data too', async () => {
    // gru.keras's own probe (its choice above was forgotten: the folder's) and conv.keras,
    // which that probe does not fit: the compare reads what it can, and names the misfit.
    const gruProbe = workspaceUri('formats', 'gru-probe.npy');
    await select(gruProbe, { scope: gru() });
    await select(undefined, { scope: conv(), forget: true });
    const before = api.lastProbeMisfit();
    const report = await vscode.commands.executeCommand<{ models: { error?: string }[] }>(
      'memlens.compare',
      gru(),
      [gru(), conv()],
    );
    const message = api.lastProbeMisfit() ?? '';
    assert.notEqual(message, before);
    assert.match(
      message,
      /gru-probe\.npy: probe does not fit the model: expected examples of shape \[8, 8, 1\]/,
    );
    if (report) assert.ok(report.models.some((m) => m.error === message));
  });
});
