// Keras and ONNX models analysed by the installed extension: its child process reads the
// .keras with h5wasm and runs the .onnx in ONNX Runtime, both shipped in the .vsix.
import * as assert from 'node:assert/strict';
import { zipSync } from 'fflate';
import * as vscode from 'vscode';
import { encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import { encodeNpy } from '../../src/core/io/npy';
import type { AnalysisReport } from '../../src/core/report/schema';
import { randn } from '../fixtures/capture/helpers';
import { mlpModel } from '../fixtures/capture/onnxModels';
import { activated, waitFor, workspaceUri, suiteSettings } from './workspace';

describe('Keras and ONNX models in the extension', () => {
  const { set, restore } = suiteSettings();

  before(async () => {
    await activated();
    // The examples' baseline has another architecture: these models are read alone.
    await set('baseline', '');
  });

  after(async () => {
    await restore();
  });

  it('analyses a Keras 3 .keras whose backbone is a nested model, measuring the inner layers', async () => {
    await set('probeData', 'formats/probe.npy');
    const report = await vscode.commands.executeCommand<AnalysisReport>(
      'memlens.analyze',
      workspaceUri('formats', 'nested.keras'),
    );
    assert.ok(report, 'memlens.analyze returned nothing');
    assert.equal(report.model.format, 'keras');
    assert.equal(report.backend, 'wasm');
    assert.deepEqual(
      report.layers.map((l) => [l.name, l.neurons]),
      [
        ['fc1', 16],
        ['fc2', 8],
        ['side', 8],
      ],
    );
  });

  it('analyses a two-input ONNX model fed through the input memlens.modelInput names', async () => {
    const onnx = workspaceUri('formats', 'two-inputs.onnx');
    await vscode.workspace.fs.writeFile(onnx, encodeOnnxModel(mlpModel(true)));
    await vscode.workspace.fs.writeFile(
      workspaceUri('formats', 'onnx-probe.npy'),
      encodeNpy(randn(5, 50, 3), [50, 3]),
    );
    await set('probeData', 'formats/onnx-probe.npy');
    await set('modelInput', 'x');
    const report = await vscode.commands.executeCommand<AnalysisReport>('memlens.analyze', onnx);
    assert.ok(report, 'memlens.analyze returned nothing');
    assert.equal(report.model.format, 'onnx');
    assert.deepEqual(
      report.layers.map((l) => [l.name, l.neurons]),
      [
        ['/0/Gemm', 4],
        ['/2/Gemm', 2],
      ],
    );
    assert.equal(report.probe?.samples, 50);
  });

  it('runs a Keras model on the memlens.backend chosen, and a saved onnx (older versions) as auto', async () => {
    const keras = workspaceUri('formats', 'nested.keras');
    await set('probeData', 'formats/probe.npy');
    await set('modelInput', '');
    await set('backend', 'cpu');
    const cpu = await vscode.commands.executeCommand<AnalysisReport>('memlens.analyze', keras);
    assert.equal(cpu?.backend, 'cpu');
    // No longer offered, but still in settings.json: analysed as auto (wasm), not refused.
    await set('backend', 'onnx');
    const old = await vscode.commands.executeCommand<AnalysisReport>('memlens.analyze', keras);
    assert.equal(old?.backend, 'wasm');
  });

  // What the viewer shows is tested at unit level (test/unit/modelViewer*.test.ts): here, that
  // VS Code opens these files in it by default.
  it('opens an .onnx and an .npz in the MemLens model viewer by default', async () => {
    const onnx = workspaceUri('formats', 'viewer.onnx');
    await vscode.workspace.fs.writeFile(onnx, encodeOnnxModel(mlpModel(false)));
    const npz = workspaceUri('formats', 'viewer-acts.npz');
    await vscode.workspace.fs.writeFile(
      npz,
      zipSync({ 'dense.npy': encodeNpy(randn(7, 20, 4), [20, 4]) }),
    );
    for (const file of [onnx, npz]) {
      await vscode.commands.executeCommand('vscode.open', file);
      const tab = await waitFor(
        `the tab of ${file.fsPath}`,
        () => {
          const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
          return input instanceof vscode.TabInputCustom && input.uri.fsPath === file.fsPath
            ? input
            : undefined;
        },
        [vscode.window.tabGroups.onDidChangeTabs],
        10_000,
      );
      assert.equal(tab.viewType, 'memlens.modelFile');
    }
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
