/**
 * The tree of analysed models in the MemLens side panel: grouped by folder, each model with
 * its current result (and which context it is), stale results marked; clicking a model opens
 * its report. A single folder is listed without a folder level.
 */
import * as vscode from 'vscode';
import { signatureLabel } from '../../core/report/signatureText';
import { isStale } from '../logic/lensText';
import { groupModels, type ModelGroup, type ModelItem } from '../logic/modelGroups';
import { contextLabel } from '../logic/resultContext';
import type { ResultStore } from '../logic/resultStore';
import { modelMtime } from './checkpointLenses';

export const MODELS_VIEW_ID = 'memlens.models';

/** A folder, or a model (with its path on top, which the commands' argument parsing reads). */
type Node = { group: ModelGroup } | { model: ModelItem; modelPath: string };

const modelNode = (model: ModelItem): Node => ({ model, modelPath: model.entry.modelPath });

const relative = (p: string): string => vscode.workspace.asRelativePath(p);

export class ModelsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: { dispose(): void };

  constructor(private readonly store: ResultStore) {
    this.sub = store.onDidChange(() => this.changed.fire());
  }

  /** Called when a model file changes on disk, so stale marks follow. */
  refresh(): void {
    this.changed.fire();
  }

  getChildren(element?: Node): Node[] {
    if (element) return 'group' in element ? element.group.models.map(modelNode) : [];
    const groups = groupModels(this.store.entries());
    if (groups.length === 1) return groups[0].models.map(modelNode);
    return groups.map((group) => ({ group }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return 'group' in node ? this.groupItem(node.group) : this.modelItem(node.model);
  }

  private groupItem(group: ModelGroup): vscode.TreeItem {
    const label = relative(group.dir);
    const item = new vscode.TreeItem(
      label === group.dir ? group.dir : label,
      vscode.TreeItemCollapsibleState.Expanded,
    );
    item.id = `group:${group.dir}`;
    item.iconPath = vscode.ThemeIcon.Folder;
    item.resourceUri = vscode.Uri.file(group.dir);
    item.description = `${group.models.length} model${group.models.length === 1 ? '' : 's'}`;
    item.contextValue = 'memlens.folder';
    return item;
  }

  private modelItem({ entry: e, label }: ModelItem): vscode.TreeItem {
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = `model:${e.modelPath}`;
    const stale = isStale(e, modelMtime(e.modelPath));
    const results = this.store.results(e.modelPath).length;
    const verdict = e.signature ? signatureLabel(e.signature.kind) : 'no reference';
    const context = contextLabel(e.context, relative);
    item.description =
      `H ${e.entropyMedian.toFixed(2)} · I ${e.miMedian.toFixed(2)} · ${verdict} · ${context}` +
      (stale ? ' · stale' : '');
    item.resourceUri = vscode.Uri.file(e.modelPath);
    item.contextValue = results > 1 ? 'memlens.model.contexts' : 'memlens.model';
    item.iconPath = stale
      ? new vscode.ThemeIcon('history', new vscode.ThemeColor('list.deemphasizedForeground'))
      : !e.signature
        ? new vscode.ThemeIcon('circle-outline')
        : e.signature.kind === 'none'
          ? new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'))
          : new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
    const tooltip = new vscode.MarkdownString();
    tooltip.appendText(`${relative(e.modelPath)}\n`);
    tooltip.appendText(
      `median H ${e.entropyMedian.toFixed(3)} nats, median I ${e.miMedian.toFixed(3)} nats\n`,
    );
    tooltip.appendText(`Result ${context} (${e.context.settings}), ${e.analysedAt}\n`);
    if (stale) tooltip.appendText('The model was saved again since: analyze it again.\n');
    tooltip.appendText(
      e.signature
        ? e.signature.explanation
        : 'No reference: set memlens.baseline or compare models to get a signature.',
    );
    if (results > 1)
      tooltip.appendText(
        `\n${results} results in other contexts: MemLens: Switch Result… shows another.`,
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
