import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CancelledError, UserError } from '../../errors';
import { isOutOfMemory } from './onnxOutputs';
import type { FetchSpec, HostReply, HostRequest, ReducedTensor, WireTensor } from './onnxProtocol';

/**
 * The runtime could not get the memory a batch needs (an allocation failed, or the system
 * killed the child): the caller says which batch, and how to make it smaller.
 */
export class OnnxOutOfMemory extends UserError {}

/**
 * An onnxruntime session in a child process (onnxHost.js, a sibling bundle). A crash of the
 * native runtime ends only the child: the pending request fails with a one-line UserError
 * giving the exit code or signal. An abort kills the child.
 */
export class OnnxSession {
  private pending:
    { resolve: (r: HostReply) => void; reject: (e: Error) => void; what: string } | undefined;
  private exited: string | undefined;
  private stderrTail = '';
  /** The child's peak resident set (bytes) as of its last reply. */
  maxRss = 0;

  private constructor(
    private readonly child: ChildProcess,
    private readonly file: string,
    /** The child's own temporary folder (ONNX Runtime writes there). */
    private readonly tmp: string,
    /** Names of the graph inputs and outputs as the runtime sees them. */
    public inputs: string[] = [],
    public outputs: string[] = [],
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000);
    });
    // Idle, the child does not keep the caller alive (a handle never disposed cannot hang the
    // CLI); a request in flight refs the channel until its reply.
    child.unref();
    child.channel?.unref();
    (child.stderr as { unref?: () => void } | null)?.unref?.();
    child.on('message', (m: HostReply) => {
      const p = this.pending;
      this.pending = undefined;
      this.idle();
      p?.resolve(m);
    });
    child.on('exit', (code, signal) => {
      this.exited = signal !== null ? `signal ${signal}` : `exit code ${code ?? '?'}`;
      this.removeTmp();
      this.idle();
      const p = this.pending;
      this.pending = undefined;
      if (p !== undefined) {
        // The child's own last words: an error line if it printed one (an uncaught exception).
        const lines = this.stderrTail.split('\n').map((l) => l.trim());
        const detail = lines.find((l) => /Error\b/.test(l)) ?? lines.filter(Boolean).pop();
        const message = `${file}: the ONNX runtime crashed while ${p.what} (${this.exited}${detail ? `: ${detail}` : ''})`;
        // A SIGKILL nobody here sent is the system's out-of-memory killer.
        p.reject(
          signal === 'SIGKILL' || isOutOfMemory(detail ?? '')
            ? new OnnxOutOfMemory(message)
            : new UserError(message),
        );
      }
    });
  }

  private idle(): void {
    this.child.unref();
    this.child.channel?.unref();
  }

  /** True once the child process has ended (a crash, or close). */
  get stopped(): boolean {
    return this.exited !== undefined;
  }

  /** The child's process id (for tests that simulate a native crash). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Forks the host and creates the session from the (edited) model bytes. */
  static async open(file: string, model: Uint8Array, signal?: AbortSignal): Promise<OnnxSession> {
    // ONNX Runtime leaves files in the temporary folder (.ses, mat-debug-<pid>.log): the child
    // gets a folder of its own, removed when it ends, however it ends.
    const tmp = mkdtempSync(path.join(tmpdir(), 'memlens-onnx-'));
    const child = fork(path.join(__dirname, 'onnxHost.js'), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp },
    });
    const session = new OnnxSession(child, file, tmp);
    const reply = await session.request({ kind: 'open', model }, 'loading the model', signal);
    if (reply.kind === 'error') {
      session.close();
      throw new UserError(`${file}: the ONNX runtime cannot load the model: ${reply.message}`);
    }
    if (reply.kind === 'opened') {
      session.inputs = reply.inputs;
      session.outputs = reply.outputs;
    }
    return session;
  }

  private request(req: HostRequest, what: string, signal?: AbortSignal): Promise<HostReply> {
    if (signal?.aborted) return Promise.reject(new CancelledError());
    if (this.exited !== undefined) {
      return Promise.reject(
        new UserError(`${this.file}: the ONNX runtime has stopped (${this.exited})`),
      );
    }
    return new Promise<HostReply>((resolve, reject) => {
      // Until the reply (or the exit), the child keeps the caller's event loop alive.
      this.child.ref();
      this.child.channel?.ref();
      const onAbort = (): void => {
        this.pending = undefined;
        this.child.kill('SIGKILL');
        reject(new CancelledError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending = {
        resolve: (r) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        what,
      };
      this.child.send(req, (err) => {
        if (!err) return;
        // A broken channel means the child is ending: its exit (a crash, with the signal)
        // rejects the request; should no exit come, the send error does after a while.
        const p = this.pending;
        setTimeout(() => {
          if (p === undefined || this.pending !== p) return;
          this.pending = undefined;
          p.reject(
            new UserError(`${this.file}: cannot reach the ONNX runtime process (${err.message})`),
          );
        }, 5000).unref();
      });
    });
  }

  /** Runs one batch: the fetched outputs by name, reduced in the child as each spec says. */
  async run(
    feeds: Record<string, WireTensor>,
    fetches: FetchSpec[],
    signal?: AbortSignal,
  ): Promise<Record<string, ReducedTensor>> {
    const reply = await this.request({ kind: 'run', feeds, fetches }, 'running the model', signal);
    if (reply.kind === 'error') {
      const message = `${this.file}: the ONNX runtime failed on a batch: ${reply.message}`;
      throw reply.outOfMemory === true ? new OnnxOutOfMemory(message) : new UserError(message);
    }
    if (reply.kind !== 'result')
      throw new UserError(
        `${this.file}: expected a result from the ONNX runtime, found '${reply.kind}'`,
      );
    this.maxRss = Math.max(this.maxRss, reply.maxRss);
    return reply.outputs;
  }

  /** Ends the child process. */
  close(): void {
    if (this.exited === undefined) this.child.kill();
    this.removeTmp();
  }

  /** Removes the child's temporary folder (also when it ends on its own). */
  private removeTmp(): void {
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
