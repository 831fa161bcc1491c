/**
 * Code lenses and warnings on the lines of training scripts that save a model. The core
 * finder does the work; these providers only turn its findings and the stored results into
 * VS Code objects. Lenses are cheap in provideCodeLenses (positions only) and get their
 * title and command in resolveCodeLens.
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { contributes } from '../../../package.json';
import { findCheckpointSaves } from '../../core/training/checkpointLines';
import type {
  CheckpointSave,
  ScriptLanguage,
  UnresolvedPath,
} from '../../core/training/checkpointLines';
import { modelFilesGlob, savedFilesMatching } from '../../core/training/savedFiles';
import {
  SAVED_PICK_TITLE,
  diagnosticMessage,
  entryForSavedPath,
  isStale,
  lensTitle,
  resultTooltip,
  savedFileDescription,
  savedPickPlaceholder,
  showsMemorization,
  unresolvedTooltip,
} from '../logic/lensText';
import { analysableNames, isAnalysableFile, markerFiles } from '../logic/modelFileNames';
import type { ResultStore } from '../logic/resultStore';

/**
 * The command of a lens whose saved path is not known statically (arguments: the script's
 * folder and the finding's UnresolvedPath). Lens-only, so not in the manifest's commands.
 */
export const ANALYZE_SAVED_COMMAND = 'memlens.analyzeSavedCheckpoint';

export const SCRIPT_SELECTOR: vscode.DocumentFilter[] = [
  { language: 'python', scheme: 'file' },
  { language: 'javascript', scheme: 'file' },
  { language: 'typescript', scheme: 'file' },
];

function scriptLanguage(doc: vscode.TextDocument): ScriptLanguage | undefined {
  const id = doc.languageId;
  return id === 'python' || id === 'javascript' || id === 'typescript' ? id : undefined;
}

/** Findings per document version, shared by the lenses and the diagnostics. */
export class ScriptFindings {
  private readonly cache = new Map<string, { version: number; findings: CheckpointSave[] }>();

  get(doc: vscode.TextDocument): CheckpointSave[] {
    const language = scriptLanguage(doc);
    if (!language || doc.uri.scheme !== 'file') return [];
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version) return hit.findings;
    const findings = findCheckpointSaves(doc.getText(), language, doc.uri.fsPath);
    this.cache.set(key, { version: doc.version, findings });
    return findings;
  }

  forget(doc: vscode.TextDocument): void {
    this.cache.delete(doc.uri.toString());
  }
}

/** The model file's modification time (ms), or undefined when it is gone. */
export function modelMtime(modelPath: string): number | undefined {
  try {
    return statSync(modelPath).mtimeMs;
  } catch {
    return undefined;
  }
}

function findingRange(f: CheckpointSave): vscode.Range {
  return new vscode.Range(f.line, f.column, f.line, Math.max(f.column + 1, f.endColumn));
}

class CheckpointLens extends vscode.CodeLens {
  constructor(
    readonly finding: CheckpointSave,
    readonly scriptDir: string,
  ) {
    super(findingRange(finding));
  }
}

/** What to analyse for a glob match: a model or dump file, or the marker file of a model folder. */
function analysableMatch(match: string, isDirectory: boolean): string | null {
  if (!isDirectory) return isAnalysableFile(match) ? match : null;
  return markerFiles(match).find((m) => existsSync(m)) ?? null;
}

/**
 * Offers the files an unresolved save may have written (its glob, newest first) and analyses
 * the one chosen; with no such file, memlens.analyze's own file picker. Returns its report.
 */
async function analyzeSavedCheckpoint(
  scriptDir: string,
  unresolved: UnresolvedPath,
): Promise<unknown> {
  const { glob, reason } = unresolved;
  const files = glob ? savedFilesMatching(scriptDir, glob, analysableMatch) : [];
  if (!glob || files.length === 0) return vscode.commands.executeCommand('memlens.analyze');
  const pick = await vscode.window.showQuickPick(
    files.map((f) => ({
      label: vscode.workspace.asRelativePath(f.path),
      description: savedFileDescription(f.mtimeMs),
      file: f.path,
    })),
    { title: SAVED_PICK_TITLE, placeHolder: savedPickPlaceholder(reason, glob) },
  );
  return pick && vscode.commands.executeCommand('memlens.analyze', vscode.Uri.file(pick.file));
}

/** A lens's command before any result: analyse the saved path, or offer the files it may be. */
function analyzeCommand(lens: CheckpointLens): vscode.Command {
  const f = lens.finding;
  if (f.savedPath !== null)
    return {
      title: lensTitle(undefined),
      command: 'memlens.analyze',
      arguments: [vscode.Uri.file(f.savedPath)],
      tooltip: `Analyse ${vscode.workspace.asRelativePath(f.savedPath)} with MemLens`,
    };
  return {
    title: lensTitle(undefined),
    command: ANALYZE_SAVED_COMMAND,
    arguments: [lens.scriptDir, f.unresolved],
    tooltip: unresolvedTooltip(f.unresolved),
  };
}

