/**
 * Content hashes for cache keys: the SHA-256 of files (a model with every weight shard), of
 * probe data, and canonical JSON of parameters, so equal inputs give equal keys.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError, throwIfAborted } from '../errors';

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** SHA-256 (hex) of the concatenated content of `files`, each prefixed by its base name and length. */
export async function hashFiles(files: string[], signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for (const file of files) {
    throwIfAborted(signal);
    const stat = await fs.stat(file).catch(() => {
      throw new UserError(`${file}: expected a readable file, found nothing at that path`);
    });
    // A FIFO or a device would block or never end: only regular files are hashed.
    if (!stat.isFile())
      throw new UserError(
        `${file}: expected a regular file, found ${stat.isDirectory() ? 'a folder' : 'a special file (a device, FIFO or socket)'}`,
      );
    hash.update(`${path.basename(file)}\0${stat.size}\0`);
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file);
      stream.on('data', (chunk) => hash.update(chunk));
      stream.on('end', resolve);
      stream.on('error', (err) =>
        reject(
          new UserError(
            `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? err.message})`,
          ),
        ),
      );
    });
  }
  return hash.digest('hex');
}

/**
 * SHA-256 of probe data: a file's bytes, or for a folder (of images) the sorted list of its
 * files' relative names, sizes and modification times (reading every image would be slow).
 */
export async function hashProbe(probe: string, signal?: AbortSignal): Promise<string> {
  const stat = await fs.stat(probe).catch(() => {
    throw new UserError(
      `${probe}: expected probe data (a file or a folder), found nothing at that path`,
    );
  });
  if (!stat.isDirectory()) return hashFiles([probe], signal);
  const hash = createHash('sha256');
  const entries = await fs.readdir(probe, { recursive: true, withFileTypes: true });
  const rows: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    const s = await fs.stat(full);
    rows.push(`${path.relative(probe, full)}\0${s.size}\0${s.mtimeMs}`);
  }
  rows.sort();
  hash.update(rows.join('\n'));
  return hash.digest('hex');
}
