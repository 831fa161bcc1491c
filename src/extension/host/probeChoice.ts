/**
 * Which probe data a model is analysed on, and the picker that chooses it. A choice is kept
 * in the workspace state for a model, a folder or the whole workspace (probeScopes.ts
 * resolves them, with the `memlens.probeData` setting between the folders and the workspace).
 * The picker shows each candidate file's shape, whether it fits the model's input and a
 * warning about its values, computed in the analysis child (`job/probeFit`): files are never
 * parsed in the extension host.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProbeCandidate, ProbeFitJob, ProbeFitResult } from '../child/protocol';
import { MAX_PROBE_CANDIDATES } from '../child/protocol';
import type { ProbeScopes } from '../logic/probeScopes';
import { resolveProbe, scopeKey, withScope } from '../logic/probeScopes';
import { readParams, settingPath } from './settings';

/** The workspace-wide choice (the key of the single probe before per-model choices). */
const WORKSPACE_KEY = 'memlens.probeData';
/** Per workspace folder (its URI): scope -> probe. */
const SCOPES_KEY = 'memlens.probeScopes';
/** Files the picker lists. */
const CANDIDATE_GLOB = '**/*.{npy,npz,csv}';
const EXCLUDE_GLOB = '**/{node_modules,.git,dist,out}/**';
const MAX_LISTED = 50;

/** Runs a probeFit job in an analysis child. */
export type ProbeFitRunner = (job: ProbeFitJob, signal: AbortSignal) => Promise<ProbeFitResult>;

/** Where a choice applies: a model file, a folder, or the workspace. */
export type ProbeScope = vscode.Uri | 'workspace';

type Item = vscode.QuickPickItem & {
  action: 'path' | 'file' | 'folder';
  fsPath?: string;
  fits?: boolean | null;
};

export class ProbeChoice {
  /** Probe versions (path, size, mtime) already warned about in this session. */
  private readonly warned = new Set<string>();
  /** The one-line message of the latest analysis refused because its probe did not fit. */
  lastMisfit: string | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly runFit: ProbeFitRunner,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  private scopesOf(folder: vscode.WorkspaceFolder): ProbeScopes {
    const all = this.context.workspaceState.get<Record<string, ProbeScopes>>(SCOPES_KEY) ?? {};
    return all[folder.uri.toString()] ?? {};
  }

  /**
   * The probe data for a model (or folder): its own choice, the nearest enclosing folder's,
   * the `memlens.probeData` setting, the workspace's choice; undefined when none is set.
   */
  probeFor(scope: vscode.Uri | undefined): string | undefined {
    const folder = scope && vscode.workspace.getWorkspaceFolder(scope);
    const workspace = this.context.workspaceState.get<string>(WORKSPACE_KEY) || undefined;
    const resolved = resolveProbe(
      folder ? this.scopesOf(folder) : {},
      folder && scope ? path.relative(folder.uri.fsPath, scope.fsPath) : undefined,
      settingPath('probeData', scope),
      workspace,
    );
    if (!resolved) return undefined;
    // Kept relative to the workspace folder when inside it, so a moved workspace keeps them.
    return folder && (resolved.from === 'model' || resolved.from === 'folder')
      ? path.resolve(folder.uri.fsPath, resolved.probe)
      : resolved.probe;
  }

  /**
   * Remembers `probe` for a model, a folder or the workspace (undefined: forgets that scope's
   * choice). A model or folder outside every workspace folder falls back to the workspace.
   */
  async remember(probe: string | undefined, scope: ProbeScope): Promise<void> {
    const folder = scope === 'workspace' ? undefined : vscode.workspace.getWorkspaceFolder(scope);
    if (!folder || scope === 'workspace') {
      await this.context.workspaceState.update(WORKSPACE_KEY, probe);
      this.log.info(`probe data for this workspace: ${probe ?? '(none)'}`);
      return;
    }
    const key = scopeKey(path.relative(folder.uri.fsPath, scope.fsPath));
    const inside = probe !== undefined && isInside(folder.uri.fsPath, probe);
    const stored = probe === undefined || !inside ? probe : path.relative(folder.uri.fsPath, probe);
    const all = this.context.workspaceState.get<Record<string, ProbeScopes>>(SCOPES_KEY) ?? {};
    await this.context.workspaceState.update(SCOPES_KEY, {
      ...all,
      [folder.uri.toString()]: withScope(this.scopesOf(folder), key, stored),
    });
    this.log.info(`probe data for ${key || folder.name}: ${probe ?? '(default)'}`);
  }

  /** Asks where a choice made on `model` applies; undefined when dismissed. */
  async askScope(model: vscode.Uri): Promise<ProbeScope | undefined> {
    const name = vscode.workspace.asRelativePath(model);
    const dir = vscode.Uri.file(path.dirname(model.fsPath));
    const items: (vscode.QuickPickItem & { scope: ProbeScope })[] = [
      { label: 'For this model', description: name, scope: model },
      { label: 'For this folder', description: vscode.workspace.asRelativePath(dir), scope: dir },
      {
        label: 'For the workspace',
        description: 'every model without a choice of its own',
        scope: 'workspace',
      },
    ];
    const pick = await vscode.window.showQuickPick(items, {
      title: 'MemLens: Select Probe Data',
      placeHolder: `Where the probe data chosen for ${name} applies`,
    });
    return pick?.scope;
  }

