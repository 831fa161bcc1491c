/**
 * The factories a user can pick for a PyTorch state_dict: the `nn.Module` subclasses and the
 * argument-free model-building functions defined at the top level of their Python files,
 * named `module:callable` as `--torch-factory` and `memlens.torchFactory` take them. A
 * text scan (no Python is run), so the pick is offered even before any interpreter works.
 */

import * as path from 'node:path';

/**
 * The folders put on the model's sys.path, nearest first: the model's folder and each folder
 * above it up to the workspace (CLI: the current directory), then the workspace, so that the
 * user's classes import by the names their files have beside the training script
 * (`nets:Mlp` for runs/epochs/x.pt next to runs/nets.py) and from the workspace root.
 */
export function sysPathFor(modelFolder: string, searchPaths: readonly string[]): string[] {
  const chain: string[] = [];
  const root = searchPaths[0] === undefined ? undefined : path.resolve(searchPaths[0]);
  let dir = path.resolve(modelFolder);
  chain.push(dir);
  while (root !== undefined && dir !== root && dir.startsWith(root + path.sep)) {
    dir = path.dirname(dir);
    chain.push(dir);
  }
  return [...new Set([...chain, ...searchPaths.map((p) => path.resolve(p))])];
}

/**
 * The name a Python file imports by from the first sys.path folder that holds it
 * (`nets` for runs/nets.py with runs/ on the path), or null when none does or a part of the
 * path is no Python identifier.
 */
export function importNameFor(file: string, sysPath: readonly string[]): string | null {
  const dir = sysPath.find((d) => path.resolve(file).startsWith(path.resolve(d) + path.sep));
  return dir === undefined ? null : moduleNameOf(path.relative(dir, file));
}

/** Words in a function name that say it builds a model. */
const BUILDER = /(^|_)(make|build|create|get|new|load)(_|$)|model|net|network|classifier|encoder/i;

/** Base classes that make a class an nn.Module (torch's, Lightning's, transformers'). */
const MODULE_BASE = /(^|\.)(Module|LightningModule|PreTrainedModel|Sequential)$/;

/**
 * The candidates in one Python source, `module` being its dotted import name (`pkg.nets`).
 * Classes first, then functions, each in file order.
 */
export function factoryCandidates(module: string, source: string): string[] {
  const classes: string[] = [];
  const functions: string[] = [];
  for (const m of source.matchAll(/^class\s+([A-Za-z_]\w*)\s*\(([^)]*)\)\s*:/gm)) {
    const bases = m[2].split(',').map((b) => b.trim());
    if (bases.some((b) => MODULE_BASE.test(b))) classes.push(`${module}:${m[1]}`);
  }
  for (const m of source.matchAll(/^def\s+([A-Za-z_]\w*)\s*\(([^)]*)\)/gm)) {
    const required = m[2]
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '' && !p.includes('=') && !p.startsWith('*'));
    if (required.length === 0 && BUILDER.test(m[1]) && !m[1].startsWith('_'))
      functions.push(`${module}:${m[1]}`);
  }
  return [...classes, ...functions];
}

/** The import name of a Python file relative to a sys.path folder: `pkg/nets.py` -> `pkg.nets`. */
export function moduleNameOf(relativePath: string): string | null {
  const parts = relativePath.replace(/\\/g, '/').replace(/\.py$/, '').split('/');
  if (parts[parts.length - 1] === '__init__') parts.pop();
  return parts.length > 0 && parts.every((p) => /^[A-Za-z_]\w*$/.test(p)) ? parts.join('.') : null;
}

/** The part of the message of a state_dict without a factory that the extension recognises. */
export const NEEDS_FACTORY = 'which needs a factory to build the model';
