/**
 * The commands, built from one table of factories `(ctx) => handler`. Every command accepts
 * its target as a vscode.Uri or a path string (command links, tests), works without UI when
 * given its arguments, and returns what it produced so tests can check it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import type { AnalysisReport, CompareReport } from '../../core/report/schema';
import type { AnalysisService } from './analysisService';
import { clearCachedResults } from './clearResults';
import { exportReport } from './exportReport';
import { analyzeOnSlurm } from './slurmAnalysis';
import type { ReportPanels } from './reportPanel';
import { analysisReportId, compareReportId } from './webviewContent';
import { isAnalysableFile, markerFiles, modelDialogFilters } from '../logic/modelFileNames';
import type { MeasuredModel } from '../logic/referenceCandidates';
import { layerShape, referenceCandidates } from '../logic/referenceCandidates';
import { COHORT_REFERENCE } from '../../core/report/schema';

export interface CommandContext {
  service: AnalysisService;
  panels: ReportPanels;
}

type Handler = (...args: unknown[]) => unknown;

/** Files read as probe data when given to Select Probe Data (not models to choose one for). */
const PROBE_FILE = /\.(npy|npz|csv|tsv|jsonl|ndjson)$/i;

/** A command's target: a Uri, a path or URI string, or an item of the models tree (its model). */
function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg.length > 0)
    return path.isAbsolute(arg) ? vscode.Uri.file(arg) : vscode.Uri.parse(arg);
  const modelPath = (arg as { modelPath?: unknown } | null)?.modelPath;
  if (typeof arg === 'object' && typeof modelPath === 'string') return vscode.Uri.file(modelPath);
  return undefined;
}

function toUris(arg: unknown): vscode.Uri[] {
  return Array.isArray(arg) ? arg.map(toUri).filter((u): u is vscode.Uri => u !== undefined) : [];
}

/** The model in the active editor (a model viewer tab or a text editor on model.json). */
function activeModel(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri =
    input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText
      ? input.uri
      : undefined;
  return uri && isAnalysableFile(uri.fsPath) ? uri : undefined;
}

async function pickModel(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Analyze',
    filters: modelDialogFilters(true),
  });
  return picked?.[0];
}

/** Reads a saved report file (memlens analyze --out / compare --out), or undefined when it is not one. */
async function readReportFile(file: string): Promise<AnalysisReport | CompareReport | undefined> {
  if (path.extname(file).toLowerCase() !== '.json' || isAnalysableFile(file)) return undefined;
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as { schema?: unknown };
    return parsed.schema === 'memlens.report' || parsed.schema === 'memlens.compare'
      ? (parsed as AnalysisReport | CompareReport)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The report id for a target: the report of a model's current result (its analysis, or the
 * compare it came from), or with no target the active panel's report, else a pick.
 */
async function reportIdFor(
  ctx: CommandContext,
  target: vscode.Uri | undefined,
): Promise<string | undefined> {
  const { store } = ctx.service;
  await store.whenLoaded();
  if (!target) {
    if (ctx.panels.activeReportId) return ctx.panels.activeReportId;
    const entries = store.entries();
    if (entries.length === 0) return undefined;
    const pick = await vscode.window.showQuickPick(
      entries.map((e) => ({
        label: vscode.workspace.asRelativePath(e.modelPath),
        description: e.signature?.kind ?? '',
        entry: e,
      })),
      { title: 'MemLens: Open Report', placeHolder: 'An analysed model' },
    );
    if (!pick) return undefined;
    target = vscode.Uri.file(pick.entry.modelPath);
  }
  let modelPath = target.fsPath;
  // A model folder's results are kept under its marker file (model.json).
  if (!store.latest(modelPath))
    modelPath = markerFiles(modelPath).find((m) => store.latest(m)) ?? modelPath;
  const entry = store.latest(modelPath);
  if (!entry) return undefined;
  // The current result's own report: the compare it came from, else its analysis.
  if (entry.context.kind === 'compare' && entry.compareKey)
    return compareReportId(entry.compareKey);
  if (entry.key) return analysisReportId(entry.key);
  return entry.compareKey ? compareReportId(entry.compareKey) : undefined;
}

/** The analysed models with their measured layers (from their stored reports). */
async function measuredModels(ctx: CommandContext): Promise<MeasuredModel[]> {
  const { store } = ctx.service;
  await store.whenLoaded();
  const out: MeasuredModel[] = [];
  for (const e of store.entries()) {
    const report = e.key ? await store.report(e.key) : undefined;
    if (report)
      out.push({
        modelPath: e.modelPath,
        analysedAt: e.analysedAt,
        layers: report.layers.map((l) => [l.name, l.neurons]),
      });
  }
  return out;
}

