// MemLens: Analyze on Slurm in the real extension host, against a real one-node Slurm cluster
// on localhost (scripts/slurmLocal.sh, which run.sh names in MEMLENS_E2E_SLURM_SCRIPT; needs
// root and Debian's slurm-wlm): the shortcut model's analysis as a 2-shard array job, its
// measures equal to those of memlens.analyze on the same settings, and its report opened.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../../src/core/report/schema';
import { denseLayers, shortcutModel, suiteSettings } from './workspace';

const script = process.env.MEMLENS_E2E_SLURM_SCRIPT ?? '';
const canRun =
  script !== '' &&
  process.getuid?.() === 0 &&
  ['slurmctld', 'slurmd', 'munged'].every((b) => existsSync(`/usr/sbin/${b}`));

(canRun ? describe : describe.skip)('analyze on Slurm', () => {
  const cluster = mkdtempSync(path.join(os.tmpdir(), 'memlens-e2e-slurm-'));
  const settings = suiteSettings();
  const conf = process.env.SLURM_CONF;

  before(async () => {
    const started = spawnSync('bash', [script, 'start', cluster], { encoding: 'utf8' });
    assert.equal(started.status, 0, started.stderr);
    // The extension host's environment is what the CLI and sbatch inherit.
    process.env.SLURM_CONF = path.join(cluster, 'slurm.conf');
    // The measures must not depend on the route: no baseline (a Slurm run reads the model
    // alone), every MI pair (no budget plan, which uses a different kernel rate per route).
    await settings.set('baseline', '');
    await settings.set('miBudget', 0);
    await settings.set('slurm.shards', 2);
    await settings.set('slurm.cpus', 1);
    await settings.set('slurm.time', '5:00');
  });

  after(async () => {
    await settings.restore();
    if (conf === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = conf;
    spawnSync('bash', [script, 'stop', cluster]);
  });

  it('returns the merged report, with the measures of memlens.analyze', async () => {
    const slurm = await vscode.commands.executeCommand<AnalysisReport>(
      'memlens.analyzeOnSlurm',
      shortcutModel(),
    );
    assert.ok(slurm, 'memlens.analyzeOnSlurm returned nothing');
    assert.equal(slurm.schema, 'memlens.report');
    assert.deepEqual(
      slurm.layers.map((l) => ({ name: l.name, units: l.neurons })),
      denseLayers(shortcutModel()),
    );
    const local = await vscode.commands.executeCommand<AnalysisReport>(
      'memlens.analyze',
      shortcutModel(),
    );
    assert.ok(local, 'memlens.analyze returned nothing');
    assert.deepEqual(
      slurm.layers.map((l) => [l.entropies, l.mi]),
      local.layers.map((l) => [l.entropies, l.mi]),
    );
    assert.deepEqual(slurm.summary.mi, local.summary.mi);
    // The merged report was opened in the report panel.
    const reportTabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter(
        (t) =>
          t.input instanceof vscode.TabInputWebview && /memlens\.report/.test(t.input.viewType),
      );
    assert.ok(reportTabs.length > 0, 'a report panel is open');
  });
});
