/**
 * Probe data per model or folder: a map from a scope (a model file or a folder, as a path
 * relative to its workspace folder, `/`-separated; '' is the workspace folder itself) to the
 * probe chosen for it, kept in the workspace state. A model's probe is its own entry, else
 * the nearest enclosing folder's, else the `memlens.probeData` setting (resource-scoped, so a
 * folder's .vscode/settings.json applies), else the probe chosen for the whole workspace.
 */
import * as path from 'node:path';

/** Scope (relative path) -> probe path (relative to the workspace folder, or absolute). */
export type ProbeScopes = Readonly<Record<string, string>>;

/** Where a resolved probe came from. */
export type ProbeSource = 'model' | 'folder' | 'setting' | 'workspace';

export interface ResolvedProbe {
  probe: string;
  from: ProbeSource;
  /** The scope whose entry gave it (for `model` and `folder`). */
  scope?: string;
}

/** A scope as the map keys it: `/`-separated, normalised, no leading `./` or trailing `/`. */
export function scopeKey(relative: string): string {
  const p = path.posix.normalize(relative.replace(/\\/g, '/'));
  const trimmed = p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  return trimmed === '.' ? '' : trimmed;
}

/** The map with `scope` set to `probe`, or without it when `probe` is undefined. */
export function withScope(
  scopes: ProbeScopes,
  scope: string,
  probe: string | undefined,
): ProbeScopes {
  const key = scopeKey(scope);
  const next: Record<string, string> = { ...scopes };
  if (probe === undefined) delete next[key];
  else next[key] = probe;
  return next;
}

/**
 * The probe for `model` (relative to its workspace folder): its own entry, the nearest
 * enclosing folder's, the setting, the workspace's choice; undefined when none is set.
 */
export function resolveProbe(
  scopes: ProbeScopes,
  model: string | undefined,
  setting: string | undefined,
  workspace: string | undefined,
): ResolvedProbe | undefined {
  if (model !== undefined) {
    const keyed = new Map(Object.entries(scopes).map(([k, v]) => [scopeKey(k), v]));
    let scope = scopeKey(model);
    const own = keyed.get(scope);
    if (own) return { probe: own, from: 'model', scope };
    // Up the folders, the workspace folder itself ('') last. A path outside it has no folders.
    while (scope !== '' && !scope.startsWith('../') && scope !== '..') {
      scope = path.posix.dirname(scope);
      if (scope === '.' || scope === '/') scope = '';
      const entry = keyed.get(scope);
      if (entry) return { probe: entry, from: 'folder', scope };
    }
  }
  if (setting) return { probe: setting, from: 'setting' };
  if (workspace) return { probe: workspace, from: 'workspace' };
  return undefined;
}
