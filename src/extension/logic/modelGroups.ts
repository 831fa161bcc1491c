/**
 * How the Models tree lists results: grouped by the folder that holds each model (a folder
 * model, model.json or a SavedModel, counts as the item inside its parent folder), with names
 * a user recognises. Two checkpoints both shown as `epoch-1/model.json` in a flat list are
 * told apart by their groups (`runs/a`, `runs/b`); inside one folder the names are unique.
 */
import * as path from 'node:path';
import { isFolderMarker } from './modelFileNames';
import type { ResultEntry } from './resultStore';

export interface ModelItem {
  entry: ResultEntry;
  /** The name shown: the file, or `folder/model.json` for a folder model. */
  label: string;
}

export interface ModelGroup {
  /** The folder (absolute). */
  dir: string;
  models: ModelItem[];
}

/** The tree label: the folder with a folder model's marker (`shortcut/model.json`), else the file name. */
export function treeLabel(modelPath: string): string {
  const base = path.basename(modelPath);
  return isFolderMarker(modelPath) ? `${path.basename(path.dirname(modelPath))}/${base}` : base;
}

/** The folder a model is listed under. */
export function groupDir(modelPath: string): string {
  const dir = path.dirname(modelPath);
  return isFolderMarker(modelPath) ? path.dirname(dir) : dir;
}

/** Groups by folder (sorted by path), models by label within each. */
export function groupModels(entries: ResultEntry[]): ModelGroup[] {
  const byDir = new Map<string, ResultEntry[]>();
  for (const e of entries) {
    const dir = groupDir(e.modelPath);
    byDir.set(dir, [...(byDir.get(dir) ?? []), e]);
  }
  return [...byDir.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([dir, group]) => ({
      dir,
      models: group
        .map((entry) => ({ entry, label: treeLabel(entry.modelPath) }))
        .sort((a, b) => a.label.localeCompare(b.label)),
    }));
}
