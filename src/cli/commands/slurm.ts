import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { CancelledError, UserError } from '../../core/errors';
import type { Command } from '../command';
import { intFlag } from '../flags';
import { runMerge } from './merge';
import type { ShardableName } from './shardFile';
import { SHARDABLE } from './shardFile';
import { OTHER_OUTPUTS, takeFlag } from './shardFlag';

const HELP = `Usage: memlens slurm <measure|analyze|compare> <its arguments> --out FILE --shards N
                    [--partition P] [--time T] [--cpus C] [--retries R] [--dry-run]

Runs the command as a Slurm array job of N shards ('--shard I/N' each), follows it with
squeue (and sacct where accounting answers), and merges the parts into --out (and --html,
--csv): the same result as running the command here. The script, the parts and one log per
shard go to FILE.slurm/. Shards that fail are resubmitted, at most R times (default 2).
Ctrl-C cancels the job (scancel). Needs sbatch, squeue and scancel on the PATH.

Options:
  --shards N            array tasks, each a contiguous block of the MI pairs
  --partition P         sbatch --partition
  --time T              sbatch --time (e.g. 2:00:00)
  --cpus C              sbatch --cpus-per-task (the shard's MI threads follow the CPUs
                        Slurm gives it)
  --retries R           resubmissions of failed shards (default 2)
  --dry-run             print the sbatch script; submit nothing
  -h, --help            show this help`;

export interface SlurmJob {
  command: ShardableName;
  /** The command's arguments without its outputs. */
  args: string[];
  shards: number;
  partition?: string;
  time?: string;
  cpus?: number;
  /** The folder of the script, parts and logs. */
  work: string;
  /** Where the shards run. */
  cwd: string;
  /** How to start memlens: the node binary and the CLI script. */
  memlens: string[];
}

/** A word for bash, single-quoted unless it is plainly safe. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A value of an #SBATCH line: sbatch splits those at blanks, honouring double quotes. */
function directiveQuote(value: string): string {
  return /^[^\s"']+$/.test(value) ? value : JSON.stringify(value);
}

export const partFile = (work: string, i: number): string => path.join(work, `part-${i}.mlshard`);
export const logFile = (work: string, i: number): string => path.join(work, `log-${i}.txt`);

/** The sbatch array script of `job`. */
export function sbatchScript(job: SlurmJob): string {
  const q = shellQuote;
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=memlens-${job.command}`,
    `#SBATCH --array=0-${job.shards - 1}`,
    `#SBATCH --output=${directiveQuote(path.join(job.work, 'log-%a.txt'))}`,
    // A resubmitted shard adds to its log instead of replacing the failure.
    '#SBATCH --open-mode=append',
    ...(job.cpus !== undefined ? [`#SBATCH --cpus-per-task=${job.cpus}`] : []),
    ...(job.partition !== undefined ? [`#SBATCH --partition=${job.partition}`] : []),
    ...(job.time !== undefined ? [`#SBATCH --time=${job.time}`] : []),
    `# Shard SLURM_ARRAY_TASK_ID of ${job.shards}; 'memlens merge' assembles the parts.`,
    'set -eu',
    `cd ${q(job.cwd)}`,
    `exec ${[...job.memlens, job.command, ...job.args].map(q).join(' ')} \\`,
    `  --shard "$SLURM_ARRAY_TASK_ID/${job.shards}" --out ${q(job.work)}/part-"$SLURM_ARRAY_TASK_ID".mlshard`,
  ];
  return lines.join('\n') + '\n';
}

/** Runs a Slurm tool: its stdout, or a UserError with its stderr. */
function slurmTool(
  tool: string,
  args: string[],
): Promise<{ ok: boolean; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(tool, args, { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        resolve({ ok: false, out: '', err: `${tool} not found on the PATH` });
      } else resolve({ ok: error === null, out: stdout, err: stderr.trim() });
    });
  });
}

async function sbatch(script: string, array?: number[]): Promise<string> {
  const r = await slurmTool('sbatch', [
    '--parsable',
    ...(array !== undefined ? [`--array=${array.join(',')}`] : []),
    script,
  ]);
  if (!r.ok) throw new UserError(`slurm: sbatch failed: ${r.err || 'no message'}`);
  return r.out.trim().split(';')[0];
}

/** The job's tasks squeue still lists, by state; null when it lists none (the job ended). */
async function queued(jobId: string): Promise<Map<string, number> | null> {
  const r = await slurmTool('squeue', ['-h', '-r', '-j', jobId, '-o', '%T']);
  // squeue answers "Invalid job id" for a job already purged.
  if (!r.ok && /invalid job id/i.test(r.err)) return null;
  if (!r.ok) throw new UserError(`slurm: squeue failed: ${r.err || 'no message'}`);
  const states = r.out.split('\n').filter((s) => s.trim() !== '');
  if (states.length === 0) return null;
  const counts = new Map<string, number>();
  for (const s of states) counts.set(s.trim(), (counts.get(s.trim()) ?? 0) + 1);
  return counts;
}

