/**
 * MemLens: Switch Result… (`memlens.switchResult`): a model keeps a result per context (alone,
 * against a baseline, in a compare, on another probe or settings); this picks the one the
 * lenses, warnings, tree and model viewer show.
 */
import * as vscode from 'vscode';
import { signatureLabel } from '../../core/report/signatureText';
import { contextLabel } from '../logic/resultContext';
import type { ResultStore } from '../logic/resultStore';

export const SWITCH_RESULT_COMMAND = 'memlens.switchResult';

function modelPathOf(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'string' && arg !== '') return arg;
  const modelPath = (arg as { modelPath?: unknown } | null)?.modelPath;
  return typeof modelPath === 'string' ? modelPath : undefined;
}

/**
 * (model?, contextId?) => the context id now current, or undefined. Without a model: a pick
 * of the models with several results; without a context id: a pick of the model's results.
 */
export function registerResultChoice(store: ResultStore): vscode.Disposable {
  const relative = (p: string): string => vscode.workspace.asRelativePath(p);
  return vscode.commands.registerCommand(
    SWITCH_RESULT_COMMAND,
    async (arg?: unknown, contextId?: unknown): Promise<string | undefined> => {
      await store.whenLoaded();
      let modelPath = modelPathOf(arg);
      if (modelPath === undefined) {
        const several = store.entries().filter((e) => store.results(e.modelPath).length > 1);
        if (several.length === 0) {
          void vscode.window.showInformationMessage(
            'MemLens: no model has results in more than one context yet.',
          );
          return undefined;
        }
        const pick = await vscode.window.showQuickPick(
          several.map((e) => ({
            label: relative(e.modelPath),
            description: `${store.results(e.modelPath).length} results`,
            modelPath: e.modelPath,
          })),
          { title: 'MemLens: Switch Result', placeHolder: 'A model with several results' },
        );
        if (!pick) return undefined;
        modelPath = pick.modelPath;
      }
      const results = store.results(modelPath);
      if (results.length === 0) return undefined;
      let id = typeof contextId === 'string' ? contextId : undefined;
      if (id === undefined) {
        const current = store.latest(modelPath)?.context.id;
        const pick = await vscode.window.showQuickPick(
          results.map((e) => ({
            label: contextLabel(e.context, relative),
            description: `${e.signature ? signatureLabel(e.signature.kind) : 'no reference'}${e.context.id === current ? ' · shown now' : ''}`,
            detail: `${e.context.settings} · H ${e.entropyMedian.toFixed(2)} · I ${e.miMedian.toFixed(2)} · ${new Date(e.analysedAt).toLocaleString()}`,
            id: e.context.id,
          })),
          {
            title: `MemLens: Switch Result of ${relative(modelPath)}`,
            placeHolder: 'The result the lenses, warnings, tree and viewer show',
            matchOnDetail: true,
          },
        );
        if (!pick) return undefined;
        id = pick.id;
      }
      if (!(await store.select(modelPath, id))) {
        void vscode.window.showWarningMessage(
          `MemLens: ${relative(modelPath)} has no result in that context.`,
        );
        return undefined;
      }
      return id;
    },
  );
}
