/**
 * Runs analyses and compares for the extension: probe data, settings, the result cache, the
 * child process, progress notifications, the status bar, and errors shown as notifications.
 * Returns the report (or undefined when cancelled, when probe data is missing, or on error,
 * after telling the user) so commands can hand it back to their callers.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  factoryCandidates,
  importNameFor,
  sysPathFor,
  NEEDS_FACTORY,
} from '../../core/capture/torch/factoryCandidates';
import { CancelledError, UserError } from '../../core/errors';
import { PROBE_MISFIT } from '../../core/probe/probeFit';
import type { AnalysisReport, CompareReport } from '../../core/report/schema';
import { runJob } from '../child/client';
import { isActivationDump } from '../../core/dumps/dumpFiles';
import { resultCacheKey } from '../logic/cacheKey';
import type {
  IdentifyResult,
  JobParams,
  JobRequest,
  JobResults,
  MeasuredJob,
  ModelOutline,
} from '../child/protocol';
import { ProgressTracker } from '../logic/progressTracker';
import { ResultStore } from '../logic/resultStore';
import { ProbeChoice } from './probeChoice';
import { selectedPython } from './pythonInterpreter';
import { readParams, settingPath } from './settings';
import { MemLensStatusBar } from './statusBar';
import { analysisReportId, compareReportId } from './webviewContent';

/** How long reading and hashing may take before a cancellable notification shows. */
const IDENTIFY_NOTICE_MS = 500;

/** What the webviews show while a job runs. */
export interface BusyState {
  label: string;
  fraction: number | null;
}