/**
 * Lets the user pick a reference for `target`: the analysed models of its architecture, or
 * any model file. Undefined when dismissed.
 */
async function pickReference(
  ctx: CommandContext,
  target: vscode.Uri,
): Promise<vscode.Uri | undefined> {
  const models = await measuredModels(ctx);
  const own =
    models.find((m) => m.modelPath === target.fsPath) ??
    models.find((m) => path.dirname(m.modelPath) === target.fsPath);
  const candidates = referenceCandidates(target.fsPath, own?.layers ?? null, models);
  type Item = vscode.QuickPickItem & { uri?: vscode.Uri };
  const items: Item[] = candidates.map((c) => ({
    label: vscode.workspace.asRelativePath(c.modelPath),
    description: layerShape(c.layers),
    uri: vscode.Uri.file(c.modelPath),
  }));
  items.push({ label: '$(folder-opened) Browse for a model…' });
  const name = vscode.workspace.asRelativePath(target);
  const pick = await vscode.window.showQuickPick(items, {
    title: `MemLens: Compare ${name} with…`,
    placeHolder: own
      ? `The reference: a model of the same architecture (${layerShape(own.layers)})`
      : 'The reference: a model of the same architecture (analysed models are listed)',
    matchOnDescription: true,
  });
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  return (
    await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Use as Reference',
      filters: modelDialogFilters(false),
    })
  )?.[0];
}

/** The compare a command acts on: the active panel's, else the latest. */
async function currentCompare(
  ctx: CommandContext,
): Promise<{ id: string; report: CompareReport } | undefined> {
  const { store } = ctx.service;
  await store.whenLoaded();
  const active = ctx.panels.activeReportId;
  const key =
    active !== undefined && active.startsWith(compareReportId(''))
      ? active.slice(compareReportId('').length)
      : store.latestCompare()?.key;
  const report = key === undefined ? undefined : await store.compareReport(key);
  return report && key !== undefined ? { id: compareReportId(key), report } : undefined;
}

/** The model of the active report panel, when it shows an analysis. */
async function activeReportModel(ctx: CommandContext): Promise<vscode.Uri | undefined> {
  const active = ctx.panels.activeReportId;
  const prefix = analysisReportId('');
  if (active === undefined || !active.startsWith(prefix)) return undefined;
  await ctx.service.store.whenLoaded();
  const key = active.slice(prefix.length);
  const entry = ctx.service.store.entries().find((e) => e.key === key);
  return entry ? vscode.Uri.file(entry.modelPath) : undefined;
}

/** Opens a report's panel; a failure is shown, and does not lose the result already computed. */
async function showPanel(ctx: CommandContext, reportId: string): Promise<void> {
  try {
    await ctx.panels.show(reportId);
  } catch (err) {
    ctx.service.report(err);
  }
}

/**
 * Analysis parses model files with native readers, so an untrusted workspace gets an
 * explanation and a way to trust it instead of a silently disabled command.
 */