  /**
   * The picker: the workspace's .npy, .npz and .csv files (dumps left out) with their shape
   * and, given a model, whether they fit its input (those that fit first), or any file or
   * folder. The previews arrive while the picker is open; closing it stops them.
   */
  async pick(
    model?: vscode.Uri,
    title = 'MemLens: Select Probe Data',
  ): Promise<string | undefined> {
    const found = (await vscode.workspace.findFiles(CANDIDATE_GLOB, EXCLUDE_GLOB, MAX_LISTED))
      .map((u) => u.fsPath)
      .filter((p) => !/activations|dump/i.test(p));
    const current = this.probeFor(model);
    const candidates = [...new Set(current ? [current, ...found] : found)].slice(
      0,
      MAX_PROBE_CANDIDATES,
    );
    const browse: Item[] = [
      { label: '$(folder-opened) Browse for a file…', action: 'file' },
      { label: '$(file-media) Browse for a folder of images…', action: 'folder' },
    ];
    const fileItem = (p: string, c?: ProbeCandidate): Item => ({
      label: `$(file) ${vscode.workspace.asRelativePath(p)}`,
      description: [c ? shapeText(c) : '', p === current ? '(current)' : '']
        .filter(Boolean)
        .join(' '),
      detail: c
        ? [c.fits === null ? c.why : fitText(c), c.warning].filter(Boolean).join(' · ')
        : undefined,
      action: 'path',
      fsPath: p,
      fits: c?.fits,
    });
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = title;
    qp.placeholder =
      'Unlabelled in-distribution inputs the models are run on (.npy, .npz, .csv or images)';
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    qp.items = [...candidates.map((p) => fileItem(p)), ...browse];
    const controller = new AbortController();
    if (candidates.length > 0) {
      qp.busy = true;
      const isModel = model !== undefined && !/\.(npy|npz|csv)$/i.test(model.fsPath);
      this.runFit(
        {
          type: 'job/probeFit',
          model: isModel ? model.fsPath : null,
          candidates,
          params: readParams(model),
        },
        controller.signal,
      ).then(
        (result) => {
          if (result.modelNote) this.log.info(`probe picker: ${result.modelNote}`);
          const rank = (c: ProbeCandidate): number =>
            c.fits === true ? 0 : c.fits === null ? 1 : 2;
          const sorted = [...result.candidates].sort((a, b) => rank(a) - rank(b));
          qp.items = [...sorted.map((c) => fileItem(c.path, c)), ...browse];
          qp.busy = false;
        },
        (err: unknown) => {
          if (!controller.signal.aborted) this.log.warn(`probe picker: ${String(err)}`);
          qp.busy = false;
        },
      );
    }
    const pick = await new Promise<Item | undefined>((resolve) => {
      qp.onDidAccept(() => resolve(qp.selectedItems[0]));
      qp.onDidHide(() => resolve(undefined));
      qp.show();
    });
    controller.abort();
    qp.dispose();
    if (!pick) return undefined;
    if (pick.action === 'path') return pick.fsPath;
    const chosen = await vscode.window.showOpenDialog({
      canSelectFiles: pick.action === 'file',
      canSelectFolders: pick.action === 'folder',
      canSelectMany: false,
      openLabel: 'Use as Probe Data',
      filters: pick.action === 'file' ? { 'Probe data': ['npy', 'npz', 'csv'] } : undefined,
    });
    return chosen?.[0]?.fsPath;
  }

  /**
   * A non-modal warning when an analysis starts on integer-valued or constant probe data,
   * once per version of the file in a session; computed in the background (the analysis does
   * not wait).
   */
  async warnAbout(probe: string): Promise<void> {
    const stat = await fs.stat(probe).catch(() => undefined);
    if (!stat?.isFile()) return;
    const version = `${probe}|${stat.size}|${stat.mtimeMs}`;
    if (this.warned.has(version)) return;
    this.warned.add(version);
    try {
      const result = await this.runFit(
        { type: 'job/probeFit', model: null, candidates: [probe], params: readParams(undefined) },
        new AbortController().signal,
      );
      const warning = result.candidates[0]?.warning;
      if (!warning) return;
      this.log.warn(warning);
      void vscode.window.showWarningMessage(`MemLens: ${warning}`);
    } catch (err) {
      this.log.warn(`probe check: ${String(err)}`);
    }
  }

  /**
   * An analysis refused its probe (the engine's misfit error): the error, with a button that
   * opens the picker for that model, remembers the choice for it and calls `retry`.
   */
  offerOnMisfit(model: vscode.Uri, message: string, retry: () => void): void {
    this.lastMisfit = message;
    this.log.warn(message);
    void vscode.window
      .showErrorMessage(`MemLens: ${message}`, 'Select Probe Data')
      .then(async (choice) => {
        if (choice !== 'Select Probe Data') return;
        const name = vscode.workspace.asRelativePath(model);
        const probe = await this.pick(model, `MemLens: Select Probe Data for ${name}`);
        if (!probe) return;
        await this.remember(probe, model);
        retry();
      });
  }
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** `1000 × 784 float32`; a CSV's numbers without a dtype. */
function shapeText(c: ProbeCandidate): string {
  if (c.shape === null) return '';
  const dims = c.shape.join(' × ');
  return c.dtype === null || c.dtype === 'text' ? dims : `${dims} ${c.dtype}`;
}

/** `$(check) fits [784]` or `$(error) does not fit: ...`. */
function fitText(c: ProbeCandidate): string {
  return `${c.fits ? '$(check)' : '$(error)'} ${c.why}`;
}
