/** Reads the `memlens.*` settings for a resource into job parameters. */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JobParams } from '../child/protocol';

const BACKENDS: JobParams['backend'][] = ['auto', 'wasm', 'cpu', 'onnx'];

/** The analysis parameters from the settings (the probe is resolved separately). */
export function readParams(scope: vscode.Uri | undefined): JobParams {
  const c = vscode.workspace.getConfiguration('memlens', scope);
  const int = (key: string, fallback: number, min: number): number => {
    const v = c.get<number>(key, fallback);
    return Number.isFinite(v) ? Math.max(min, Math.round(v)) : fallback;
  };
  const point = c.get<string>('point', 'preactivation');
  const binning = c.get<string>('binning', 'global');
  const estimator = c.get<string>('estimator', 'ksg');
  const target = c.get<string>('target', 'none');
  const backend = c.get<string>('backend', 'auto') as JobParams['backend'];
  const miNeurons = c.get<number | null>('miNeurons', null);
  const threads = int('threads', 0, 0);
  const input = c.get<string>('modelInput', '').trim();
  const factory = c.get<string>('torchFactory', '').trim();
  const folder =
    (scope && vscode.workspace.getWorkspaceFolder(scope)) ?? vscode.workspace.workspaceFolders?.[0];
  return {
    probe: null,
    samples: int('samples', 1000, 10),
    seed: int('seed', 0, 0),
    layers: c.get<string[]>('layers', []).filter((l) => typeof l === 'string' && l.trim() !== ''),
    point: point === 'output' ? 'output' : 'preactivation',
    bins: int('bins', 100, 2),
    binning: binning === 'layer' || binning === 'neuron' ? binning : 'global',
    k: int('k', 3, 1),
    estimator: estimator === 'mixed' ? 'mixed' : 'ksg',
    miNeurons: typeof miNeurons === 'number' && miNeurons >= 2 ? Math.round(miNeurons) : null,
    threads: threads > 0 ? threads : Math.max(1, os.availableParallelism() - 1),
    backend: BACKENDS.includes(backend) ? backend : 'auto',
    input: input === '' ? null : input,
    python: pythonSetting(c.get<string>('pythonPath', ''), scope),
    torchFactory: factory === '' ? null : factory,
    workspace: folder?.uri.fsPath ?? null,
    thresholds: {
      deltaEntropy: Math.max(0, c.get<number>('thresholds.deltaEntropy', 0.1)),
      miRatio: Math.max(1, c.get<number>('thresholds.miRatio', 1.5)),
      scaleRatio: Math.max(1, c.get<number>('thresholds.scaleRatio', 1.5)),
    },
    target: target === 'shortcut' || target === 'label-noise' ? target : null,
  };
}

/** `memlens.pythonPath`: a command on PATH (`python3.11`) as is, a path resolved; empty: null. */
function pythonSetting(value: string, scope: vscode.Uri | undefined): string | null {
  const raw = value.trim();
  if (raw === '') return null;
  return /[\\/~]/.test(raw) ? (resolveSettingPath(raw, scope) ?? null) : raw;
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

export function settingPath(
  key: 'probeData' | 'baseline',
  scope: vscode.Uri | undefined,
): string | undefined {
  return resolveSettingPath(
    vscode.workspace.getConfiguration('memlens', scope).get<string>(key, ''),
    scope,
  );
}
