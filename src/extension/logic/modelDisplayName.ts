/** What a user calls a model, from its path, without the format registry. No VS Code imports. */
import * as path from 'node:path';
import { isFolderMarker } from './modelFileNames';

/** A folder model's folder (`shortcut/model.json`: shortcut), else the file's stem. */
export function modelDisplayName(modelPath: string): string {
  if (isFolderMarker(modelPath)) return path.basename(path.dirname(modelPath));
  const base = path.basename(modelPath);
  const ext = path.extname(base);
  return ext.length > 0 && ext.length < base.length ? base.slice(0, -ext.length) : base;
}
