// Runs fuzz cases (test/fuzz/cases.ts) through the real CLI as child processes and judges them.
// A case passes when the CLI either succeeds (exit 0, exactly the expected outputs in out/, each
// valid) or fails cleanly (exit 1 or 2, one stderr line `memlens: ...` besides any `warning:`
// lines, no output and no temporary file left anywhere in the case folder). Anything else is a
// failure of one kind (FailureKind). Each child runs in its own process group, with a heap cap
// (--max-old-space-size), a resident-memory cap over its process tree (polled from /proc on
// Linux) and a time limit, after which the whole group is SIGKILLed and the case is a hang.
import { spawn } from 'node:child_process';
import type { Dirent } from 'node:fs';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { parseNpy } from '../../src/core/io/npy';
import type { FuzzCase, ReaderName, Seeds } from './cases';
import { makeCase } from './cases';

export const FAILURE_KINDS = [
  'hang',
  'memory',
  'signal',
  'orphan',
  'internal-error',
  'stack-trace',
  'hdf5-diag',
  'multi-line',
  'no-message',
  'bad-prefix',
  'exit-code',
  'bad-output',
  'leftover',
  'temp-file',
  'input-changed',
  'read-outside',
  'noisy-success',
] as const;
/**
 * hang: still running at the time limit; memory: over the heap or resident-memory cap; signal:
 * killed by a signal; orphan: a child process outlived the CLI; internal-error: `memlens:
 * internal error` (exit 70); stack-trace: a `    at ` line; hdf5-diag: HDF5's C diagnostics;
 * multi-line / no-message: not exactly one error line; bad-prefix: the line does not start
 * `memlens: `; exit-code: an exit code other than 0, 1, 2; bad-output: success with a missing,
 * extra or invalid output; leftover: a failure left an output in out/, or a run left a file beside
 * the inputs; temp-file: a run (failed or not) left a file in its TMPDIR;
 * input-changed: an input file was changed or removed; read-outside: success although the model
 * refers to a file outside its folder; noisy-success: success with stderr lines that are neither
 * `memlens: ` nor `warning: ` lines.
 */
export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface Limits {
  /** Per case (ms); then the process group is SIGKILLed. */
  timeoutMs: number;
  /** --max-old-space-size of the CLI (MB). */
  heapMb: number;
  /** Resident memory of the CLI's process tree (MB), polled; then SIGKILL. */
  rssMb: number;
}

export const DEFAULT_LIMITS: Limits = { timeoutMs: 20_000, heapMb: 1024, rssMb: 2048 };

export interface Verdict {
  ok: boolean;
  kind?: FailureKind;
  detail: string;
  exit: number | null;
  signal: string | null;
  ms: number;
  stdout: string;
  stderr: string;
  /** The first non-empty stderr line (cut to 300 characters). */
  firstLine: string;
}

export interface CaseResult {
  reader: ReaderName;
  seed: number;
  index: number;
  seedName: string;
  mutation: string;
  argv: string[];
  verdict: Verdict;
  /** Where the failing case folder was kept, if it was. */
  savedTo?: string;
}

const MAX_STREAM = 256 * 1024;

/** Writes a case's files and links under `dir` (model/, outside/, probe/, out/, tmp/). */
export function writeCase(c: FuzzCase, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['model', 'outside', 'probe', 'out', 'tmp']) {
    mkdirSync(path.join(dir, sub), { recursive: true });
  }
  for (const [rel, bytes] of Object.entries(c.files)) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
  for (const [rel, target] of Object.entries(c.links)) {
    const link = path.join(dir, rel);
    rmSync(link, { force: true });
    symlinkSync(target, link);
  }
}

