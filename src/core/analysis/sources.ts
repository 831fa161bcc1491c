import type { Stats } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { naturalOrder } from '../capture/common/modelFiles';
import { isModelFolder, modelsInFolder } from '../capture/registry';
import { UserError } from '../errors';

async function statOrNull(p: string): Promise<Stats | null> {
  return fs.stat(p).catch(() => null);
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/**
 * The model list of a comparison: each argument is a model file, a model folder (holding
 * model.json or saved_model.pb), a folder of models (its model files and model subfolders, in
 * natural order, so step-9 comes before step-10), or a glob whose wildcards (* and ?) are in the last
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
        // Folders count only when they are models (hold a format's marker file).
        if ((await statOrNull(p))?.isDirectory() && !(await isModelFolder(p))) continue;
        add(p);
        matched++;
      }
      if (matched === 0)
        throw new UserError(`${arg}: expected the pattern to match models, found no match`);
      continue;
    }
    const stat = await statOrNull(arg);
    if (stat?.isDirectory() && !(await isModelFolder(arg))) {
      const models = await modelsInFolder(arg);
      if (models.length === 0) {
        throw new UserError(
          `${arg}: expected model files or model subfolders (holding model.json or saved_model.pb), found none`,
        );
      }
      models.forEach(add);
    } else {
      add(arg);
    }
  }
  return out;
}
