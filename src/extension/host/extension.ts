/**
 * The MemLens extension entry (dist/extension.js). Activation only wires light modules: the
 * analysis itself (TF.js, ONNX Runtime, the MI worker pool) runs in a child process
 * (dist/analysisHost.js) started per job, so activation loads none of it and a crash of a
 * native reader cannot take the extension host down. Activation time is logged to the
 * "MemLens" output channel and returned in the extension's API.
 */
// First: its clock starts before the other modules of the bundle are evaluated.
import { moduleLoadStart } from './loadClock';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { AnalysisService } from './analysisService';
import {
  CheckpointDiagnostics,
  CheckpointLensProvider,
  SCRIPT_SELECTOR,
  ScriptFindings,
  watchAnalysedModels,
} from './checkpointLenses';
import { registerCommands } from './commands';
import { SLURM_CONTEXT, onPath } from './slurmAnalysis';
import { LATEST_VIEW_ID, LatestAnalysisView } from './latestView';
import { MODEL_EDITOR_TYPES, ModelEditorProvider } from './modelEditor';
import { MODELS_VIEW_ID, ModelsTree } from './modelsTree';
import { REPORT_VIEW_TYPE, ReportPanels } from './reportPanel';
import { registerResultChoice } from './resultChoice';
import type { ResultContext } from '../logic/resultContext';

/** What `vscode.extensions.getExtension('memlens.memlens').exports` gives (for tests). */
export interface MemLensApi {
  /** Wall time of activate(), in milliseconds. */
  activationMs: number;
  /** Wall time from the start of evaluating the extension's bundle to the start of activate(). */
  moduleLoadMs: number;
  /** The latest analysis or compare job: models measured and read back, wall time. */
  lastJob(): AnalysisService['lastJob'];
  /** A model's kept results, newest first: their context and whether each is the one shown. */
  results(
    modelPath: string,
  ): { context: ResultContext; current: boolean; signature: string | null }[];
  /** The probe data an analysis of `uri` would use (its own choice, its folder's, the setting, the workspace's). */
  probeFor(uri: vscode.Uri): string | undefined;
  /** The error of the latest analysis whose probe did not fit its model. */
  lastProbeMisfit(): string | undefined;
}

export function activate(context: vscode.ExtensionContext): MemLensApi {
  const started = performance.now();
  const moduleLoadMs = started - moduleLoadStart;
  const log = vscode.window.createOutputChannel('MemLens', { log: true });
  const service = new AnalysisService(context, log);
  service.init();
  const panels = new ReportPanels(context.extensionUri, service);
  const findings = new ScriptFindings();
  const lenses = new CheckpointLensProvider(findings, service.store);
  const diagnostics = new CheckpointDiagnostics(findings, service.store);
  const latest = new LatestAnalysisView(context.extensionUri, service, (id) => panels.show(id));
  const tree = new ModelsTree(service.store);
  const editor = new ModelEditorProvider(service);

  context.subscriptions.push(
    log,
    service,
    panels,
    lenses,
    diagnostics,
    watchAnalysedModels(service.store, () => {
      lenses.refresh();
      diagnostics.updateAll();
      tree.refresh();
    }),
    latest,
    tree,
    ...registerCommands({ service, panels }),
    registerResultChoice(service.store),
    vscode.window.registerWebviewPanelSerializer(REPORT_VIEW_TYPE, panels),
    vscode.window.registerWebviewViewProvider(LATEST_VIEW_ID, latest),
    vscode.window.registerTreeDataProvider(MODELS_VIEW_ID, tree),
    vscode.languages.registerCodeLensProvider(SCRIPT_SELECTOR, lenses),
    vscode.languages.registerCodeActionsProvider(
      SCRIPT_SELECTOR,
      diagnostics,
      CheckpointDiagnostics.metadata,
    ),
    ...MODEL_EDITOR_TYPES.map((viewType) =>
      vscode.window.registerCustomEditorProvider(viewType, editor, {
        supportsMultipleEditorsPerDocument: true,
      }),
    ),
  );
  // The Slurm command shows where sbatch is (VS Code on a cluster's login node).
  void onPath('sbatch').then((found) =>
    vscode.commands.executeCommand('setContext', SLURM_CONTEXT, found),
  );
  const activationMs = performance.now() - started;
  log.info(
    `activated in ${activationMs.toFixed(1)} ms (bundle evaluated ${moduleLoadMs.toFixed(1)} ms before activate)`,
  );
  const results: MemLensApi['results'] = (modelPath) => {
    const current = service.store.latest(modelPath)?.context.id;
    return service.store.results(modelPath).map((e) => ({
      context: e.context,
      current: e.context.id === current,
      signature: e.signature?.kind ?? null,
    }));
  };
  return {
    activationMs,
    moduleLoadMs,
    lastJob: () => service.lastJob,
    results,
    probeFor: (uri) => service.probeFor(uri),
    lastProbeMisfit: () => service.probes.lastMisfit,
  };
}

/** Everything is owned by context.subscriptions; running jobs are killed by the service's dispose. */
export function deactivate(): void {}
