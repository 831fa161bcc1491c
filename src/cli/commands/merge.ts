import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { UserError } from '../../core/errors';
import type { ShardPart } from '../../core/mi/shards';
import { runMerged } from '../../core/mi/shards';
import type { Command } from '../command';
import { analyzeCommand } from './analyze';
import { compareCommand } from './compare';
import { measureCommand } from './measure';
import type { PartHeader, ShardableName } from './shardFile';
import { digestInputs, partKey, readPart } from './shardFile';
import { OTHER_OUTPUTS, withMiRate } from './shardFlag';

const HELP = `Usage: memlens merge <part>... [--out FILE] [--html FILE --csv FILE]

Assembles the part files of 'memlens measure|analyze|compare --shard I/N' (all N of them,
from the same inputs and options) into what the command writes without --shard: the same
values bit for bit, whatever N (the single run with MEMLENS_MI_RATE set as the shards had
it: 6400 unless set, so that the MI plan never depends on a timing). Re-reads the inputs the shards named (from the folder they
ran in) and computes the entropy and summaries; only the MI pairs come from the parts.

Options:
  --out FILE            the result (measure: its JSON, default standard output; analyze and
                        compare: the JSON report)
  --html FILE           analyze and compare: the HTML report
  --csv FILE            analyze and compare: the per-layer table
  -h, --help            show this help`;

/** The commands as they run without --shard. */
const PLAIN: Record<ShardableName, Command> = {
  measure: measureCommand,
  analyze: analyzeCommand,
  compare: compareCommand,
};

/**
 * Reads the parts and checks they are shards 0..N-1, each once, of one command on the same
 * inputs and options: otherwise a UserError naming the file (or the missing shards).
 */
export async function readParts(
  files: string[],
): Promise<{ header: PartHeader; parts: ShardPart[] }> {
  if (files.length === 0) throw new UserError(`merge: expected part files, found none`);
  const read = [];
  for (const file of files) read.push(await readPart(file));
  const first = read[0];
  const key = partKey(first.header);
  const byIndex = new Map<number, string>();
  for (const { header, part } of read) {
    if (partKey(header) !== key) {
      throw new UserError(
        `${part.file}: a part of another job than ${first.part.file} (${describe(header)} against ${describe(first.header)})`,
      );
    }
    const other = byIndex.get(part.shard.index);
    if (other !== undefined) {
      throw new UserError(
        `${part.file}: duplicate of shard ${part.shard.index}/${part.shard.count}, already in ${other}`,
      );
    }
    byIndex.set(part.shard.index, part.file);
  }
  const count = first.header.shard.count;
  const missing = [];
  for (let i = 0; i < count; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) {
    throw new UserError(
      `merge: missing shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} (${files.length} of ${count} parts given)`,
    );
  }
  const parts = read.map((r) => r.part).sort((a, b) => a.shard.index - b.shard.index);
  return { header: first.header, parts };
}

function describe(h: PartHeader): string {
  return `${h.command} ${h.args.join(' ')}, ${h.shard.count} shards`;
}

/** `memlens merge`: see HELP. */
export async function runMerge(args: string[], signal: AbortSignal): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        html: { type: 'string' },
        csv: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UserError(`merge: ${(err as Error).message}; see 'memlens merge --help'`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const { header, parts } = await readParts(positionals);
  const outputs: string[] = [];
  const resolve = (p: string): string => (p === '-' ? p : path.resolve(p));
  if (v.out !== undefined) outputs.push('--out', resolve(v.out));
  for (const flag of ['html', 'csv'] as const) {
    const file = v[flag];
    if (file === undefined) continue;
    if (!OTHER_OUTPUTS[header.command].includes(flag))
      throw new UserError(`merge --${flag}: ${header.command} has no such output`);
    outputs.push(`--${flag}`, resolve(file));
  }
  // The shards' arguments name files relative to the folder they ran in.
  const inputs = await digestInputs(header.args, header.cwd);
  for (const want of header.inputs) {
    const now = inputs.find((i) => i.path === want.path);
    if (now === undefined || now.sha256 !== want.sha256) {
      throw new UserError(
        `${path.resolve(header.cwd, want.path)}: changed since the shards read it (${parts[0].file})`,
      );
    }
  }
  const here = process.cwd();
  process.chdir(header.cwd);
  try {
    return await runMerged(parts, () =>
      withMiRate(header.miRate, () =>
        PLAIN[header.command].run([...header.args, ...outputs], signal),
      ),
    );
  } finally {
    process.chdir(here);
  }
}

export const mergeCommand: Command = {
  summary: 'assemble the part files of sharded measure, analyze or compare runs',
  run: runMerge,
};
