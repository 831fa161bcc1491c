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

/** Unwritable locations: a one-line UserError; a cancellation stays what it is. */
function writeFailure(file: string, err: unknown): Error {
  if (err instanceof CancelledError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  return new UserError(`${file}: cannot write output (${code}): expected a writable path`);
}

/**
 * A file written in pieces through a temporary sibling and a rename ({@link writeFileAtomic}
 * whole): `append` the bytes in order, then `commit` renames the temporary file over the
 * target, or `abort` removes it. Until the commit the target is untouched; a failure, a
 * cancellation or a signal never leaves a half-written output or a temporary file.
 */
export class AtomicFile {
  private fd: number | null;

  private constructor(
    private readonly file: string,
    private readonly target: string,
    private readonly tmp: string,
    fd: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.fd = fd;
  }

  /**
   * Creates the temporary file beside `file` (through a symbolic link: beside its target,
   * whose permissions it keeps). A folder, device, FIFO or socket is refused, as an
   * unwritable location: one-line UserErrors.
   */
  static async open(file: string, opts: WriteOptions = {}): Promise<AtomicFile> {
    const { signal } = opts;
    if (signal?.aborted) throw new CancelledError();
    const target = await outputTarget(file);
    const tmp = path.join(
      path.dirname(target),
      `.${path.basename(target)}.${process.pid}.${++serial}.tmp`,
    );
    const mode = (await fs.stat(target).catch(() => null))?.mode;
    let fd: number | null = null;
    // Registered before it exists, and created synchronously: a signal handler (which runs
    // between callbacks, and is installed while a write is in flight) always finds the file it
    // must remove. 'wx' never follows a link nor reuses a file.
    track(tmp);
    try {
      fd = nodeFs.openSync(tmp, 'wx', 0o666);
      if (mode !== undefined) await fs.chmod(tmp, mode & 0o7777);
      return new AtomicFile(file, target, tmp, fd, signal);
    } catch (err) {
      if (fd !== null) {
        nodeFs.closeSync(fd);
        await fs.rm(tmp, { force: true });
      }
      untrack(tmp);
      throw writeFailure(file, err);
    }
  }

  /** Appends `bytes`, in chunks of 1 MiB (a cancellation stops within one). */
  async append(bytes: Uint8Array): Promise<void> {
    try {
      for (let offset = 0; offset < bytes.length;) {
        if (this.signal?.aborted) throw new CancelledError();
        if (this.fd === null) throw new Error('AtomicFile: append after commit or abort');
        offset += await writeChunk(this.fd, bytes, offset);
      }
    } catch (err) {
      await this.abort();
      throw writeFailure(this.file, err);
    }
  }

  /** Closes the temporary file and renames it over the target; returns the path written. */
  async commit(): Promise<string> {
    try {
      const closing = this.fd;
      if (closing === null) throw new Error('AtomicFile: commit after commit or abort');
      this.fd = null;
      await new Promise<void>((resolve, reject) =>
        nodeFs.close(closing, (err) => (err ? reject(err) : resolve())),
      );
      if (this.signal?.aborted) throw new CancelledError();
      await fs.rename(this.tmp, this.target);
      untrack(this.tmp);
      return this.target;
    } catch (err) {
      await this.abort();
      throw writeFailure(this.file, err);
    }
  }

  /** Removes the temporary file (the target untouched); nothing when already committed. */
  async abort(): Promise<void> {
    if (!inFlight.has(this.tmp)) return;
    if (this.fd !== null) nodeFs.close(this.fd, () => undefined);
    this.fd = null;
    await fs.rm(this.tmp, { force: true });
    untrack(this.tmp);
  }
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
  const out = await AtomicFile.open(file, opts);
  await out.append(typeof contents === 'string' ? Buffer.from(contents) : contents);
  return out.commit();
}
