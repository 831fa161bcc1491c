/**
 * The read-only custom editor for model files: their layers (read in the analysis child
 * process, so a crashing native reader cannot take the extension host down) and their latest
 * analysis, with links to analyse and to open the report.
 */
import * as vscode from 'vscode';
import { isActivationDump } from '../../core/dumps/dumpFiles';
import { UserError } from '../../core/errors';
import type { AnalysisService } from './analysisService';
import type { ModelOutline } from '../child/protocol';
import { modelViewerHtml } from '../logic/modelViewerHtml';
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
      enableCommandUris: ['memlens.analyze', 'memlens.openReport'],
      localResourceRoots: [],
    };
    let outline: ModelOutline | null = null;
    let note: string | null = 'Reading the model…';
    const render = (): void => {
      panel.webview.html = modelViewerHtml({
        displayPath: vscode.workspace.asRelativePath(modelPath),
        modelPath,
        outline,
        outlineNote: note,
        entry: this.service.store.latest(modelPath) ?? null,
        nonce: makeNonce(),
      });
    };
    render();
    const storeSub = this.service.store.onDidChange(render);
    const controller = new AbortController();
    panel.onDidDispose(() => {
      storeSub.dispose();
      controller.abort();
    });
    if (isActivationDump(modelPath)) {
      note = 'An activation dump: analyse it directly; it has no layers to inspect.';
      render();
      return;
    }
    if (!vscode.workspace.isTrusted) {
      note =
        'Layers are not read in an untrusted workspace (model files are parsed by native readers).';
      render();
      return;
    }
    try {
      outline = await this.service.inspect(document.uri, controller.signal);
      note = null;
    } catch (err) {
      if (controller.signal.aborted) return;
      note =
        err instanceof UserError
          ? err.message
          : `Cannot read the layers: ${err instanceof Error ? err.message : String(err)}`;
    }
    render();
  }
}