/** Every entry under `dir` (recursively, symlinks not followed): relative path -> size:mtime. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  const entries: Dirent[] = readdirSync(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    const full = path.join(e.parentPath, e.name);
    const st = lstatSync(full);
    out.set(path.relative(dir, full), e.isDirectory() ? 'dir' : `${st.size}:${st.mtimeMs}`);
  }
  return out;
}

/** Resident memory (KB) of `pid` and its descendants, from /proc; 0 where /proc is missing. */
function treeRssKb(pid: number): number {
  let total = 0;
  const stack = [pid];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const p = stack.pop() as number;
    if (seen.has(p)) continue;
    seen.add(p);
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+)/.exec(status);
      if (m !== null) total += Number(m[1]);
      for (const task of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        if (kids !== '') stack.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // Gone, or no /proc: nothing to add.
    }
  }
  return total;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface RawRun {
  exit: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
  memoryKilled: boolean;
  orphan: boolean;
}

/** Runs `node <cli> <argv>` in `cwd` as the leader of a new process group, within `limits`. */
export async function runCli(
  cli: string,
  argv: string[],
  cwd: string,
  limits: Limits,
  debug = false,
): Promise<RawRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: path.join(cwd, 'tmp'), NO_COLOR: '1' };
  delete env.MEMLENS_DEBUG;
  delete env.NODE_OPTIONS;
  // MEMLENS_DEBUG=1 prints an internal error's stack (for --case --debug; judged a stack trace).
  if (debug) env.MEMLENS_DEBUG = '1';
  const start = Date.now();
  const child = spawn(process.execPath, [`--max-old-space-size=${limits.heapMb}`, cli, ...argv], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = child.pid as number;
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    if (stdout.length < MAX_STREAM) stdout += d;
  });
  child.stderr.on('data', (d: string) => {
    if (stderr.length < MAX_STREAM) stderr += d;
  });
  let timedOut = false;
  let memoryKilled = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(pgid);
  }, limits.timeoutMs);
  const poll = setInterval(() => {
    if (treeRssKb(pgid) > limits.rssMb * 1024) {
      memoryKilled = true;
      killGroup(pgid);
    }
  }, 200);
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const [exit, signal] = await new Promise<[number | null, string | null]>((resolve) => {
    child.on('exit', (code, sig) => resolve([code, sig]));
    child.on('error', () => resolve([null, 'spawn-error']));
  });
  clearTimeout(timer);
  clearInterval(poll);
  const ms = Date.now() - start;
  // A helper (the ONNX Runtime host, an MI worker process) must end with the CLI.
  let orphan = false;
  for (let i = 0; i < 20 && groupAlive(pgid); i++) await sleep(100);
  if (groupAlive(pgid)) {
    orphan = true;
    killGroup(pgid);
  }
  await Promise.race([closed, sleep(2000)]);
  return { exit, signal, stdout, stderr, ms, timedOut, memoryKilled, orphan };
}

const cut = (s: string, n = 300): string => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

