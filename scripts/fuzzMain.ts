// `npm run fuzz`: the long fuzz run over the library in test/fuzz/ (scripts/fuzz.mjs bundles this
// file, the CLI and its helper bundles into out/fuzz-bin/ and runs it). The CI tier runs the same library on fewer cases
// (test/pipeline/fuzz.test.ts).
//
//   npm run fuzz -- --cases 5000 --seed 7 --time 1800
//   npm run fuzz -- --readers hdf5,onnx --cases 200
//   npm run fuzz -- --seed 7 --readers hdf5 --case 12     one case again, with its full stderr
//                                                          (--debug: MEMLENS_DEBUG=1, the stack)
//
// Options: --cases N (default 1500), --seed N (1), --time S (start no case after S seconds;
// 1800), --readers a,b (default all, see READERS in test/fuzz/cases.ts), --jobs N (cases at once;
// default 2 or the core count if fewer), --timeout S (per case, 20), --heap MB (the CLI's
// --max-old-space-size, 1024), --rss MB (resident-memory cap of the CLI's process tree, 2048),
// --keep N (failing case folders kept per reader and kind, 3), --out DIR (out/fuzz-failures),
// --cli FILE (the CLI bundle; scripts/fuzz.mjs passes out/fuzz-bin/cli.js), --controls (first
// run every seed unmutated: each must succeed).
//
// Prints a progress line per 50 cases, then the tally: cases and passes per reader, and each
// failure class (reader/kind) with examples: index, seed file, mutation, first stderr line and
// the kept folder (case.json, repro.sh). Writes out/fuzz-failures/summary.json. Exit status 1
// when a case failed.
import { availableParallelism } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ReaderName } from '../test/fuzz/cases';
import { controlCases, loadSeeds, makeCase, READERS } from '../test/fuzz/cases';
import type { CaseResult, Limits } from '../test/fuzz/run';
import { DEFAULT_LIMITS, failureClasses, formatTally, runCase, runFuzz } from '../test/fuzz/run';

function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`fuzz: expected --option, found '${a}'`);
    const key = a.slice(2);
    if (key === 'controls' || key === 'debug') out.set(key, '1');
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`fuzz: --${key} needs a value`);
      out.set(key, v);
    }
  }
  const known = [
    'cases',
    'seed',
    'time',
    'readers',
    'jobs',
    'timeout',
    'heap',
    'rss',
    'keep',
    'out',
    'cli',
    'case',
    'controls',
    'debug',
  ];
  for (const k of out.keys())
    if (!known.includes(k))
      throw new Error(`fuzz: unknown option --${k}; expected one of ${known.join(', ')}`);
  return out;
}

function int(args: Map<string, string>, key: string, dflt: number): number {
  const v = args.get(key);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`fuzz: --${key} expects a whole number, found '${v}'`);
  return n;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = process.cwd();
  const cli = path.resolve(args.get('cli') ?? path.join(__dirname, 'cli.js'));
  const readers = (args.get('readers')?.split(',') ?? [...READERS]) as ReaderName[];
  for (const r of readers) {
    if (!(READERS as readonly string[]).includes(r))
      throw new Error(`fuzz: unknown reader '${r}'; expected one of ${READERS.join(', ')}`);
  }
  const seed = int(args, 'seed', 1);
  const limits: Limits = {
    timeoutMs: int(args, 'timeout', DEFAULT_LIMITS.timeoutMs / 1000) * 1000,
    heapMb: int(args, 'heap', DEFAULT_LIMITS.heapMb),
    rssMb: int(args, 'rss', DEFAULT_LIMITS.rssMb),
  };
  const keepDir = path.resolve(args.get('out') ?? 'out/fuzz-failures');
  const workDir = mkdtempSync(path.join(root, 'out', 'fuzz-work-'));
  const seeds = loadSeeds(root);
  try {
    if (args.has('case')) {
      // One case again: its mutation, its verdict and its whole stderr.
      if (readers.length !== 1) throw new Error('fuzz: --case needs exactly one --readers name');
      const index = int(args, 'case', 0);
      const dir = path.join(workDir, 'case');
      const c = makeCase(seeds, readers[0], seed, index, dir);
      const v = await runCase(cli, c, dir, limits, args.has('debug'));
      console.log(`${c.reader} #${index} (seed ${seed}; ${c.seedName}): ${c.mutation}`);
      console.log(`$ memlens ${c.argv.join(' ')}`);
      console.log(
        `${v.ok ? 'passed' : `FAILED: ${v.kind}`}: ${v.detail} (exit ${v.exit}, signal ${v.signal}, ${v.ms} ms)`,
      );
      console.log(
        `--- stderr\n${v.stderr}--- stdout (first 2000 characters)\n${v.stdout.slice(0, 2000)}`,
      );
      return v.ok ? 0 : 1;
    }
    if (args.has('controls')) {
      let bad = 0;
      for (const c of controlCases(seeds)) {
        const v = await runCase(cli, c, path.join(workDir, 'control'), limits);
        if (!v.ok || v.exit !== 0) {
          bad++;
          console.log(
            `control ${c.reader} ${c.seedName}: ${v.kind ?? `exit ${v.exit}`}: ${v.detail}: ${v.firstLine}`,
          );
        }
      }
      console.log(
        `controls: ${bad === 0 ? 'every seed succeeds unmutated' : `${bad} seed(s) fail unmutated`}`,
      );
    }
    rmSync(keepDir, { recursive: true, force: true });
    const cases = int(args, 'cases', 1500);
    const tally = await runFuzz({
      cli,
      seeds,
      seed,
      cases,
      readers,
      jobs: int(args, 'jobs', Math.min(2, availableParallelism())),
      limits,
      workDir,
      budgetMs: int(args, 'time', 1800) * 1000,
      keepDir,
      keepPerClass: int(args, 'keep', 3),
      onResult: (_r: CaseResult, done: number) => {
        if (done % 50 === 0) process.stderr.write(`fuzz: ${done}/${cases} cases\n`);
      },
    });
    console.log(formatTally(tally));
    mkdirSync(keepDir, { recursive: true });
    const summary = {
      seed,
      cases: tally.results.length,
      elapsedMs: tally.elapsedMs,
      readers,
      failures: Object.fromEntries(
        [...failureClasses(tally.results)].map(([k, rs]) => [
          k,
          rs.map((r) => ({
            index: r.index,
            seedName: r.seedName,
            mutation: r.mutation,
            argv: r.argv,
            detail: r.verdict.detail,
            firstLine: r.verdict.firstLine,
            savedTo: r.savedTo,
          })),
        ]),
      ),
    };
    writeFileSync(path.join(keepDir, 'summary.json'), JSON.stringify(summary, null, 1));
    console.log(`\nsummary: ${path.join(keepDir, 'summary.json')}`);
    return tally.results.every((r) => r.verdict.ok) ? 0 : 1;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
  },
);
