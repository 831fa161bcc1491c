// A PyTorch state_dict analysed by the installed extension: torch/train.py saved
// torch/mlp_state.pt (scripts/e2e/run.sh ran it), the model is built by the factory
// memlens.torchFactory names (nets:Mlp, in torch/nets.py), and the child process runs it in the
// Python of memlens.pythonPath (the workspace's settings, set by run.sh). Set-up: the factory
// set, no baseline (the model is read alone; the browser test reads it against the workspace's
// baseline), and a folder of three copies of the checkpoint named like epochs; after() removes
// them.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { AnalysisReport, CompareReport } from '../../src/core/report/schema';
import { activated, workspaceUri, suiteSettings } from './workspace';

const FACTORY = 'nets:Mlp';
const EPOCHS = [1, 2, 10];

const torchModel = () => workspaceUri('torch', 'mlp_state.pt');
const epochsFolder = () => workspaceUri('torch', 'epochs');

/**
 * The nn.Linear modules of the Mlp class in torch/nets.py, in definition order, with their
 * output width, read from its source (`self.hidden1 = nn.Linear(128, 64)`), independently of
 * the extension.
 */
function linearModules(): { name: string; units: number }[] {
  const source = readFileSync(workspaceUri('torch', 'nets.py').fsPath, 'utf8');
  const found = [...source.matchAll(/self\.(\w+)\s*=\s*nn\.Linear\(\s*\d+\s*,\s*(\d+)\s*\)/g)];
  if (found.length < 2) throw new Error('torch/nets.py: expected at least two nn.Linear modules');
  return found.map((m) => ({ name: m[1], units: Number(m[2]) }));
}

describe('PyTorch state_dict in the extension', () => {
  const { set, restore } = suiteSettings();

  before(async () => {
    await activated();
    await set('baseline', '');
    await set('torchFactory', FACTORY);
    await vscode.workspace.fs.createDirectory(epochsFolder());
    // The factory's module is imported from the model's folder or the workspace folder: nets.py
    // sits in neither for torch/epochs/*.pt, and the workspace-relative name torch.nets would
    // import from the torch package. So the checkpoints keep a copy of their model code, as
    // runs that snapshot their code next to their checkpoints do.
    await vscode.workspace.fs.copy(
      workspaceUri('torch', 'nets.py'),
      vscode.Uri.joinPath(epochsFolder(), 'nets.py'),
      { overwrite: true },
    );
    for (const epoch of EPOCHS)
      await vscode.workspace.fs.copy(
        torchModel(),
        vscode.Uri.joinPath(epochsFolder(), `epoch_${epoch}.pt`),
        { overwrite: true },
      );
  });

  after(async () => {
    await restore();
    await vscode.workspace.fs.delete(epochsFolder(), { recursive: true, useTrash: false });
  });

  it(`analyses torch/mlp_state.pt built by ${FACTORY}: its Linear layers except the head`, async () => {
    const report = await vscode.commands.executeCommand<AnalysisReport>(
      'memlens.analyze',
      torchModel(),
    );
    assert.ok(report, 'memlens.analyze returned nothing');
    assert.equal(report.model.format, 'torch');
    assert.equal(report.model.path, torchModel().fsPath);
    const hidden = linearModules().slice(0, -1);
    assert.deepEqual(
      report.layers.map((l) => [l.name, l.neurons]),
      hidden.map((l) => [l.name, l.units]),
    );
  });

  it(`compares epoch_${EPOCHS.join('.pt, epoch_')}.pt in a folder: a trajectory over those steps`, async () => {
    const report = await vscode.commands.executeCommand<CompareReport>(
      'memlens.compare',
      epochsFolder(),
    );
    assert.ok(report, 'memlens.compare returned nothing');
    assert.equal(report.schema, 'memlens.compare');
    const failed = report.models.filter((m) => m.error !== undefined);
    assert.deepEqual(
      failed.map((m) => `${m.path}: ${m.error}`),
      [],
    );
    assert.equal(report.models.length, EPOCHS.length);
    assert.ok(report.trajectory, 'the compare has no trajectory');
    assert.deepEqual(
      report.trajectory.map((p) => p.step),
      EPOCHS,
    );
    assert.deepEqual(
      report.trajectory.map((p) => p.path),
      EPOCHS.map((e) => vscode.Uri.joinPath(epochsFolder(), `epoch_${e}.pt`).fsPath),
    );
  });
});
