// The one check every output of a run goes through before any long work (the CLI's --out,
// --html, --csv, capture's sidecar, demo's reports), and the part of it writeFileAtomic repeats
// at write time: an output never replaces an input of the same run, two outputs never name one
// file, a device, FIFO, socket or folder is never replaced by a regular file, and a symbolic
// link is written through (its target is replaced, the link stays).
import type { BigIntStats } from 'node:fs';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';

/** A file a run reads or writes, with what it is for the messages ('--out', 'probe'...). */
export interface RunFile {
  file: string;
  role: string;
}

/** Longest chain of symbolic links followed, as Linux's (ELOOP beyond). */
const MAX_LINKS = 40;

/** Case-insensitive file systems by default: there two spellings may name one file. */
const fold =
  process.platform === 'win32' || process.platform === 'darwin'
    ? (p: string): string => p.toLowerCase()
    : (p: string): string => p;

async function lstatOrNull(p: string): Promise<BigIntStats | null> {
  return fs.lstat(p, { bigint: true }).catch(() => null);
}

/** What a path names, for messages ('a FIFO (named pipe)'). */
function kindOf(st: BigIntStats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'a special file';
}

/** The absolute path with its longest existing prefix resolved (symbolic links followed). */
async function realpathLoose(p: string): Promise<string> {
  const rest: string[] = [];
  let cur = path.resolve(p);
  for (;;) {
    try {
      return path.join(await fs.realpath(cur), ...rest.reverse());
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) return path.resolve(p);
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}

/**
 * The file a write to `file` replaces: the absolute path with every symbolic link followed,
 * also a dangling one (to the file it would create).
 */
async function followLinks(file: string): Promise<string> {
  let p = path.resolve(file);
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    p = path.join(await realpathLoose(path.dirname(p)), path.basename(p));
    const st = await lstatOrNull(p);
    if (st === null || !st.isSymbolicLink()) return p;
    p = path.resolve(path.dirname(p), await fs.readlink(p));
  }
  throw new UserError(
    `${file}: cannot write output (ELOOP): expected a file path, found more than ${MAX_LINKS} symbolic links in a row`,
  );
}

/**
 * Where a write to `file` goes: the target of its symbolic links, which must be a regular file
 * or not exist yet (a one-line UserError for a folder, device, FIFO or socket). writeFileAtomic
 * calls it at write time; {@link guardOutputs} before the work.
 */
export async function outputTarget(file: string): Promise<string> {
  const target = await followLinks(file);
  const st = await lstatOrNull(target);
  if (st?.isDirectory()) {
    throw new UserError(`${file}: cannot write output: expected a file path, found a folder`);
  }
  if (st !== null && !st.isFile()) {
    const via = target === path.resolve(file) ? '' : ` ('${target}', through a symbolic link)`;
    throw new UserError(
      `${file}: cannot write output: expected a regular file or a new path, found ${kindOf(st)}${via}`,
    );
  }
  return target;
}

/** An input as it is on disk: its real path, identity and whether everything under it counts. */
interface ResolvedInput extends RunFile {
  real: string;
  id: string;
  folder: boolean;
}

const identity = (st: BigIntStats): string => `${st.dev}:${st.ino}`;

async function resolveInputs(inputs: readonly RunFile[]): Promise<ResolvedInput[]> {
  const out: ResolvedInput[] = [];
  for (const input of inputs) {
    // An input that does not exist has nothing to lose (and fails later with its own message).
    const real = await fs.realpath(input.file).catch(() => null);
    const st = real === null ? null : await fs.stat(real, { bigint: true }).catch(() => null);
    if (real === null || st === null) continue;
    out.push({ ...input, real, id: identity(st), folder: st.isDirectory() });
  }
  return out;
}

function isInside(child: string, folder: string): boolean {
  const rel = path.relative(fold(folder), fold(child));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export interface GuardOptions {
  /** Create the missing folders of the outputs (after the other checks pass). */
  createFolders?: boolean;
}

/**
 * Refuses, with a one-line UserError naming the file, what was expected and what was found,
 * any output of a run that:
 * - is an input of the run (the same real path or the same file, through symbolic links, hard
 *   links or bind mounts) or lies inside an input folder (a model folder, an image folder);
 * - names the same file as another output of the run;
 * - is a folder, device, FIFO or socket (or a symbolic link to one);
 * - lies in a folder that does not exist or is not writable.
 * '-' (standard output) is skipped. `inputs` lists every file and folder the run reads: a
 * model with its content files (weight shards) and, for a folder model, its folder.
 */
export async function guardOutputs(
  outputs: readonly RunFile[],
  inputs: readonly RunFile[],
  opts: GuardOptions = {},
): Promise<void> {
  const resolvedInputs = await resolveInputs(inputs);
  const seen = new Map<string, RunFile>();
  const targets: { output: RunFile; target: string }[] = [];
  for (const output of outputs) {
    if (output.file === '-') continue;
    const target = await followLinks(output.file);
    const st = await fs.stat(target, { bigint: true }).catch(() => null);
    const same = resolvedInputs.find(
      (input) => fold(target) === fold(input.real) || (st !== null && identity(st) === input.id),
    );
    if (same !== undefined) {
      throw new UserError(
        `${output.file}: cannot write output (${output.role}): expected a path that is not an input of this run, found the ${same.role} '${same.file}'`,
      );
    }
    for (const input of resolvedInputs) {
      if (input.folder && isInside(target, input.real)) {
        throw new UserError(
          `${output.file}: cannot write output (${output.role}): expected a path outside the inputs of this run, found it inside the ${input.role} '${input.file}'`,
        );
      }
    }
    for (const key of [fold(target), ...(st === null ? [] : [identity(st)])]) {
      const other = seen.get(key);
      if (other !== undefined) {
        throw new UserError(
          `${output.file}: cannot write output (${output.role}): expected one file per output, found ${other.role} naming the same file`,
        );
      }
      seen.set(key, output);
    }
    targets.push({ output, target });
  }
  for (const { output, target } of targets) {
    const dir = path.dirname(target);
    if (opts.createFolders === true) {
      await fs.mkdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
        throw new UserError(
          `${output.file}: cannot create the output folder (${err.code ?? 'error'}): expected a writable location, found '${dir}'`,
        );
      });
    }
    try {
      await fs.access(dir, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new UserError(
        `${output.file}: cannot write output (${code}): expected an existing, writable folder '${dir}'`,
      );
    }
    await outputTarget(output.file);
  }
}
