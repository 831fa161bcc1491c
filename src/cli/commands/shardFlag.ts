import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MI_RATE_ENV } from '../../core/analysis/miRate';
import { UserError } from '../../core/errors';
import type { ShardSpec } from '../../core/mi/shards';
import { runShard } from '../../core/mi/shards';
import type { Command } from '../command';
import type { ShardableName } from './shardFile';
import { PART_VERSION, digestInputs, writePart } from './shardFile';

/** The help lines of --shard, for measure, analyze and compare. */
export const SHARD_HELP = `Sharding (see docs/scaling.md):
  --shard I/N           compute only tile I (0 to N-1) of the MI pairs and write a part
                        file to --out; 'memlens merge' assembles N parts into the result.
                        --shard auto takes I (and N) from the batch engine's environment.
                        A shard reads only the columns of its pairs from an .npy dump (a
                        model: from its capture, streamed to a temporary .npy)`;

/** Index variables of batch engines, in the order --shard auto tries them. */
const INDEX_VARS = [
  'SLURM_ARRAY_TASK_ID',
  'JOB_COMPLETION_INDEX',
  'AWS_BATCH_JOB_ARRAY_INDEX',
  'BATCH_TASK_INDEX',
  'MEMLENS_SHARD_INDEX',
];
/** Count variables, likewise (Kubernetes and AWS Batch have none: give auto/N). */
const COUNT_VARS = ['SLURM_ARRAY_TASK_COUNT', 'BATCH_TASK_COUNT', 'MEMLENS_SHARD_COUNT'];

/** Parses `I/N`, `auto` or `auto/N` (the index from the environment). */
export function parseShard(text: string, env: NodeJS.ProcessEnv = process.env): ShardSpec {
  const m = /^(\d+|auto)(?:\/(\d+))?$/.exec(text.trim());
  if (m === null || (m[1] !== 'auto' && m[2] === undefined)) {
    throw new UserError(`--shard: expected I/N (0 <= I < N), auto or auto/N, found '${text}'`);
  }
  const fromEnv = (vars: string[], what: string): number => {
    const name = vars.find((v) => env[v] !== undefined && env[v] !== '');
    if (name === undefined) {
      throw new UserError(
        `--shard auto: expected the shard ${what} in one of ${vars.join(', ')}, found none set`,
      );
    }
    const value = Number(env[name]);
    if (!Number.isInteger(value) || value < 0)
      throw new UserError(`--shard auto: expected an integer in ${name}, found '${env[name]}'`);
    return value;
  };
  const index = m[1] === 'auto' ? fromEnv(INDEX_VARS, 'index') : Number(m[1]);
  const count = m[2] !== undefined ? Number(m[2]) : fromEnv(COUNT_VARS, 'count');
  if (count < 1 || index >= count)
    throw new UserError(`--shard: expected 0 <= I < N, found ${index}/${count}`);
  return { index, count };
}

/**
 * Takes flag `name` (`--name V` or `--name=V`) out of `args`: its last value (undefined if
 * absent) and the other arguments.
 */
export function takeFlag(args: string[], name: string): { value?: string; rest: string[] } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === `--${name}`) {
      if (i + 1 >= args.length) throw new UserError(`--${name}: expected a value, found none`);
      value = args[++i];
    } else if (arg.startsWith(`--${name}=`)) {
      value = arg.slice(name.length + 3);
    } else {
      rest.push(arg);
    }
  }
  return { value, rest };
}

/**
 * The kernel rate (pairs/s on one thread) a sharded run plans its MI with unless
 * MEMLENS_MI_RATE sets one: the plan (docs/measures.md, "The plan") then depends on the inputs
 * and options only, never on a timing, so every shard and the merge choose the same pairs.
 * The native kernel's figure at S = 2,000.
 */
export const SHARD_MI_RATE = '6400';

/** Runs `fn` with MEMLENS_MI_RATE set to `rate`, as it was afterwards. */
export async function withMiRate<T>(rate: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env[MI_RATE_ENV];
  process.env[MI_RATE_ENV] = rate;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[MI_RATE_ENV];
    else process.env[MI_RATE_ENV] = before;
  }
}

/** The report outputs of each command besides --out, which a shard does not write. */
export const OTHER_OUTPUTS: Record<ShardableName, string[]> = {
  measure: [],
  analyze: ['html', 'csv'],
  compare: ['html', 'csv'],
};

/**
 * `command` with --shard: the command runs computing only the shard's pairs (measure, analyze
 * and compare see currentShard() and compute nothing else), and the part file goes to --out
 * instead of its outputs.
 */
export function shardable(name: ShardableName, command: Command): Command {
  return {
    summary: command.summary,
    async run(args, signal) {
      if (args.includes('--help') || args.includes('-h')) {
        const code = await command.run(args, signal);
        process.stdout.write(`\n${SHARD_HELP}\n`);
        return code;
      }
      const shardFlag = takeFlag(args, 'shard');
      if (shardFlag.value === undefined) return command.run(args, signal);
      const shard = parseShard(shardFlag.value);
      const outFlag = takeFlag(shardFlag.rest, 'out');
      if (outFlag.value === undefined || outFlag.value === '-')
        throw new UserError(`--shard: expected --out PART, the part file to write`);
      let recorded = outFlag.rest;
      for (const other of OTHER_OUTPUTS[name]) recorded = takeFlag(recorded, other).rest;
      const cwd = process.cwd();
      const miRate = process.env[MI_RATE_ENV]?.trim() || SHARD_MI_RATE;
      const inputs = await digestInputs(recorded, cwd);
      const scratch = await mkdtemp(path.join(tmpdir(), 'memlens-shard-'));
      try {
        const { result: code, blocks } = await runShard(shard, () =>
          withMiRate(miRate, () =>
            quietStdout(() =>
              command.run([...recorded, '--out', path.join(scratch, 'discarded.json')], signal),
            ),
          ),
        );
        if (code !== 0) return code;
        await writePart(
          outFlag.value,
          {
            format: 'memlens-shard',
            version: PART_VERSION,
            command: name,
            args: recorded,
            cwd,
            inputs,
            miRate,
            shard,
          },
          blocks,
          signal,
        );
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
      return 0;
    },
  };
}

/** Runs `fn` with standard output swallowed (a shard's table and "wrote" lines mean nothing). */
async function quietStdout<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
  }
}
