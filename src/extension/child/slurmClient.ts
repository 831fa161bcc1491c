/**
 * Runs `memlens slurm ...` (the bundled CLI, dist/cli.js) in a child process of the extension
 * host: the CLI submits the sbatch array, follows it with squeue, resubmits missing shards and
 * merges the parts; this reads its progress lines. Cancelling sends SIGINT, on which the CLI
 * scancels the job, and waits for it to exit. No VS Code imports.
 */
import { fork } from 'node:child_process';
import { CancelledError, UserError } from '../../core/errors';
import type { SlurmProgress } from '../logic/slurmJob';
import { parseSlurmLine } from '../logic/slurmJob';

export interface SlurmRunOptions {
  /** The working directory: the workspace folder (on a PyTorch model's sys.path). */
  cwd: string;
  shards: number;
  signal?: AbortSignal;
  onProgress?: (p: SlurmProgress) => void;
  /** Every stderr line, for the log. */
  onLog?: (line: string) => void;
}

/** After SIGINT, how long the CLI gets to scancel and exit before SIGKILL. */
const CANCEL_GRACE_MS = 10_000;

/** Runs the CLI with `args`; resolves when it exits 0, rejects with its one-line error. */
export function runSlurmCli(
  cliScript: string,
  args: string[],
  opts: SlurmRunOptions,
): Promise<void> {
  if (opts.signal?.aborted) return Promise.reject(new CancelledError());
  return new Promise((resolve, reject) => {
    const child = fork(cliScript, args, {
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // VS Code's extension host runs on Electron: the CLI (and the shards sbatch starts from
      // this environment) run as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    let lastError = '';
    let pending = '';
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      cancelled = true;
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), CANCEL_GRACE_MS);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout?.resume();
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        opts.onLog?.(line);
        const progress = parseSlurmLine(line, opts.shards);
        if (progress !== undefined) opts.onProgress?.(progress);
        else if (line.startsWith('memlens: ')) lastError = line.slice('memlens: '.length);
      }
    });
    child.on('error', (err) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new UserError(`memlens slurm could not start: ${err.message}`));
    });
    // 'close', not 'exit': the last stderr lines are read by then.
    child.on('close', (code) => {
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (pending.trim() !== '') {
        opts.onLog?.(pending);
        if (pending.startsWith('memlens: ')) lastError = pending.slice('memlens: '.length);
      }
      if (cancelled) reject(new CancelledError());
      else if (code === 0) resolve();
      else reject(new UserError(lastError || `memlens slurm stopped (exit code ${code})`));
    });
  });
}