async function requireTrust(): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const manage = 'Manage Workspace Trust';
  const choice = await vscode.window.showWarningMessage(
    'MemLens analyses models only in a trusted workspace: it parses model files with native readers (ONNX Runtime, HDF5).',
    manage,
  );
  if (choice === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

export const COMMANDS: Record<string, (ctx: CommandContext) => Handler> = {
  /** (target?: Uri | string) => AnalysisReport | undefined. Opens the report panel. */
  'memlens.analyze': (ctx) => async (arg?: unknown) => {
    if (!(await requireTrust())) return undefined;
    const uri = toUri(arg) ?? activeModel() ?? (await pickModel());
    if (!uri) return undefined;
    const result = await ctx.service.analyze(uri);
    if (!result) return undefined;
    await showPanel(ctx, analysisReportId(result.key));
    return result.report;
  },

  /**
   * (target?: model) => AnalysisReport | undefined. Analyses again with no MI time budget: every
   * pair, however long (the target, else the active editor's or report panel's model).
   */
  'memlens.analyzeAllPairs': (ctx) => async (arg?: unknown) => {
    if (!(await requireTrust())) return undefined;
    const uri =
      toUri(arg) ?? activeModel() ?? (await activeReportModel(ctx)) ?? (await pickModel());
    if (!uri) return undefined;
    const result = await ctx.service.analyze(uri, { miBudget: 0 });
    if (!result) return undefined;
    await showPanel(ctx, analysisReportId(result.key));
    return result.report;
  },

  /**
   * (target?: model) => AnalysisReport | undefined. Analyses as a Slurm array job (VS Code on
   * a cluster's login node): memlens.slurm.* settings, cancel scancels; opens the report.
   */
  'memlens.analyzeOnSlurm': (ctx) => async (arg?: unknown) => {
    if (!(await requireTrust())) return undefined;
    const uri = toUri(arg) ?? activeModel() ?? (await pickModel());
    if (!uri) return undefined;
    try {
      const report = await analyzeOnSlurm(ctx.service, uri);
      if (!report) return undefined;
      await showPanel(ctx, await ctx.service.importReport(report));
      return report;
    } catch (err) {
      ctx.service.report(err);
      return undefined;
    }
  },

  /** (clicked?: Uri, selection?: Uri[]) => CompareReport | undefined. A folder means its checkpoints. */
  'memlens.compare': (ctx) => async (arg?: unknown, selection?: unknown) => {
    if (!(await requireTrust())) return undefined;
    let uris = toUris(selection);
    if (uris.length < 2) uris = toUris(arg).length ? toUris(arg) : toUri(arg) ? [toUri(arg)!] : [];
    if (uris.length === 0) {
      uris =
        (await vscode.window.showOpenDialog({
          canSelectMany: true,
          openLabel: 'Compare',
          filters: modelDialogFilters(false),
        })) ?? [];
    }
    if (uris.length === 0) return undefined;
    if (
      uris.length === 1 &&
      !(await fs.stat(uris[0].fsPath).catch(() => undefined))?.isDirectory()
    ) {
      ctx.service.report(
        new UserError(
          `${uris[0].fsPath}: expected several models or a folder of checkpoints to compare, found one model`,
        ),
      );
      return undefined;
    }
    const result = await ctx.service.compare(uris);
    if (!result) return undefined;
    await showPanel(ctx, compareReportId(result.key));
    return result.report;
  },

  /**
   * (target?: model, reference?: model) => CompareReport | undefined. Compares the model with
   * a reference picked among the analysed models of its architecture.
   */
  'memlens.compareWith': (ctx) => async (arg?: unknown, ref?: unknown) => {
    if (!(await requireTrust())) return undefined;
    const target = toUri(arg) ?? activeModel() ?? (await pickModel());
    if (!target) return undefined;
    const reference = toUri(ref) ?? (await pickReference(ctx, target));
    if (!reference) return undefined;
    const result = await ctx.service.compare([reference, target], reference.fsPath);
    if (!result) return undefined;
    await showPanel(ctx, compareReportId(result.key));
    return result.report;
  },

  /** (target?: model) => the memlens.baseline value set, or undefined. */
  'memlens.useAsBaseline': () => async (arg?: unknown) => {
    const target = toUri(arg) ?? activeModel() ?? (await pickModel());
    if (!target) return undefined;
    const folder = vscode.workspace.getWorkspaceFolder(target);
    const value = folder ? vscode.workspace.asRelativePath(target, false) : target.fsPath;
    await vscode.workspace
      .getConfiguration('memlens', target)
      .update(
        'baseline',
        value,
        folder ? vscode.ConfigurationTarget.WorkspaceFolder : vscode.ConfigurationTarget.Global,
      );
    void vscode.window.showInformationMessage(
      `MemLens: ${value} is the baseline: analyses read their signature against it, and compares that include it use it as the reference.`,
    );
    return value;
  },

  /**
   * (reference?: model path | 'cohort') => CompareReport | undefined. Compares the current
   * comparison's models again against another of them (a trajectory's checkpoint) or the
   * cohort median; the models' measurements are reused, so only the reading is computed.
   */
  'memlens.chooseReference': (ctx) => async (ref?: unknown) => {
    if (!(await requireTrust())) return undefined;
    const current = await currentCompare(ctx);
    if (!current) {
      void vscode.window.showInformationMessage(
        'MemLens: no comparison yet. Compare models first (MemLens: Compare Models).',
      );
      return undefined;
    }
    const { report } = current;
    let reference = typeof ref === 'string' ? ref : toUri(ref)?.fsPath;
    if (reference === undefined) {
      type Item = vscode.QuickPickItem & { reference: string };
      const items: Item[] = report.models
        .filter((m) => m.error === undefined && m.notComparable === undefined)
        .map((m) => ({
          label: vscode.workspace.asRelativePath(m.path),
          description: m.path === report.reference.path ? 'the current reference' : '',
          reference: m.path,
        }));
      items.push({
        label: 'The cohort median',
        description:
          report.reference.mode === 'cohort'
            ? 'the current reference'
            : 'each model against the other models pooled',
        reference: COHORT_REFERENCE,
      });
      const pick = await vscode.window.showQuickPick(items, {
        title: 'MemLens: Choose the Reference',
        placeHolder: `Signatures are read against it (now: ${report.reference.label ?? report.reference.mode})`,
      });
      if (!pick) return undefined;
      reference = pick.reference;
    }
    const uris = report.models.map((m) => vscode.Uri.file(m.path));
    const result = await ctx.service.compare(uris, reference);
    if (!result) return undefined;
    await showPanel(ctx, compareReportId(result.key));
    return result.report;
  },

  /**
   * (probe?: Uri | string, options?: { scope: Uri | string | 'workspace', forget?: true }) =>
   * string | undefined: remembers probe data for a model, a folder or the workspace (the
   * default). Invoked on a model (explorer menu, or a model file as the first argument), it
   * asks which of the three and offers the probes that fit that model. `forget` drops the
   * scope's choice (it then follows its folder, the setting, the workspace).
   */
  'memlens.selectProbe': (ctx) => async (arg?: unknown, options?: unknown) => {
    const given = toUri(arg);
    const opts = options as { scope?: unknown; forget?: unknown } | undefined;
    let scope: vscode.Uri | 'workspace' | undefined =
      opts?.scope === 'workspace' ? 'workspace' : toUri(opts?.scope);
    let probe = given?.fsPath;
    // The explorer passes (clicked, selected[]); a model file is a model, not its probe.
    const onModel =
      given !== undefined &&
      scope === undefined &&
      (Array.isArray(options) ||
        (isAnalysableFile(given.fsPath) && !PROBE_FILE.test(given.fsPath)));
    let model: vscode.Uri | undefined;
    if (onModel) {
      model = given;
      probe = undefined;
      scope = await ctx.service.probes.askScope(given);
      if (!scope) return undefined;
    } else if (scope instanceof vscode.Uri) model = scope;
    scope ??= 'workspace';
    if (opts?.forget === true) {
      await ctx.service.probes.remember(undefined, scope);
      return undefined;
    }
    probe ??= await ctx.service.pickProbe(model ?? activeModel());
    if (!probe) return undefined;
    await ctx.service.rememberProbe(probe, scope);
    const setting = vscode.workspace.getConfiguration('memlens').get<string>('probeData', '');
    if (setting && scope === 'workspace') {
      void vscode.window.showWarningMessage(
        `MemLens: the setting memlens.probeData (${setting}) takes precedence over this choice.`,
      );
    }
    return probe;
  },

  /** (target?: model or report file) => report id | undefined. */
  'memlens.openReport': (ctx) => async (arg?: unknown) => {
    const target = toUri(arg);
    if (target) {
      const fromFile = await readReportFile(target.fsPath);
      if (fromFile) {
        const id = await ctx.service.importReport(fromFile);
        await ctx.panels.show(id);
        return id;
      }
    }
    const id = await reportIdFor(ctx, target);
    if (!id) {
      if (target) {
        const choice = await vscode.window.showInformationMessage(
          `MemLens: ${vscode.workspace.asRelativePath(target)} has not been analysed yet.`,
          'Analyze Memorization',
        );
        if (choice) await vscode.commands.executeCommand('memlens.analyze', target);
      } else {
        void vscode.window.showInformationMessage(
          'MemLens: no analysis yet. Right-click a model file and choose MemLens: Analyze Memorization.',
        );
      }
      return undefined;
    }
    await ctx.panels.show(id);
    return id;
  },

  /**
   * (target?: model, destination?: Uri | string (.json/.csv/.html)) => written path | undefined.
   * Without a target it asks which report when several could be meant.
   */
  'memlens.exportReport': (ctx) => async (arg?: unknown, dest?: unknown) => {
    try {
      const target = toUri(arg);
      return await exportReport(ctx.service.store, {
        activeReportId: ctx.panels.activeReportId,
        model: target ? { reportId: await reportIdFor(ctx, target) } : undefined,
        destination: toUri(dest),
      });
    } catch (err) {
      ctx.service.report(err);
      return undefined;
    }
  },

  /** (options?: { confirm: false }) => whether the cache was cleared, after a modal confirmation. */
  'memlens.clearResults': (ctx) => (options?: unknown) =>
    clearCachedResults(ctx.service.store, options),
};

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, factory]) =>
    vscode.commands.registerCommand(id, factory(ctx)),
  );
}