/** Checks a successful case's outputs; returns what is wrong, or undefined. */
function checkOutputs(c: FuzzCase, dir: string, stdout: string): string | undefined {
  const outDir = path.join(dir, 'out');
  // measure puts an MI matrix beyond 2,048 neurons in <out>.mi.npy beside its JSON.
  const found = readdirSync(outDir)
    .filter((f) => !(c.command === 'measure' && f === `${c.outputs[0]}.mi.npy`))
    .sort();
  const want = [...c.outputs].sort();
  if (found.join('\n') !== want.join('\n')) {
    return `out/ holds [${found.join(', ')}], expected [${want.join(', ')}]`;
  }
  try {
    if (c.command === 'capture') {
      const npy = parseNpy(readFileSync(path.join(outDir, 'acts.npy')), 'acts.npy');
      if (npy.shape.length !== 2 || npy.shape[0] < 1 || npy.shape[1] < 1) {
        return `acts.npy has shape [${npy.shape.join(', ')}], expected S x N`;
      }
      const side = JSON.parse(readFileSync(path.join(outDir, 'acts.layers.json'), 'utf8')) as {
        layers?: unknown;
      };
      if (!Array.isArray(side.layers)) return 'acts.layers.json has no layers array';
    } else if (c.command === 'analyze' || c.command === 'measure') {
      const file = c.outputs[0];
      const json = JSON.parse(readFileSync(path.join(outDir, file), 'utf8')) as unknown;
      if (typeof json !== 'object' || json === null) return `${file} is not a JSON object`;
      if (c.command === 'measure' && !Array.isArray((json as { entropy?: unknown }).entropy)) {
        return `${file} has no entropy array`;
      }
    } else {
      const json = JSON.parse(stdout) as { layers?: unknown };
      if (!Array.isArray(json.layers)) return 'the layers --json output has no layers array';
    }
  } catch (err) {
    return `invalid output: ${(err as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

/** The verdict on one run (see FailureKind). */
function judge(
  c: FuzzCase,
  dir: string,
  run: RawRun,
  before: Map<string, string>,
): Omit<Verdict, 'ms' | 'stdout' | 'stderr' | 'exit' | 'signal' | 'firstLine'> {
  const fail = (kind: FailureKind, detail: string) => ({ ok: false, kind, detail });
  const lines = run.stderr.split(/\r?\n/).filter((l) => l.trim() !== '');
  const { stderr, stdout } = run;
  if (run.timedOut) return fail('hang', `no exit within ${Math.round(run.ms / 1000)} s`);
  if (run.memoryKilled) return fail('memory', 'over the resident-memory cap');
  const abnormal = run.signal !== null || ![0, 1, 2].includes(run.exit ?? -1);
  if (abnormal && /heap out of memory|allocation failed|out of memory/i.test(stderr)) {
    return fail('memory', `out of memory (${run.signal ?? `exit ${run.exit}`})`);
  }
  if (run.signal !== null) return fail('signal', `killed by ${run.signal}`);
  if (run.orphan) return fail('orphan', 'a child process outlived the CLI');
  if (/HDF5-DIAG|^\s*#\d{3}: /m.test(stderr))
    return fail('hdf5-diag', 'HDF5 diagnostics on stderr');
  if (/^\s+at .+[(:]/m.test(stderr) || /^\s+at .+[(:]/m.test(stdout)) {
    return fail('stack-trace', 'a stack trace');
  }
  if (/internal error/.test(stderr)) return fail('internal-error', 'memlens: internal error');
  // Inputs must be unchanged, and nothing may be left beside them.
  const after = new Map<string, string>();
  for (const sub of ['model', 'outside', 'probe']) {
    for (const [k, v] of snapshot(path.join(dir, sub))) after.set(`${sub}/${k}`, v);
  }
  const added = [...after.keys()].filter((k) => !before.has(k));
  const changed = [...before.keys()].filter((k) => after.get(k) !== before.get(k));
  const tmpLeft = readdirSync(path.join(dir, 'tmp'));
  if (changed.length > 0) return fail('input-changed', `changed or removed: ${changed.join(', ')}`);
  if (run.exit === 0 && c.mustFail !== undefined) {
    return fail('read-outside', `succeeded, but ${c.mustFail}`);
  }
  if (added.length > 0) return fail('leftover', `new files beside the inputs: ${added.join(', ')}`);
  if (tmpLeft.length > 0) return fail('temp-file', `left in TMPDIR: ${tmpLeft.join(', ')}`);
  if (run.exit === 0) {
    const problem = checkOutputs(c, dir, stdout);
    if (problem !== undefined) return fail('bad-output', problem);
    const noisy = lines.filter((l) => !l.startsWith('memlens: ') && !l.startsWith('warning: '));
    if (noisy.length > 0) return fail('noisy-success', `stderr: ${cut(noisy[0], 120)}`);
    return { ok: true, detail: 'exit 0, valid output' };
  }
  if (run.exit === 1 || run.exit === 2) {
    const errors = lines.filter((l) => !l.startsWith('warning: '));
    if (errors.length === 0) return fail('no-message', `exit ${run.exit} with no error line`);
    if (errors.length > 1) return fail('multi-line', `${errors.length} stderr lines`);
    if (!errors[0].startsWith('memlens: '))
      return fail('bad-prefix', 'the error line does not start memlens:');
    const outLeft = readdirSync(path.join(dir, 'out'));
    if (outLeft.length > 0)
      return fail('leftover', `out/ holds ${outLeft.join(', ')} after a failure`);
    return { ok: true, detail: `exit ${run.exit}, one line` };
  }
  if (run.exit === 70) return fail('internal-error', 'exit 70');
  return fail('exit-code', `exit ${run.exit}`);
}

/** Writes, runs and judges one case in `dir` (left in place for the caller to keep or remove). */
export async function runCase(
  cli: string,
  c: FuzzCase,
  dir: string,
  limits: Limits,
  debug = false,
): Promise<Verdict> {
  writeCase(c, dir);
  const before = new Map<string, string>();
  for (const sub of ['model', 'outside', 'probe']) {
    for (const [k, v] of snapshot(path.join(dir, sub))) before.set(`${sub}/${k}`, v);
  }
  const run = await runCli(cli, c.argv, dir, limits, debug);
  const v = judge(c, dir, run, before);
  const first = run.stderr.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return {
    ...v,
    exit: run.exit,
    signal: run.signal,
    ms: run.ms,
    stdout: run.stdout,
    stderr: run.stderr,
    firstLine: cut(first),
  };
}

export interface FuzzOptions {
  /** The CLI bundle (beside miWorker.js and onnxHost.js). */
  cli: string;
  seeds: Seeds;
  seed: number;
  /** Cases in all, dealt round-robin to `readers`. */
  cases: number;
  readers: readonly ReaderName[];
  /** Cases run at once. */
  jobs: number;
  limits: Limits;
  /** Where case folders are made (and removed). */
  workDir: string;
  /** Start no case after this many ms (the run then reports how many it ran). */
  budgetMs?: number;
  /** Keep failing case folders here, at most `keepPerClass` per (reader, kind). */
  keepDir?: string;
  keepPerClass?: number;
  onResult?: (r: CaseResult, done: number) => void;
}

export interface Tally {
  seed: number;
  planned: number;
  results: CaseResult[];
  elapsedMs: number;
  /** True when the time budget stopped the run before `planned` cases. */
  stoppedEarly: boolean;
}

/** The i-th case of a run: readers take turns, so `--readers` never changes another's cases. */
export function caseAt(
  readers: readonly ReaderName[],
  i: number,
): { reader: ReaderName; index: number } {
  return { reader: readers[i % readers.length], index: Math.floor(i / readers.length) };
}

/** Saves a failing case folder with case.json and repro.sh. */
function keep(r: CaseResult, dir: string, keepDir: string, cli: string): string {
  const name = `${r.reader}-${r.verdict.kind}-s${r.seed}-i${r.index}`;
  const to = path.join(keepDir, name);
  rmSync(to, { recursive: true, force: true });
  mkdirSync(keepDir, { recursive: true });
  cpSync(dir, to, { recursive: true, verbatimSymlinks: true });
  const { stdout, stderr, ...verdict } = r.verdict;
  writeFileSync(
    path.join(to, 'case.json'),
    JSON.stringify(
      { ...r, verdict: { ...verdict, stdout: cut(stdout, 4000), stderr: cut(stderr, 8000) } },
      null,
      1,
    ),
  );
  const quote = (a: string): string =>
    /^[\w./:=,+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    path.join(to, 'repro.sh'),
    `#!/bin/sh\n# ${r.reader} case ${r.index} of seed ${r.seed}: ${r.mutation.replace(/\n/g, ' ')}\n` +
      `# The folder as the case left it; out/ and tmp/ may hold what the run left there.\n` +
      `cd "$(dirname "$0")" && TMPDIR="$PWD/tmp" node ${quote(path.resolve(cli))} ${r.argv.map(quote).join(' ')}\n`,
    { mode: 0o755 },
  );
  return to;
}

