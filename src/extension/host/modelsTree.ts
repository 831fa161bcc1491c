/** The tree of analysed models in the MemLens side panel; clicking a model opens its report. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { signatureLabel } from '../../core/report/signatureText';
import { isFolderMarker } from '../logic/modelFileNames';
import type { ResultEntry, ResultStore } from '../logic/resultStore';

export const MODELS_VIEW_ID = 'memlens.models';

/** The name a user recognises: the folder with a folder model's marker (model.json), else the file name. */
export function modelDisplayName(modelPath: string): string {
  const base = path.basename(modelPath);
  return isFolderMarker(modelPath) ? `${path.basename(path.dirname(modelPath))}/${base}` : base;
}

export class ModelsTree implements vscode.TreeDataProvider<ResultEntry>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: { dispose(): void };

  constructor(private readonly store: ResultStore) {
    this.sub = store.onDidChange(() => this.changed.fire());
  }

  getChildren(element?: ResultEntry): ResultEntry[] {
    return element ? [] : this.store.entries();
  }

  getTreeItem(e: ResultEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(
      modelDisplayName(e.modelPath),
      vscode.TreeItemCollapsibleState.None,
    );
    const verdict = e.signature ? signatureLabel(e.signature.kind) : 'no reference';
    item.description = `H ${e.entropyMedian.toFixed(2)} · I ${e.miMedian.toFixed(2)} · ${verdict}`;
    item.resourceUri = vscode.Uri.file(e.modelPath);
    item.contextValue = 'memlens.model';
    item.iconPath = !e.signature
      ? new vscode.ThemeIcon('circle-outline')
      : e.signature.kind === 'none'
        ? new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'))
        : new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
    const tooltip = new vscode.MarkdownString();
    tooltip.appendText(`${vscode.workspace.asRelativePath(e.modelPath)}\n`);
    tooltip.appendText(
      `median H ${e.entropyMedian.toFixed(3)} nats, median I ${e.miMedian.toFixed(3)} nats\n`,
    );
    tooltip.appendText(
      e.signature
        ? e.signature.explanation
        : 'No reference: set memlens.baseline or compare models to get a signature.',
    );
    item.tooltip = tooltip;
    item.command = {
      command: 'memlens.openReport',
      title: 'Open Report',
      arguments: [vscode.Uri.file(e.modelPath)],
    };
    return item;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
