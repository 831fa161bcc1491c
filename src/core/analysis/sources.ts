import type { Stats } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { modelFormats } from '../capture/registry';
import { UserError } from '../errors';
import { MODEL_FILE_EXTENSION } from './trajectory';

const naturalOrder = (a: string, b: string): number =>
  a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' });

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.stat(p);
  } catch {
    return null;
  }
}

async function isTfjsModelJson(file: string): Promise<boolean> {
  if (path.basename(file).toLowerCase() === 'model.json') return true;
  try {
    return (await fs.readFile(file, 'utf8')).includes('"modelTopology"');
  } catch {
    return false;
  }
}

/** Model files and model folders (holding model.json) directly inside a folder, natural order. */
async function modelsInFolder(dir: string): Promise<string[]> {
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) =>
    naturalOrder(a.name, b.name),
  );
  const binaryExtensions = new Set(
    modelFormats.flatMap((f) => f.extensions).filter((e) => e !== '.json'),
  );
  const found: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if ((await statOrNull(path.join(p, 'model.json')))?.isFile()) found.push(p);
    } else if (e.isFile()) {
      const ext = path.extname(e.name).toLowerCase();
      if (binaryExtensions.has(ext) || (ext === '.json' && (await isTfjsModelJson(p))))
        found.push(p);
    }
  }
  return found;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/**
 * The model list of a comparison: each argument is a model file, a folder holding model.json
 * (one model), a folder of models (its model files and model.json subfolders, in natural
 * order, so step-9 comes before step-10), or a glob whose wildcards (* and ?) are in the last
 * path segment (`runs/ckpt-*`). Duplicates are dropped. A folder or glob with no model is a
 * UserError.
 */
export async function expandModelSources(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string): void => {
    const key = path.resolve(p);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  };
  for (const arg of args) {
    const base = path.basename(arg);
    if (/[*?]/.test(base)) {
      const dir = path.dirname(arg);
      if (/[*?]/.test(dir)) {
        throw new UserError(
          `${arg}: expected wildcards only in the last path segment, found them in '${dir}'`,
        );
      }
      const re = globToRegExp(base);
      let names: string[];
      try {
        names = (await fs.readdir(dir)).filter((n) => re.test(n)).sort(naturalOrder);
      } catch (err) {
        throw new UserError(
          `${arg}: cannot list '${dir}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
      let matched = 0;
      for (const n of names) {
        const p = path.join(dir, n);
        // Folders count only when they hold a model.json.
        if (
          (await statOrNull(p))?.isDirectory() &&
          !(await statOrNull(path.join(p, 'model.json')))?.isFile()
        )
          continue;
        add(p);
        matched++;
      }
      if (matched === 0)
        throw new UserError(`${arg}: expected the pattern to match models, found no match`);
      continue;
    }
    const stat = await statOrNull(arg);
    if (stat?.isDirectory() && !(await statOrNull(path.join(arg, 'model.json')))?.isFile()) {
      const models = await modelsInFolder(arg);
      if (models.length === 0) {
        throw new UserError(
          `${arg}: expected model files or subfolders holding model.json, found none`,
        );
      }
      models.forEach(add);
    } else {
      add(arg);
    }
  }
  return out;
}

/** The short name of a model: its folder for model.json or a model folder, else its file stem. */
export function modelName(source: string): string {
  const base = path.basename(source);
  if (base.toLowerCase() === 'model.json') return path.basename(path.dirname(path.resolve(source)));
  return base.replace(MODEL_FILE_EXTENSION, '');
}

/** Whether two paths name the same model (a folder and its model.json count as the same). */
export function sameModel(a: string, b: string): boolean {
  const norm = (p: string): string => {
    const r = path.resolve(p);
    return path.basename(r).toLowerCase() === 'model.json' ? path.dirname(r) : r;
  };
  return norm(a) === norm(b);
}