export class AnalysisService implements vscode.Disposable {
  readonly store: ResultStore;
  private readonly statusBar: MemLensStatusBar;
  private readonly running = new Set<AbortController>();
  private jobStarted = 0;
  private readonly busyEmitter = new vscode.EventEmitter<BusyState | null>();
  /** Fires with the running job's progress, and null when it ends. */
  readonly onDidChangeBusy = this.busyEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    const storage = context.storageUri ?? context.globalStorageUri;
    this.store = new ResultStore(path.join(storage.fsPath, 'results'));
    this.statusBar = new MemLensStatusBar(this.store);
  }

  /**
   * Reads the cached index in the background (activation does not wait for the disk); lenses,
   * warnings and views refresh when it is loaded.
   */
  init(): void {
    void this.store.load();
  }

  private get hostScript(): string {
    return path.join(this.context.extensionPath, 'dist', 'analysisHost.js');
  }

  /** The bundled CLI, which `memlens slurm` runs from. */
  get cliScript(): string {
    return path.join(this.context.extensionPath, 'dist', 'cli.js');
  }

  /** Where runs that are not kept in the result store write their files (workspace storage). */
  get storageDir(): string {
    return (this.context.storageUri ?? this.context.globalStorageUri).fsPath;
  }

  // ------------------------------------------------------------------ probe data

  private probeChoice: ProbeChoice | undefined;

  /** Probe data per model, folder or workspace, and its picker (probeChoice.ts). */
  get probes(): ProbeChoice {
    this.probeChoice ??= new ProbeChoice(
      this.context,
      (job, signal) =>
        runJob(this.hostScript, job, {
          signal,
          onLog: (line) => this.log.info(`[analysis] ${line}`),
        }),
      this.log,
    );
    return this.probeChoice;
  }

  /** The probe data for a model: its own choice, its folder's, the setting, the workspace's. */
  probeFor(scope: vscode.Uri | undefined): string | undefined {
    return this.probes.probeFor(scope);
  }

  /** Remembers probe data for a model, a folder or (by default) the whole workspace. */
  async rememberProbe(probe: string, scope: vscode.Uri | 'workspace' = 'workspace'): Promise<void> {
    await this.probes.remember(probe, scope);
  }

  /**
   * Lets the user choose probe data: workspace files that look like probe sets (with their
   * shape and, given a model, whether they fit it), or any file or folder. Returns the chosen
   * path, or undefined when dismissed.
   */
  pickProbe(model?: vscode.Uri): Promise<string | undefined> {
    return this.probes.pick(model);
  }

  /**
   * The probe data for an analysis, checked in the background for integer or constant values;
   * when none is set, a prompt (not an error) offers to pick it.
   */
  private async ensureProbe(scope: vscode.Uri): Promise<string | undefined> {
    const probe = this.probeFor(scope);
    if (probe) {
      void this.probes.warnAbout(probe);
      return probe;
    }
    const choice = await vscode.window.showInformationMessage(
      'MemLens needs probe data to run a model: unlabelled, in-distribution inputs (.npy, .npz, .csv or a folder of images). Choose them once for this workspace, or set memlens.probeData.',
      'Select Probe Data',
    );
    if (choice !== 'Select Probe Data') return undefined;
    const picked = await this.pickProbe(scope);
    if (picked) {
      await this.rememberProbe(picked);
      void this.probes.warnAbout(picked);
    }
    return picked;
  }

  // ------------------------------------------------------------------ analysis

  /**
   * Analyses a model (cached), records it, and returns the report and its cache key.
   * `overrides` replace settings for this job (Analyze with All Pairs: no MI time budget).
   */
  async analyze(
    uri: vscode.Uri,
    overrides: Partial<JobParams> = {},
  ): Promise<{ key: string; report: AnalysisReport } | undefined> {
    const started = Date.now();
    try {
      const target = path.resolve(uri.fsPath);
      const params = { ...(await this.paramsFor(uri)), ...overrides };
      const baselineSetting = settingPath('baseline', uri);
      // A dump brings its activations; a model, or a dump read against a model, needs probe data.
      if (
        !isActivationDump(target) ||
        (baselineSetting !== undefined && !isActivationDump(baselineSetting))
      ) {
        const probe = await this.ensureProbe(uri);
        if (!probe) return undefined;
        params.probe = probe;
      }
      const ids = await this.identify(
        baselineSetting ? [target, baselineSetting] : [target],
        params.probe,
      );
      if (!ids) return undefined;
      const [identified, identifiedBaseline] = ids.sources;
      for (const s of ids.sources) {
        if (s.cohort)
          throw new UserError(
            `${s.file}: expected a model file or a model folder, found a folder of several models (use MemLens: Compare Models)`,
          );
      }
      const model = identified.file;
      const baseline =
        identifiedBaseline && identifiedBaseline.file !== model ? identifiedBaseline : undefined;
      const numbers = numbersOnly(params);
      const key = resultCacheKey({
        modelSha256: identified.sha256,
        probeSha256: ids.probeSha256,
        params: { ...numbers, baselineSha256: baseline?.sha256 ?? null },
      });
      const label = vscode.workspace.asRelativePath(model);
      const result = await this.run(`Analyzing ${label}`, baseline ? 2 : 1, {
        type: 'job/analyze',
        source: model,
        baseline: baseline?.file ?? null,
        measurements: this.store.measurementsDir,
        params,
      });
      if (!result) return undefined;
      this.noteJob(`Analyzing ${label}`, result);
      const lone = result.report.flags.find((f) => f.code === 'baseline-not-comparable');
      if (lone) void vscode.window.showWarningMessage(`MemLens: ${label}: ${lone.message}.`);
      this.statusBar.succeeded({ model });
      await this.store.putAnalysis(model, key, result.report, result.signature);
      if (baseline && result.baselineReport) {
        // The baseline's own numbers, for the charts beside the model's; kept as its lone result.
        const baselineKey = resultCacheKey({
          modelSha256: baseline.sha256,
          probeSha256: ids.probeSha256,
          params: { ...numbers, baselineSha256: null },
        });
        await this.store.putAnalysis(
          baseline.file,
          baselineKey,
          result.baselineReport,
          null,
          undefined,
          false,
        );
      }
      this.log.info(
        `analysed ${model} in ${Date.now() - started} ms (report ${Math.round(result.report.timing.totalMs)} ms)` +
          (result.signature ? `: ${result.signature.kind} vs ${result.signature.reference}` : ''),
      );
      return { key, report: result.report };
    } catch (err) {
      // A PyTorch state_dict without a factory: offer the workspace's, then analyse again.
      if (err instanceof UserError && err.message.includes(NEEDS_FACTORY)) {
        this.log.warn(err.message);
        if (await this.pickFactory(uri)) return this.analyze(uri, overrides);
        return undefined;
      }
      // The probe does not fit the model's input: the error offers other probe data for it.
      if (err instanceof UserError && err.message.includes(PROBE_MISFIT)) {
        this.probes.offerOnMisfit(uri, err.message, () => void this.analyze(uri, overrides));
        return undefined;
      }
      this.statusBar.failed(err);
      this.report(err);
      return undefined;
    } finally {
      this.statusBar.idle();
    }
  }

  /**
   * Offers the nn.Module classes and model-building functions of the workspace's Python files
   * as the factory of a state_dict, and keeps the choice in the workspace folder's
   * `memlens.torchFactory`. Returns whether one was chosen.
   */
  private async pickFactory(uri: vscode.Uri): Promise<boolean> {
    const folder =
      vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
    const files = await vscode.workspace.findFiles(
      new vscode.RelativePattern(folder ?? path.dirname(uri.fsPath), '**/*.py'),
      '**/{node_modules,.git,.venv,venv,site-packages,__pycache__}/**',
      500,
    );
    const items: (vscode.QuickPickItem & { factory: string })[] = [];
    // The names the model's Python imports them by: its sys.path as the capture sets it.
    const sysPath = sysPathFor(path.dirname(uri.fsPath), folder ? [folder.uri.fsPath] : []);
    for (const f of files) {
      const module = importNameFor(f.fsPath, sysPath);
      if (module === null) continue;
      const text = Buffer.from(await vscode.workspace.fs.readFile(f)).toString('utf8');
      for (const factory of factoryCandidates(module, text))
        items.push({ label: factory, description: vscode.workspace.asRelativePath(f), factory });
    }
    const name = vscode.workspace.asRelativePath(uri);
    if (items.length === 0) {
      void vscode.window.showErrorMessage(
        `MemLens: ${name} holds a state_dict, which needs the code that builds its model; no nn.Module class or model-building function was found in the workspace's Python files. Set memlens.torchFactory to module:callable.`,
      );
      return false;
    }
    const pick = await vscode.window.showQuickPick(items, {
      title: `MemLens: ${name} holds a state_dict: which code builds its model?`,
      placeHolder: 'An nn.Module class or a function returning one (kept as memlens.torchFactory)',
      matchOnDescription: true,
    });
    if (!pick) return false;
    await vscode.workspace
      .getConfiguration('memlens', uri)
      .update(
        'torchFactory',
        pick.factory,
        folder ? vscode.ConfigurationTarget.WorkspaceFolder : vscode.ConfigurationTarget.Global,
      );
    this.log.info(`memlens.torchFactory = ${pick.factory}`);
    return true;
  }

  /**
   * Compares models (a list, or a folder of checkpoints). The baseline setting is the reference
   * when it is one of the models or inside one of the folders; otherwise each model is read
   * against the rest of the cohort.
   */
  async compare(
    uris: vscode.Uri[],
    reference: string | null = null,
  ): Promise<{ key: string; report: CompareReport } | undefined> {
    try {
      const scope = uris[0];
      const params = await this.paramsFor(scope);
      const probe = await this.ensureProbe(scope);
      if (!probe) return undefined;
      params.probe = probe;
      const paths = uris.map((u) => path.resolve(u.fsPath));
      // The child makes it the reference when it is one of the models (or in their folders);
      // a reference chosen for this compare takes its place.
      const baseline = reference === null ? (settingPath('baseline', scope) ?? null) : null;
      const ids = await this.identify(paths, params.probe);
      if (!ids) return undefined;
      const key = resultCacheKey({
        modelSha256: ids.sources.map((s) => s.sha256).join(','),
        probeSha256: ids.probeSha256,
        params: { ...numbersOnly(params), paths, baseline, reference, kind: 'compare' },
      });
      const cached = await this.store.compareReport(key);
      if (cached) {
        await this.store.putCompare(key, cached);
        this.statusBar.succeeded({ compare: key });
        return { key, report: cached };
      }
      const title =
        paths.length === 1
          ? `Comparing checkpoints in ${vscode.workspace.asRelativePath(paths[0])}`
          : `Comparing ${paths.length} models`;
      const result = await this.run(title, Math.max(1, paths.length), {
        type: 'job/compare',
        paths,
        baseline,
        reference,
        measurements: this.store.measurementsDir,
        params,
      });
      if (!result) return undefined;
      const { report } = result;
      this.noteJob(title, result);
      this.statusBar.succeeded({ compare: key });
      await this.store.putCompare(key, report);
      this.log.info(`compared ${report.models.length} models (${key.slice(0, 12)})`);
      // Models the probe does not fit are in the report as errors: offer other probe data.
      const misfit = report.models.find((m) => m.error?.includes(PROBE_MISFIT))?.error;
      if (misfit !== undefined)
        this.probes.offerOnMisfit(scope, misfit, () => void this.compare(uris, reference));
      return { key, report };
    } catch (err) {
      if (err instanceof UserError && err.message.includes(PROBE_MISFIT)) {
        this.probes.offerOnMisfit(uris[0], err.message, () => void this.compare(uris, reference));
        return undefined;
      }
      this.statusBar.failed(err);
      this.report(err);
      return undefined;
    } finally {
      this.statusBar.idle();
    }
  }

  /** The latest job that ran in a child: how many models it measured and read back. */
  lastJob: { title: string; measured: number; reused: number; ms: number } | undefined;

  private noteJob(title: string, result: MeasuredJob): void {
    this.lastJob = {
      title,
      measured: result.measured,
      reused: result.reused,
      ms: Date.now() - this.jobStarted,
    };
    this.log.info(
      `${title}: ${result.measured} model(s) measured, ${result.reused} read back from the measurement cache, ${this.lastJob.ms} ms`,
    );
  }

  /**
   * The job parameters for a model with its probe data (asked for when none is chosen), or
   * undefined when the user dismisses the question.
   */
  async paramsWithProbe(uri: vscode.Uri): Promise<JobParams | undefined> {
    const params = await this.paramsFor(uri);
    if (!isActivationDump(path.resolve(uri.fsPath))) {
      const probe = await this.ensureProbe(uri);
      if (!probe) return undefined;
      params.probe = probe;
    }
    return params;
  }

  /** The job parameters from the settings, with the Python the Python extension selected. */
  private async paramsFor(scope: vscode.Uri): Promise<JobParams> {
    const params = readParams(scope);
    params.python = await selectedPython(params.python, scope);
    return params;
  }

  /** Opens a model in the child process and lists its layers (for the model viewer). */
  async inspect(uri: vscode.Uri, signal: AbortSignal): Promise<ModelOutline> {
    const params = await this.paramsFor(uri);
    params.probe = this.probeFor(uri) ?? null;
    return runJob(
      this.hostScript,
      { type: 'job/inspect', source: uri.fsPath, params },
      {
        signal,
        onLog: (line) => this.log.info(`[analysis] ${line}`),
      },
    );
  }

  /**
   * Resolves models and hashes their content and the probe's in the child process (never in
   * the extension host). A slow read (a huge model, a crafted reference to a FIFO) gets a
   * notification with Cancel after half a second. Undefined when cancelled.
   */
  private async identify(
    sources: string[],
    probe: string | null,
  ): Promise<IdentifyResult | undefined> {
    const controller = new AbortController();
    this.running.add(controller);
    const job = runJob(
      this.hostScript,
      { type: 'job/identify', sources, probe },
      { signal: controller.signal, onLog: (line) => this.log.info(`[analysis] ${line}`) },
    );
    const slow = setTimeout(() => {
      void vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `MemLens: Reading ${vscode.workspace.asRelativePath(sources[0])}`,
          cancellable: true,
        },
        (_progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          return job.catch(() => undefined);
        },
      );
    }, IDENTIFY_NOTICE_MS);
    try {
      return await job;
    } catch (err) {
      if (err instanceof CancelledError) return undefined;
      throw err;
    } finally {
      clearTimeout(slow);
      this.running.delete(controller);
    }
  }

  /** Runs a job with a cancellable progress notification and the status bar. */
  private run<T extends JobRequest>(
    title: string,
    models: number,
    job: T,
  ): Promise<JobResults[T['type']] | undefined> {
    return Promise.resolve(
      vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `MemLens: ${title}`,
          cancellable: true,
        },
        async (progress, token) => {
          const controller = new AbortController();
          this.running.add(controller);
          const sub = token.onCancellationRequested(() => controller.abort());
          const tracker = new ProgressTracker(models);
          this.statusBar.busy(title, 0);
          this.busyEmitter.fire({ label: title, fraction: 0 });
          const started = Date.now();
          this.jobStarted = started;
          try {
            return await runJob(this.hostScript, job, {
              signal: controller.signal,
              onLog: (line) => this.log.info(`[analysis] ${line}`),
              onProgress: (p) => {
                const step = tracker.update(p);
                progress.report({ message: step.message, increment: step.increment });
                this.statusBar.busy(title, step.fraction, step.message);
                this.busyEmitter.fire({
                  label: `${title}: ${step.message}`,
                  fraction: step.fraction,
                });
              },
            });
          } catch (err) {
            if (err instanceof CancelledError) {
              this.log.info(`${title}: cancelled after ${Date.now() - started} ms`);
              this.statusBar.cancelled(title);
              void vscode.window.showInformationMessage(`MemLens: ${title} cancelled.`);
              return undefined;
            }
            throw err;
          } finally {
            sub.dispose();
            this.running.delete(controller);
            this.busyEmitter.fire(null);
          }
        },
      ),
    );
  }

  /** Shows an error: a UserError's one line as is; anything else as an internal error, logged. */
  report(err: unknown): void {
    if (err instanceof UserError) {
      this.log.warn(err.message);
      void vscode.window.showErrorMessage(`MemLens: ${err.message}`);
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    this.log.error(err instanceof Error ? (err.stack ?? message) : message);
    void vscode.window.showErrorMessage(
      `MemLens: internal error: ${message} (see the MemLens output)`,
    );
  }

  /**
   * Adds a report file written by the CLI (`memlens analyze --out`, `compare --out`) to the
   * store, keyed by the SHA-256 of its JSON, and returns its report id.
   */
  async importReport(report: AnalysisReport | CompareReport): Promise<string> {
    const key = createHash('sha256').update(JSON.stringify(report)).digest('hex');
    if (report.schema === 'memlens.compare') {
      await this.store.putCompare(key, report, report.createdAt);
      return compareReportId(key);
    }
    // A report from elsewhere says nothing of the model file now: checked when it was made.
    await this.store.putAnalysis(report.model.path, key, report, null, report.createdAt);
    return analysisReportId(key);
  }

  dispose(): void {
    for (const c of this.running) c.abort();
    this.running.clear();
    this.statusBar.dispose();
    this.busyEmitter.dispose();
  }
}

/** The parameters that change the numbers (threads do not). */
function numbersOnly(params: JobParams): Record<string, unknown> {
  const rest: Partial<JobParams> = { ...params };
  delete rest.threads;
  return rest;
}
