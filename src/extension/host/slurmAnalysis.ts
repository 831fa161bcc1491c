/**
 * MemLens: Analyze on Slurm (extension host): for VS Code running on a cluster's login node
 * (Remote-SSH). Runs `memlens slurm analyze` (src/extension/child/slurmClient.ts) with the
 * model's settings and probe data, shows its shards' progress in a cancellable notification
 * (cancel: scancel), and opens the merged report.
 */
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CancelledError } from '../../core/errors';
import type { AnalysisReport } from '../../core/report/schema';
import { runSlurmCli } from '../child/slurmClient';
import { slurmArgs, slurmSettingsFrom } from '../logic/slurmJob';
import type { AnalysisService } from './analysisService';
import { settingPath } from './settings';

/** The context key of the menus and the palette: sbatch is on the PATH. */
export const SLURM_CONTEXT = 'memlens.slurmAvailable';

/** Whether an executable `name` is on the PATH of the extension host. */
export async function onPath(name: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    try {
      await fs.access(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/** A file name of the model's path, for the run's folder ("epoch-3-model.json"). */
function runName(model: string): string {
  const rel = vscode.workspace.asRelativePath(model, false);
  return rel.replace(/[^\w.-]+/g, '-').replace(/^-+/, '') || 'model';
}

/**
 * Analyses `uri` as a Slurm array job and returns the merged report (undefined when the
 * user dismissed a question or cancelled). The report is added to the results and shown by
 * the caller.
 */
export async function analyzeOnSlurm(
  service: AnalysisService,
  uri: vscode.Uri,
): Promise<AnalysisReport | undefined> {
  const params = await service.paramsWithProbe(uri);
  if (!params) return undefined;
  const c = vscode.workspace.getConfiguration('memlens', uri);
  const settings = slurmSettingsFrom((key) => c.get<unknown>(key));
  const workDir = settingPath('slurm.workDir', uri) ?? path.join(service.storageDir, 'slurm');
  await fs.mkdir(workDir, { recursive: true });
  const model = path.resolve(uri.fsPath);
  const out = path.join(workDir, `${runName(model)}.report.json`);
  const args = slurmArgs(model, params, settings, out);
  const label = vscode.workspace.asRelativePath(model);
  const title = `MemLens: Analyzing ${label} on Slurm (${settings.shards} shards)`;
  service.log.info(`${title}: memlens ${args.join(' ')}`);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort());
      let shown = 0;
      try {
        await runSlurmCli(service.cliScript, args, {
          cwd: params.workspace ?? path.dirname(model),
          shards: settings.shards,
          signal: controller.signal,
          onLog: (line) => service.log.info(`[slurm] ${line}`),
          onProgress: (p) => {
            const fraction = p.done === undefined ? shown : p.done / p.total;
            progress.report({
              message: p.done === undefined ? p.text : `${p.done}/${p.total} shards done`,
              increment: Math.max(0, 100 * (fraction - shown)),
            });
            shown = Math.max(shown, fraction);
          },
        });
        progress.report({ message: 'merged' });
        return JSON.parse(await fs.readFile(out, 'utf8')) as AnalysisReport;
      } catch (err) {
        if (err instanceof CancelledError) {
          service.log.info(`${title}: cancelled (scancel)`);
          void vscode.window.showInformationMessage(
            `MemLens: the Slurm analysis of ${label} was cancelled; its job is scancelled.`,
          );
          return undefined;
        }
        throw err;
      } finally {
        sub.dispose();
      }
    },
  );
}
