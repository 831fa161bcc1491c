import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../errors';

/**
 * The file a model refers to (a weight shard, an external-data file), resolved and checked:
 * it must lie inside the model's folder after following symlinks, be a regular file, and,
 * when the model declares it, be at least `minBytes` long. Anything else is a one-line
 * UserError naming the model and the reference, so a crafted model can never make MemLens
 * read `../../etc/passwd`, a device or a FIFO.
 */
export async function containedFile(
  modelFile: string,
  reference: string,
  what: string,
  opts: { minBytes?: number; context?: string } = {},
): Promise<string> {
  const minBytes = opts.minBytes ?? 0;
  const context = opts.context === undefined ? '' : ` (${opts.context})`;
  const refused = (found: string): UserError =>
    new UserError(
      `${modelFile}: ${what} '${printable(reference)}'${context}: expected a file inside the model's folder, found ${found}`,
    );
  if (reference === '' || reference.includes('\0')) throw refused('an invalid path');
  if (path.isAbsolute(reference)) throw refused('an absolute path');
  const folder = await fs.realpath(path.dirname(path.resolve(modelFile))).catch(() => {
    throw new UserError(`${modelFile}: cannot resolve the model's folder`);
  });
  const joined = path.resolve(path.dirname(path.resolve(modelFile)), reference);
  let real: string;
  try {
    real = await fs.realpath(joined);
  } catch (err) {
    throw refused(`nothing there (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (real !== folder && !real.startsWith(folder + path.sep)) throw refused('a path outside it');
  const stat = await fs.stat(real);
  if (!stat.isFile()) throw refused(stat.isDirectory() ? 'a folder' : 'a special file');
  if (stat.size < minBytes)
    throw refused(`${stat.size} bytes where the model declares at least ${minBytes}`);
  return joined;
}

/** At most 80 printable characters of a name taken from a file, for error messages. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 77)}...` : clean;
}

/** Natural order of file names, so step-9 sorts before step-10. */
export const naturalOrder = (a: string, b: string): number =>
  a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' });

/** The name of a file model: its base name without the extension, e.g. `ckpt-3` for `runs/ckpt-3.onnx`. */
export function fileStem(file: string): string {
  const base = path.basename(file);
  const ext = path.extname(base);
  return ext === '' ? base : base.slice(0, -ext.length);
}

/** The name of a folder model: the folder holding its marker file. */
export function folderName(markerFile: string): string {
  return path.basename(path.dirname(path.resolve(markerFile)));
}