/** Runs `opts.cases` cases, `opts.jobs` at a time, and returns every result. */
export async function runFuzz(opts: FuzzOptions): Promise<Tally> {
  const start = Date.now();
  const results: CaseResult[] = [];
  const kept = new Map<string, number>();
  let next = 0;
  let stoppedEarly = false;
  mkdirSync(opts.workDir, { recursive: true });
  const worker = async (): Promise<void> => {
    for (;;) {
      if (next >= opts.cases) return;
      if (opts.budgetMs !== undefined && Date.now() - start > opts.budgetMs) {
        stoppedEarly = true;
        return;
      }
      const i = next++;
      const { reader, index } = caseAt(opts.readers, i);
      const dir = path.join(opts.workDir, `${reader}-${index}`);
      let c: FuzzCase;
      try {
        c = makeCase(opts.seeds, reader, opts.seed, index, dir);
      } catch (err) {
        throw new Error(
          `fuzz: making ${reader} case ${index} of seed ${opts.seed} failed: ${String(err)}`,
          { cause: err },
        );
      }
      const verdict = await runCase(opts.cli, c, dir, opts.limits);
      const r: CaseResult = {
        reader,
        seed: opts.seed,
        index,
        seedName: c.seedName,
        mutation: c.mutation,
        argv: c.argv,
        verdict,
      };
      if (!verdict.ok && opts.keepDir !== undefined) {
        const cls = `${reader}/${verdict.kind}`;
        const n = kept.get(cls) ?? 0;
        if (n < (opts.keepPerClass ?? 3)) {
          r.savedTo = keep(r, dir, opts.keepDir, opts.cli);
          kept.set(cls, n + 1);
        }
      }
      rmSync(dir, { recursive: true, force: true });
      results.push(r);
      opts.onResult?.(r, results.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, () => worker()));
  return {
    seed: opts.seed,
    planned: opts.cases,
    results,
    elapsedMs: Date.now() - start,
    stoppedEarly,
  };
}

/** The failures grouped by "reader/kind", in reader order. */
export function failureClasses(results: readonly CaseResult[]): Map<string, CaseResult[]> {
  const out = new Map<string, CaseResult[]>();
  for (const r of results) {
    if (r.verdict.ok) continue;
    const k = `${r.reader}/${r.verdict.kind}`;
    out.set(k, [...(out.get(k) ?? []), r]);
  }
  return out;
}

/** The tally as text: cases and passes per reader, then each failure class with examples. */
export function formatTally(t: Tally, examplesPerClass = 3): string {
  const lines: string[] = [];
  const readers = [...new Set(t.results.map((r) => r.reader))];
  const failed = t.results.filter((r) => !r.verdict.ok).length;
  lines.push(
    `memlens fuzz: seed ${t.seed}, ${t.results.length}${t.stoppedEarly ? ` of ${t.planned} (time budget reached)` : ''} cases in ${(t.elapsedMs / 1000).toFixed(0)} s: ${t.results.length - failed} passed, ${failed} failed`,
  );
  lines.push('');
  lines.push(
    `${'reader'.padEnd(12)} ${'cases'.padStart(6)} ${'passed'.padStart(7)} ${'exit 0'.padStart(7)} ${'exit 1/2'.padStart(9)}  failures`,
  );
  for (const reader of readers) {
    const rs = t.results.filter((r) => r.reader === reader);
    const ok = rs.filter((r) => r.verdict.ok);
    const kinds = new Map<string, number>();
    for (const r of rs)
      if (!r.verdict.ok)
        kinds.set(r.verdict.kind as string, (kinds.get(r.verdict.kind as string) ?? 0) + 1);
    lines.push(
      `${reader.padEnd(12)} ${String(rs.length).padStart(6)} ${String(ok.length).padStart(7)} ${String(ok.filter((r) => r.verdict.exit === 0).length).padStart(7)} ${String(ok.filter((r) => r.verdict.exit !== 0).length).padStart(9)}  ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    );
  }
  const classes = failureClasses(t.results);
  if (classes.size > 0) {
    lines.push('');
    lines.push(
      'failures (reader/kind: count; examples: index, seed file, mutation, first stderr line):',
    );
    for (const [cls, rs] of classes) {
      lines.push(`${cls}: ${rs.length}`);
      for (const r of rs.slice(0, examplesPerClass)) {
        lines.push(`  #${r.index} (${r.seedName}; ${r.argv[0]}): ${cut(r.mutation, 160)}`);
        lines.push(
          `    ${r.verdict.detail}; stderr: ${cut(r.verdict.firstLine || '(empty)', 200)}`,
        );
        if (r.savedTo !== undefined) lines.push(`    kept: ${r.savedTo}`);
      }
    }
  }
  return lines.join('\n');
}
