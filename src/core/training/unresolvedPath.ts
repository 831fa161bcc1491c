/**
 * What a checkpoint finding says when the path its call saves to is not statically known:
 * why, and a glob of the files the call may have written, for the extension to offer.
 */
import * as path from 'node:path';
import type { PathPattern } from './pathExpr';
import { WILDCARD, dependsOn } from './unknownParts';

export interface UnresolvedPath {
  /** A clause: "the path depends on `epoch`, a loop variable". */
  reason: string;
  /**
   * The files the path may name, relative to the script's folder, with `/` separators: `*`
   * stands for an unknown part and is the only special character. Null when the path starts
   * with an unknown part (it could be any folder) or there is no path.
   */
  glob: string | null;
}

/**
 * ModelCheckpoint's filepath as Keras formats it at each save (`str.format` with the epoch
 * and the logs): each `{field}` becomes a WILDCARD, `{{` and `}}` single braces.
 */
export function kerasFilepath(value: string): { pattern: string; firstField: string | null } {
  let firstField: string | null = null;
  const pattern = value.replace(/\{\{|\}\}|\{[^{}]*\}/g, (m) => {
    if (m === '{{' || m === '}}') return m[0];
    firstField ??= m;
    return WILDCARD;
  });
  return { pattern, firstField };
}

/** The glob (see UnresolvedPath) of a path pattern; relative patterns are relative to `scriptDir`. */
export function patternGlob(pattern: string, scriptDir: string): string | null {
  if (!pattern.includes(WILDCARD) || pattern.startsWith(WILDCARD)) return null;
  const relative = path.relative(scriptDir, path.resolve(scriptDir, pattern));
  return relative.split(path.sep).join('/').split(WILDCARD).join('*').replace(/\*+/g, '*');
}

/**
 * Why a call's path is unknown and where its files may be. `value` is the evaluated path
 * argument (null: the call passes none), `kerasField` the first `{field}` of a
 * ModelCheckpoint filepath.
 */
export function unresolvedPath(
  value: PathPattern | null,
  kerasField: string | null,
  scriptDir: string,
): UnresolvedPath {
  if (value === null) return { reason: 'the call passes no path', glob: null };
  const reason =
    value.unknown.length > 0
      ? dependsOn(value.unknown[0])
      : kerasField !== null
        ? `the path is a format pattern ${kerasField}, filled in by Keras at each save`
        : 'the path is empty';
  return { reason, glob: patternGlob(value.pattern, scriptDir) };
}
