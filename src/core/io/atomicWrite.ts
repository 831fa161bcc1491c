import * as nodeFs from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CancelledError, UserError } from '../errors';
import { outputTarget } from './outputGuard';

/** Bytes per write call: a cancelled write stops within one chunk. */
const CHUNK = 1 << 20;

/** The temporary files of the writes in flight, which a signal handler removes. */
const inFlight = new Set<string>();
const watchers = new Set<(writing: boolean) => void>();
let serial = 0;

function track(tmp: string): void {
  inFlight.add(tmp);
  if (inFlight.size === 1) for (const w of watchers) w(true);
}

function untrack(tmp: string): void {
  if (inFlight.delete(tmp) && inFlight.size === 0) for (const w of watchers) w(false);
}

/**
 * Calls `watch(true)` when a write starts while none is in flight and `watch(false)` when the
 * last one in flight ends (renamed or removed); returns the function that stops watching.
 */
export function watchWrites(watch: (writing: boolean) => void): () => void {
  watchers.add(watch);
  return () => watchers.delete(watch);
}

/** Whether a write is in flight (it has a temporary file). */
export function writing(): boolean {
  return inFlight.size > 0;
}

/**
 * Removes the temporary file of every write in flight, synchronously: for a signal handler
 * about to exit. A write whose file is removed fails (or its rename does): nothing is left.
 */
export function removeTempFilesSync(): void {
  for (const tmp of inFlight) {
    try {
      nodeFs.unlinkSync(tmp);
    } catch {
      // Already renamed into place or removed.
    }
  }
  inFlight.clear();
}

function writeChunk(fd: number, bytes: Uint8Array, offset: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const length = Math.min(CHUNK, bytes.length - offset);
    nodeFs.write(fd, bytes, offset, length, null, (err, written) =>
      err ? reject(err) : resolve(written),
    );
  });
}

export interface WriteOptions {
  /** Stops the write (the temporary file removed, the target untouched): CancelledError. */
  signal?: AbortSignal;
}

/**
 * Writes a file through a temporary sibling and a rename, so a failure, a cancellation or a
 * signal never leaves a half-written output or a temporary file. A symbolic link is written
 * through: its target is replaced (keeping the target's permissions) and the link stays; a
 * folder, device, FIFO or socket is refused. Unwritable locations become a one-line
 * UserError. Returns the path written (the link's target for a link).
 */
export async function writeFileAtomic(
  file: string,
  contents: string | Uint8Array,
  opts: WriteOptions = {},
): Promise<string> {
  const { signal } = opts;
  if (signal?.aborted) throw new CancelledError();
  const target = await outputTarget(file);
  const bytes = typeof contents === 'string' ? Buffer.from(contents) : contents;
  const tmp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${++serial}.tmp`,
  );
  const mode = (await fs.stat(target).catch(() => null))?.mode;
  let fd: number | null = null;
  let created = false;
  // Registered before it exists, and created synchronously: a signal handler (which runs
  // between callbacks, and is installed while a write is in flight) always finds the file it
  // must remove. 'wx' never follows a link nor reuses a file.
  track(tmp);
  try {
    fd = nodeFs.openSync(tmp, 'wx', 0o666);
    created = true;
    if (mode !== undefined) await fs.chmod(tmp, mode & 0o7777);
    for (let offset = 0; offset < bytes.length;) {
      if (signal?.aborted) throw new CancelledError();
      offset += await writeChunk(fd, bytes, offset);
    }
    const closing = fd;
    fd = null;
    await new Promise<void>((resolve, reject) =>
      nodeFs.close(closing, (err) => (err ? reject(err) : resolve())),
    );
    if (signal?.aborted) throw new CancelledError();
    await fs.rename(tmp, target);
    untrack(tmp);
    return target;
  } catch (err) {
    if (fd !== null) nodeFs.close(fd, () => undefined);
    if (created) await fs.rm(tmp, { force: true });
    untrack(tmp);
    if (err instanceof CancelledError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`${file}: cannot write output (${code}): expected a writable path`);
  }
}
