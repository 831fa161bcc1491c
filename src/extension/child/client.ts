/**
 * Runs a job in a child process (dist/analysisHost.js) and maps its messages onto
 * JobOptions. Cancelling kills the child at once (SIGKILL follows SIGTERM after 300 ms), so
 * the work, its MI worker threads included, stops within a second. No VS Code imports.
 */
import { fork } from 'node:child_process';
import { CancelledError, UserError, throwIfAborted } from '../../core/errors';
import type { JobOptions } from '../../core/progress';
import { isChildMessage } from './protocol';
import type { JobRequest, JobResults } from './protocol';

/** How long progress messages and stderr are kept for an error message (characters). */
const STDERR_TAIL = 2000;

/**
 * The inspector port of the analysis child when MEMLENS_INSPECT_CHILD=1 is set in the
 * extension host's environment (the "Attach to analysis child" launch configuration in
 * .vscode/launch.json attaches to it; see CONTRIBUTING.md).
 */
export const CHILD_INSPECT_PORT = 9230;

/**
 * Node flags for the analysis child. With MEMLENS_INSPECT_CHILD=1: the parent's flags less its
 * own --inspect* ones, plus --inspect-brk on {@link CHILD_INSPECT_PORT}, so that the child
 * (which lives for one job) waits at its first line until a debugger attaches. Otherwise
 * undefined: fork's default, the parent's flags.
 */
export function childExecArgv(
  env: NodeJS.ProcessEnv = process.env,
  parentArgv: readonly string[] = process.execArgv,
): string[] | undefined {
  if (env.MEMLENS_INSPECT_CHILD !== '1') return undefined;
  return [
    ...parentArgv.filter((a) => !/^--inspect(-brk|-port|-wait)?(=|$)/.test(a)),
    `--inspect-brk=${CHILD_INSPECT_PORT}`,
  ];
}

export interface RunJobOptions extends JobOptions {
  /** Receives the child's stderr lines (for the output channel). */
  onLog?: (line: string) => void;
  /** Called with the child's pid once it is running (tests check it is gone after cancel). */
  onSpawn?: (pid: number) => void;
  /**
   * The watchdog: after this many milliseconds the child is killed and the job fails with a
   * UserError. Default {@link JOB_TIMEOUT_MS} for the job's type; null: none.
   */
  timeoutMs?: number | null;
}

/**
 * Default time limits per job type (ms). Reading a model for the viewer or hashing it should
 * take seconds: far longer means a damaged or crafted file keeps a reader busy (a loop in a
 * parser, a blocking read), and nothing else would stop it. Analyses and compares have none:
 * they report progress and have Cancel.
 */
export const JOB_TIMEOUT_MS: Record<JobRequest['type'], number | null> = {
  'job/inspect': 60_000,
  'job/identify': 120_000,
  'job/probeFit': 60_000,
  'job/analyze': null,
  'job/compare': null,
};

/** The message of a job stopped by its watchdog: what it was reading, what it was doing. */
function timeoutMessage(job: JobRequest, ms: number): string {
  const seconds = ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
  switch (job.type) {
    case 'job/inspect':
      return `${job.source}: reading the model took longer than ${seconds}; it may be damaged or crafted`;
    case 'job/identify': {
      const more = job.sources.length > 1 ? ` (and ${job.sources.length - 1} more)` : '';
      return `${job.sources[0] ?? 'the models'}${more}: reading the model took longer than ${seconds}; it may be damaged or crafted`;
    }
    case 'job/analyze':
      return `${job.source}: analysing the model took longer than ${seconds}; it may be damaged or crafted`;
    case 'job/compare':
      return `${job.paths[0] ?? 'the models'}: comparing the models took longer than ${seconds}; one may be damaged or crafted`;
    case 'job/probeFit':
      return `${job.model ?? job.candidates[0] ?? 'the probe files'}: reading the model or probe files took longer than ${seconds}; one may be damaged or crafted`;
  }
}

/** Runs one job in a fresh child process running `hostScript`. */
export function runJob<T extends JobRequest>(
  hostScript: string,
  job: T,
  opts: RunJobOptions = {},
): Promise<JobResults[T['type']]> {
  throwIfAborted(opts.signal);
  return new Promise((resolve, reject) => {
    const child = fork(hostScript, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: childExecArgv(),
      // VS Code's extension host runs on Electron: make the child behave as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    let settled = false;
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    let watchdog: NodeJS.Timeout | undefined;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      clearTimeout(watchdog);
      fn();
    };
    const onAbort = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 300);
      killTimer.unref();
      finish(() => reject(new CancelledError()));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    // The watchdog (none while the child waits for a debugger: MEMLENS_INSPECT_CHILD). A
    // child stuck in a loop never handles SIGTERM: SIGKILL follows, as on cancel.
    const limit = opts.timeoutMs === undefined ? JOB_TIMEOUT_MS[job.type] : opts.timeoutMs;
    if (!settled && limit !== null && limit > 0 && childExecArgv() === undefined) {
      watchdog = setTimeout(() => {
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), 300);
        killTimer.unref();
        finish(() => reject(new UserError(timeoutMessage(job, limit))));
      }, limit);
    }

    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) opts.onLog?.(line);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
      for (const line of chunk.split('\n')) if (line.trim()) opts.onLog?.(line);
    });
    child.on('message', (msg: unknown) => {
      if (!isChildMessage(msg)) return;
      switch (msg.type) {
        case 'job/progress':
          if (!settled) opts.onProgress?.(msg.progress);
          break;
        case 'job/result':
          finish(() => resolve(msg.result as JobResults[T['type']]));
          break;
        case 'job/error':
          finish(() => reject(msg.user ? new UserError(msg.message) : new Error(msg.message)));
          break;
      }
    });
    child.on('error', (err) => finish(() => reject(err)));
    // 'close', not 'exit': the result message can still be in the IPC channel when the child
    // has exited (seen once under load), and 'close' comes after the channel is drained.
    child.on('close', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      // Node prints an uncaught error as the stack, then a blank line and its version: the
      // line naming the error says most.
      const lines = stderr
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const tail = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.slice(-2).join(' | ');
      finish(() =>
        reject(
          new Error(
            `the analysis process stopped unexpectedly (${signal ?? `exit code ${code}`})${tail ? `: ${tail}` : ''}`,
          ),
        ),
      );
    });
    child.send(job, (err) => {
      if (err) finish(() => reject(err));
    });
  });
}
