/**
 * The read-only custom editor for model files and files of arrays (.npy, .npz, .safetensors):
 * what they hold, read in the analysis child process (so a crashing native reader cannot take
 * the extension host down), whether the probe fits a model, and the latest analysis, with
 * links to analyse, to open the report and to choose probe data.
 */
import * as vscode from 'vscode';
import { UserError } from '../../core/errors';
import type { AnalysisService } from './analysisService';
import type { ModelOutline } from '../child/protocol';
import { modelViewerHtml } from '../logic/modelViewerHtml';
import { contextLabel } from '../logic/resultContext';
import { makeNonce } from '../logic/webviewCsp';

export const MODEL_EDITOR_TYPES = ['memlens.modelFile', 'memlens.modelFileOption'] as const;

export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(private readonly service: AnalysisService) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(
    document: vscode.CustomDocument,
    panel: vscode.WebviewPanel,
  ): Promise<void> {
    const modelPath = document.uri.fsPath;
    panel.webview.options = {
      enableScripts: false,
      enableCommandUris: [
        'memlens.analyze',
        'memlens.openReport',
        'memlens.selectProbe',
        'memlens.switchResult',
      ],
      localResourceRoots: [],
    };
    let outline: ModelOutline | null = null;
    let note: string | null = 'Reading the file…';
    /** The probe the outline was checked against (undefined: none selected). */
    let checkedProbe: string | undefined;
    const render = (): void => {
      const entry = this.service.store.latest(modelPath) ?? null;
      panel.webview.html = modelViewerHtml({
        displayPath: vscode.workspace.asRelativePath(modelPath),
        modelPath,
        outline,
        outlineNote: note,
        entry,
        ...(entry
          ? {
              context: {
                label: contextLabel(entry.context, (p) => vscode.workspace.asRelativePath(p)),
                results: this.service.store.results(modelPath).length,
              },
            }
          : {}),
        nonce: makeNonce(),
        now: new Date(),
        ...(checkedProbe === undefined
          ? {}
          : { displayProbe: vscode.workspace.asRelativePath(checkedProbe) }),
      });
    };
    let controller = new AbortController();
    const read = async (): Promise<void> => {
      if (!vscode.workspace.isTrusted) return;
      controller.abort();
      const current = new AbortController();
      controller = current;
      checkedProbe = this.service.probeFor(document.uri);
      try {
        outline = await this.service.inspect(document.uri, current.signal);
        note = null;
      } catch (err) {
        if (current.signal.aborted) return;
        outline = null;
        note =
          err instanceof UserError
            ? err.message
            : `Cannot read the file: ${err instanceof Error ? err.message : String(err)}`;
      }
      render();
    };
    render();
    const subs = [
      this.service.store.onDidChange(render),
      // Another probe is checked as soon as it is chosen (the setting) or when the viewer is
      // shown again (a remembered choice has no event); the "3 minutes ago" is renewed too.
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('memlens.probeData', document.uri)) void read();
      }),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) return;
        if (this.service.probeFor(document.uri) !== checkedProbe) void read();
        else render();
      }),
    ];
    panel.onDidDispose(() => {
      for (const s of subs) s.dispose();
      controller.abort();
    });
    if (vscode.workspace.isTrusted) await read();
    else {
      note =
        'Files are not read in an untrusted workspace (model files are parsed by native readers).';
      render();
    }
  }
}