export class CheckpointLensProvider
  implements vscode.CodeLensProvider<CheckpointLens>, vscode.Disposable
{
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subs: { dispose(): void }[];

  constructor(
    private readonly findings: ScriptFindings,
    private readonly store: ResultStore,
  ) {
    this.subs = [
      store.onDidChange(() => this.changed.fire()),
      vscode.commands.registerCommand(ANALYZE_SAVED_COMMAND, analyzeSavedCheckpoint),
    ];
  }

  provideCodeLenses(doc: vscode.TextDocument): CheckpointLens[] {
    const scriptDir = path.dirname(doc.uri.fsPath);
    return this.findings.get(doc).map((f) => new CheckpointLens(f, scriptDir));
  }

  resolveCodeLens(lens: CheckpointLens): CheckpointLens {
    const { savedPath } = lens.finding;
    const entry = savedPath ? entryForSavedPath(savedPath, this.store.entries()) : undefined;
    const stale = entry !== undefined && isStale(entry, modelMtime(entry.modelPath));
    lens.command = stale
      ? {
          title: lensTitle(entry, true),
          command: 'memlens.analyze',
          arguments: [vscode.Uri.file(entry.modelPath)],
          tooltip: 'The model file changed after this result: analyse it again',
        }
      : entry
        ? {
            title: lensTitle(entry),
            command: 'memlens.openReport',
            arguments: [vscode.Uri.file(entry.modelPath)],
            tooltip: resultTooltip(entry, this.store.results(entry.modelPath).length, (p) =>
              vscode.workspace.asRelativePath(p),
            ),
          }
        : analyzeCommand(lens);
    return lens;
  }

  /** Asks VS Code to resolve the lenses again (a model file changed on disk). */
  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    this.subs.forEach((s) => s.dispose());
    this.changed.dispose();
  }
}

/** A warning on each save line whose model's latest result shows a memorization signature. */
export class CheckpointDiagnostics implements vscode.CodeActionProvider, vscode.Disposable {
  static readonly metadata: vscode.CodeActionProviderMetadata = {
    providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
  };
  private readonly collection = vscode.languages.createDiagnosticCollection('memlens');
  /** The model each warning is about, per document, for the code action. */
  private readonly models = new Map<string, { range: vscode.Range; modelPath: string }[]>();
  private readonly subs: vscode.Disposable[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly findings: ScriptFindings,
    private readonly store: ResultStore,
  ) {
    this.subs.push(
      this.collection,
      vscode.workspace.onDidOpenTextDocument((d) => this.update(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.collection.delete(d.uri);
        this.models.delete(d.uri.toString());
        this.findings.forget(d);
      }),
    );
    const storeSub = store.onDidChange(() => this.updateAll());
    this.subs.push({ dispose: () => storeSub.dispose() });
    this.updateAll();
  }

  private schedule(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.update(doc);
      }, 300),
    );
  }

  updateAll(): void {
    for (const doc of vscode.workspace.textDocuments) this.update(doc);
  }

  update(doc: vscode.TextDocument): void {
    const found = this.findings.get(doc);
    if (found.length === 0 && !this.models.has(doc.uri.toString())) return;
    const entries = this.store.entries();
    const diagnostics: vscode.Diagnostic[] = [];
    const models: { range: vscode.Range; modelPath: string }[] = [];
    for (const f of found) {
      const entry = f.savedPath ? entryForSavedPath(f.savedPath, entries) : undefined;
      if (!entry || !showsMemorization(entry)) continue;
      const range = findingRange(f);
      const d = new vscode.Diagnostic(
        range,
        diagnosticMessage(
          entry,
          vscode.workspace.asRelativePath(entry.modelPath),
          isStale(entry, modelMtime(entry.modelPath)),
        ),
        vscode.DiagnosticSeverity.Warning,
      );
      d.source = 'MemLens';
      d.code = 'memorization-signature';
      diagnostics.push(d);
      models.push({ range, modelPath: entry.modelPath });
    }
    this.collection.set(doc.uri, diagnostics);
    if (models.length) this.models.set(doc.uri.toString(), models);
    else this.models.delete(doc.uri.toString());
  }

  provideCodeActions(
    doc: vscode.TextDocument,
    range: vscode.Range | vscode.Selection,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const ours = context.diagnostics.filter((d) => d.source === 'MemLens');
    const models = this.models.get(doc.uri.toString()) ?? [];
    const actions: vscode.CodeAction[] = [];
    for (const m of models) {
      if (!m.range.intersection(range)) continue;
      const action = new vscode.CodeAction('MemLens: Open report', vscode.CodeActionKind.QuickFix);
      action.command = {
        command: 'memlens.openReport',
        title: 'MemLens: Open report',
        arguments: [vscode.Uri.file(m.modelPath)],
      };
      action.diagnostics = ours.filter((d) => d.range.isEqual(m.range));
      actions.push(action);
    }
    return actions;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.subs.forEach((s) => s.dispose());
  }
}

const names = analysableNames(contributes.customEditors);
/** The files MemLens analyses (model files, folder markers, dumps): the only ones to watch. */
const ANALYSABLE_GLOB = modelFilesGlob(names.extensions, names.markers);

/**
 * Calls `onChange` when a model with a stored result is written again in the workspace (a
 * training run saving the checkpoint), so lenses and warnings can say the result is stale.
 */
export function watchAnalysedModels(store: ResultStore, onChange: () => void): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher(ANALYSABLE_GLOB);
  const check = (uri: vscode.Uri): void => {
    const changed = path.resolve(uri.fsPath);
    if (store.entries().some((e) => e.modelPath === changed)) onChange();
  };
  return vscode.Disposable.from(watcher, watcher.onDidChange(check), watcher.onDidCreate(check));
}
