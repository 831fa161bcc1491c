import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { CancelledError, UserError } from '../../errors';
import script from './torchCapture.py';

/** One frame from the capture script: its JSON header and its binary payload. */
export interface Frame {
  header: { type: string; bytes: number; [key: string]: unknown };
  payload: Buffer;
}

/** How the user chooses the interpreter, for the message when it has no torch. */
const CHOOSE_PYTHON = 'choose another with --python PATH (VS Code: the memlens.pythonPath setting)';

/**
 * The user's Python running MemLens' capture script (torchCapture.py), in its own process:
 * requests go to its stdin as JSON lines (plus raw probe bytes), answers come back as frames
 * (a 4-byte length, a JSON header, a binary payload). A refusal of the script becomes a
 * one-line UserError naming the model; cancelling kills the process at once.
 */
export class PythonBridge {
  private readonly child: ChildProcess;
  /** Output not parsed yet, in the pipe's chunks: joined once `needed` bytes are in. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes the next frame needs buffered: its length word, its header, then all of it. */
  private needed = 4;
  private readonly frames: Frame[] = [];
  private waiting: ((f: Frame | Error) => void) | null = null;
  private ended: Error | null = null;
  private stderr = '';

  constructor(
    readonly python: string,
    private readonly model: string,
    cwd: string,
  ) {
    this.child = spawn(python, ['-u', '-c', script], {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    this.child.stdout?.on('data', (chunk: Buffer) => this.take(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    this.child.stdin?.on('error', () => undefined); // the exit handler reports why
    this.child.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(
        new UserError(
          `${model}: cannot start the Python interpreter '${python}' (${err.code ?? err.message}): ${CHOOSE_PYTHON}`,
        ),
      ),
    );
    this.child.on('close', (code, signal) => {
      const last = this.stderr
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .pop();
      this.fail(
        new UserError(
          `${model}: the Python capture process (${python}) stopped (${signal ?? `exit code ${code}`})${last ? `: ${last.slice(0, 200)}` : ''}`,
        ),
      );
    });
  }

  private take(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    // A batch comes in many pipe chunks: joining them as they come would copy it over and over.
    while (this.buffered >= this.needed) {
      const buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [buffer];
      const headerLength = buffer.readUInt32LE(0);
      this.needed = 4 + headerLength;
      if (buffer.length < this.needed) continue;
      const header = JSON.parse(
        buffer.subarray(4, 4 + headerLength).toString('utf8'),
      ) as Frame['header'];
      this.needed += header.bytes;
      if (buffer.length < this.needed) continue;
      const frame = { header, payload: buffer.subarray(4 + headerLength, this.needed) };
      const rest = buffer.subarray(this.needed);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.needed = 4;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(frame);
      } else {
        // Nobody is reading yet (a capture writing its last batch): the script waits on the
        // pipe until this frame is taken, so no more than one batch queues here.
        this.frames.push(frame);
        this.child.stdout?.pause();
      }
    }
  }

  private fail(err: Error): void {
    this.ended ??= err;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(this.ended);
    }
  }

  /** Sends a request, with the probe's float32 values when given. */
  send(request: Record<string, unknown>, probe?: { shape: number[]; data: Float32Array }): void {
    const body = probe ? { ...request, probe: { shape: probe.shape, dtype: 'float32' } } : request;
    this.child.stdin?.write(JSON.stringify(body) + '\n');
    if (probe)
      this.child.stdin?.write(
        Buffer.from(probe.data.buffer, probe.data.byteOffset, probe.data.byteLength),
      );
  }

  /** The next frame; a script error becomes a UserError, an abort a CancelledError. */
  async next(signal?: AbortSignal): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued !== undefined && this.frames.length === 0) this.child.stdout?.resume();
    const frame = queued ?? (this.ended ? this.ended : await this.wait(signal));
    if (frame instanceof Error) throw frame;
    if (frame.header.type === 'error') throw this.refusal(frame.header);
    return frame;
  }

  private wait(signal?: AbortSignal): Promise<Frame | Error> {
    return new Promise((resolve) => {
      if (signal?.aborted) {
        this.close();
        resolve(new CancelledError());
        return;
      }
      const onAbort = (): void => {
        this.close();
        this.waiting = null;
        resolve(new CancelledError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting = (f) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(f);
      };
    });
  }

  private refusal(header: Frame['header']): UserError {
    const message = String(header.message ?? 'unknown error');
    switch (header.code) {
      case 'no-torch':
        return new UserError(
          `${this.model}: the Python interpreter '${this.python}' cannot import torch (${message}): install PyTorch there, or ${CHOOSE_PYTHON}`,
        );
      case 'no-transformers':
        return new UserError(
          `${this.model}: ${message} ('${this.python}' cannot import it): install it there, or ${CHOOSE_PYTHON}`,
        );
      case 'no-factory':
        return new UserError(
          `${this.model}: ${message}: expected --torch-factory module:callable (VS Code: memlens.torchFactory), e.g. nets:make_mlp or train:Net`,
        );
      default:
        return new UserError(`${this.model}: ${message}`);
    }
  }

  /** Ends the process (stdin closed, then killed). */
  close(): void {
    // Output still unread (a capture that stopped half way) is dropped, so the pipe ends.
    this.child.stdout?.removeAllListeners('data').resume();
    this.child.stdin?.end();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
