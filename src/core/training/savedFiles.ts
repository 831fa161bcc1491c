/**
 * The files on disk that a checkpoint glob (unresolvedPath.ts) matches, and the glob of the
 * model files the extension watches. Node's fs only, no VS Code.
 */
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

export interface SavedFile {
  path: string;
  mtimeMs: number;
}

/** How many matches a glob may reach at any folder level: a bound on the work of one click. */
const MAX_MATCHES = 1000;

function segmentRegExp(segment: string): RegExp {
  const literal = (s: string): string => s.replace(/[\\^$.+?()[\]{}|]/g, '\\$&');
  return new RegExp(`^${segment.split('*').map(literal).join('.*')}$`);
}

/** The paths matching `glob` (`*` within one segment) relative to `baseDir`, unordered. */
function globMatches(baseDir: string, glob: string): string[] {
  const absolute = path.resolve(baseDir, glob);
  const { root } = path.parse(absolute);
  let matches = [root];
  for (const segment of absolute.slice(root.length).split(path.sep)) {
    if (segment === '') continue;
    if (!segment.includes('*')) {
      matches = matches.map((m) => path.join(m, segment));
      continue;
    }
    const re = segmentRegExp(segment);
    matches = matches
      .flatMap((dir) => {
        try {
          return readdirSync(dir)
            .filter((name) => re.test(name))
            .map((name) => path.join(dir, name));
        } catch {
          return [];
        }
      })
      .slice(0, MAX_MATCHES);
  }
  return matches;
}

/**
 * The files to analyse among those matching `glob` under `baseDir`: `modelFile` maps a match to
 * the file to analyse (the match itself, the marker file of a model folder) or null to drop it.
 * Newest first by modification time, then by path.
 */
export function savedFilesMatching(
  baseDir: string,
  glob: string,
  modelFile: (match: string, isDirectory: boolean) => string | null,
): SavedFile[] {
  const found = new Map<string, number>();
  for (const match of globMatches(baseDir, glob)) {
    try {
      const file = modelFile(match, statSync(match).isDirectory());
      if (file !== null && !found.has(file)) found.set(file, statSync(file).mtimeMs);
    } catch {
      // Gone, or a marker that is not there: not a candidate.
    }
  }
  return [...found]
    .map(([file, mtimeMs]) => ({ path: file, mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** One glob for every file named by `extensions` (`.onnx`) or `markers` (`model.json`). */
export function modelFilesGlob(extensions: readonly string[], markers: readonly string[]): string {
  const names = [...extensions.map((e) => `*${e}`), ...markers];
  return names.length === 1 ? `**/${names[0]}` : `**/{${names.join(',')}}`;
}
