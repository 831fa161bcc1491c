/** Reads the `memlens.*` settings for a resource into job parameters. */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JobParams } from '../child/protocol';
import type { PathSettingKey } from '../logic/jobSettings';
import { jobParamsFromSettings } from '../logic/jobSettings';

/** The analysis parameters from the settings (the probe is resolved separately). */
export function readParams(scope: vscode.Uri | undefined): JobParams {
  const c = vscode.workspace.getConfiguration('memlens', scope);
  const folder =
    (scope && vscode.workspace.getWorkspaceFolder(scope)) ?? vscode.workspace.workspaceFolders?.[0];
  return jobParamsFromSettings((key) => c.get<unknown>(key), {
    cores: os.availableParallelism(),
    workspace: folder?.uri.fsPath ?? null,
    resolvePython: (value) => pythonSetting(value, scope),
  });
}

/** `memlens.pythonPath`: a command on PATH (`python3.11`) as is, a path resolved. */
function pythonSetting(value: string, scope: vscode.Uri | undefined): string | null {
  return /[\\/~]/.test(value) ? (resolveSettingPath(value, scope) ?? null) : value;
}

/**
 * A path from a setting: `${workspaceFolder}` substituted, `~` expanded, relative paths
 * against the workspace folder of `scope` (else the first one). Empty -> undefined.
 */
export function resolveSettingPath(
  value: string | undefined,
  scope: vscode.Uri | undefined,
): string | undefined {
  const raw = value?.trim();
  if (!raw) return undefined;
  const folder =
    (scope && vscode.workspace.getWorkspaceFolder(scope)) ?? vscode.workspace.workspaceFolders?.[0];
  let p = raw.replace(/\$\{workspaceFolder\}/g, folder?.uri.fsPath ?? '');
  if (p === '~' || p.startsWith('~/')) p = path.join(os.homedir(), p.slice(1));
  if (!path.isAbsolute(p)) p = path.join(folder?.uri.fsPath ?? process.cwd(), p);
  return path.normalize(p);
}

/** A setting naming a file (`memlens.probeData`, `memlens.baseline`), resolved; unset: undefined. */
export function settingPath(
  key: PathSettingKey,
  scope: vscode.Uri | undefined,
): string | undefined {
  return resolveSettingPath(
    vscode.workspace.getConfiguration('memlens', scope).get<string>(key, ''),
    scope,
  );
}