/** What sacct says of the job's tasks (task -> state), or null where accounting is off. */
async function accounting(jobId: string): Promise<Map<number, string> | null> {
  const r = await slurmTool('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'JobID,State']);
  if (!r.ok) return null;
  const states = new Map<number, string>();
  for (const line of r.out.split('\n')) {
    const m = /^\d+_(\d+)\|(\S+)/.exec(line.trim());
    if (m !== null) states.set(Number(m[1]), m[2]);
  }
  return states;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // An abort during the squeue call before would never fire 'abort' again.
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export interface FollowOptions {
  retries: number;
  /** Between squeue polls. */
  pollMs: number;
  signal: AbortSignal;
  report: (line: string) => void;
}

/**
 * Submits the script, follows the job until squeue lists none of it, resubmits the shards whose
 * part is missing (at most `retries` times), and returns the part files. Cancelling scancels.
 */
export async function runArray(
  script: string,
  job: SlurmJob,
  opts: FollowOptions,
): Promise<string[]> {
  const parts = Array.from({ length: job.shards }, (_, i) => partFile(job.work, i));
  const missing = (): number[] => parts.flatMap((p, i) => (existsSync(p) ? [] : [i]));
  let todo = missing();
  for (let attempt = 0; todo.length > 0; attempt++) {
    const jobId = await sbatch(
      script,
      attempt === 0 && todo.length === job.shards ? undefined : todo,
    );
    opts.report(
      `submitted job ${jobId}: ${attempt === 0 ? `${job.shards} shards` : `shard${todo.length > 1 ? 's' : ''} ${todo.join(', ')} again`}`,
    );
    let last = '';
    for (;;) {
      if (opts.signal.aborted) {
        await slurmTool('scancel', [jobId]);
        throw new CancelledError();
      }
      const states = await queued(jobId);
      const done = job.shards - missing().length;
      const status =
        states === null
          ? ''
          : [...states].map(([state, n]) => `, ${n} ${state.toLowerCase()}`).join('');
      const line = `job ${jobId}: ${done}/${job.shards} shards done${status}`;
      if (line !== last) opts.report(line);
      last = line;
      if (states === null) break;
      await sleep(opts.pollMs, opts.signal);
    }
    todo = missing();
    if (todo.length > 0 && attempt >= opts.retries) {
      const states = await accounting(jobId);
      const named = todo.map((i) => {
        const state = states?.get(i);
        return `${i}${state !== undefined ? ` (${state})` : ''}: ${logFile(job.work, i)}`;
      });
      throw new UserError(
        `slurm: shard${todo.length > 1 ? 's' : ''} ${todo.join(', ')} of ${job.shards} wrote no part after ${attempt + 1} submissions; see ${named.join(', ')}`,
      );
    }
  }
  return parts;
}

/** `memlens slurm`: see HELP. */
export async function runSlurm(args: string[], signal: AbortSignal): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP + '\n');
    return sub === undefined ? 2 : 0;
  }
  if (!(SHARDABLE as readonly string[]).includes(sub)) {
    throw new UserError(
      `slurm: expected one of ${SHARDABLE.join(', ')}, found '${sub}'; see 'memlens slurm --help'`,
    );
  }
  const command = sub as ShardableName;
  let remaining = rest;
  const take = (name: string): string | undefined => {
    const t = takeFlag(remaining, name);
    remaining = t.rest;
    return t.value;
  };
  const dryRun = remaining.includes('--dry-run');
  remaining = remaining.filter((a) => a !== '--dry-run');
  const shards = intFlag('shards', take('shards'), 1, 100_000);
  if (shards === undefined) throw new UserError(`slurm: expected --shards N, found none`);
  const partition = take('partition');
  const time = take('time');
  const cpus = intFlag('cpus', take('cpus'), 1, 1024);
  const retries = intFlag('retries', take('retries'), 0, 100) ?? 2;
  if (remaining.includes('--shard') || remaining.some((a) => a.startsWith('--shard=')))
    throw new UserError(`slurm: --shard is set per task; give --shards N only`);
  const out = take('out');
  if (out === undefined || out === '-')
    throw new UserError(`slurm: expected --out FILE, where the merged result goes`);
  const outputs: string[] = ['--out', path.resolve(out)];
  for (const other of OTHER_OUTPUTS[command]) {
    const file = take(other);
    if (file !== undefined) outputs.push(`--${other}`, path.resolve(file));
  }
  const work = path.resolve(`${out}.slurm`);
  const job: SlurmJob = {
    command,
    args: remaining,
    shards,
    ...(partition !== undefined ? { partition } : {}),
    ...(time !== undefined ? { time } : {}),
    ...(cpus !== undefined ? { cpus } : {}),
    work,
    cwd: process.cwd(),
    memlens: [process.execPath, path.resolve(process.argv[1])],
  };
  const text = sbatchScript(job);
  if (dryRun) {
    process.stdout.write(text);
    return 0;
  }
  // A fresh run: parts and logs of an earlier one would pass for this one's.
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const script = path.join(work, 'job.sh');
  await writeFile(script, text, { mode: 0o755 });
  const tty = process.stderr.isTTY === true;
  const report = (line: string): void => {
    process.stderr.write(tty ? `\r\x1b[Kmemlens: slurm ${line}` : `memlens: slurm ${line}\n`);
  };
  const parts = await runArray(script, job, { retries, pollMs: 1000, signal, report });
  if (tty) process.stderr.write('\n');
  return runMerge([...parts, ...outputs], signal);
}

export const slurmCommand: Command = {
  summary: 'run measure, analyze or compare as a Slurm array job and merge its shards',
  run: runSlurm,
};
