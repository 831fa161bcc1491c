// The fuzz tier of CI: a few hundred mutated files (test/fuzz/: the seeded mutator, the seeds,
// the judge) through the real `memlens` CLI, each as a child process with a time limit and a
// memory cap. Every case must succeed with valid outputs or fail with one `memlens: ` line,
// leaving no output or temporary file (see FailureKind in test/fuzz/run.ts). A fixed seed, so a
// failure here is the same case on every machine: `npm run fuzz -- --seed 20251202 --readers
// <reader> --case <index>` runs it again (for the same version of test/fuzz/). `npm run fuzz`
// is the long run over every reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ReaderName } from '../fuzz/cases';
import { controlCases, loadSeeds, READERS } from '../fuzz/cases';
import type { FailureKind } from '../fuzz/run';
import { DEFAULT_LIMITS, formatTally, runCase, runFuzz } from '../fuzz/run';
import { bundleCli } from '../fixtures/cliBundle';

const SEED = 20251202;
const CASES = 300;

/**
 * The known failure classes (reader, kind) that `npm run fuzz` finds today, each with a case
 * that shows it: `npm run fuzz -- --seed <seed> --readers <reader> --case <index>` (add
 * --debug for the stack). A reader with a known failure is left out of this test, so that it
 * passes now and fails on any new failure of the others; `npm run fuzz` still fuzzes every
 * reader. When a fix lands, delete its entry: the reader is fuzzed here again.
 */
const KNOWN_FAILURES: {
  reader: ReaderName;
  kind: FailureKind;
  seed: number;
  index: number;
  what: string;
}[] = [];

const CI_READERS = READERS.filter((r) => !KNOWN_FAILURES.some((k) => k.reader === r));

void test(
  `fuzz: ${CASES} mutated files of ${CI_READERS.length} readers through the CLI`,
  { timeout: 15 * 60_000 },
  async () => {
    const cli = path.join(__dirname, 'memlensCliFuzz.js');
    await bundleCli(cli);
    const root = path.resolve(__dirname, '../..');
    const seeds = loadSeeds(root);
    const workDir = mkdtempSync(path.join(tmpdir(), 'memlens-fuzz-'));
    try {
      // The control: every seed, unmutated, must succeed (else the fuzzer tests nothing).
      for (const c of controlCases(seeds).filter((c) => CI_READERS.includes(c.reader))) {
        const v = await runCase(cli, c, path.join(workDir, 'control'), DEFAULT_LIMITS);
        assert.ok(
          v.ok && v.exit === 0,
          `seed ${c.reader} ${c.seedName} fails unmutated: ${v.kind}: ${v.detail}: ${v.firstLine}`,
        );
      }
      const keepDir = path.join(root, 'out', 'fuzz-failures-ci');
      rmSync(keepDir, { recursive: true, force: true });
      const tally = await runFuzz({
        cli,
        seeds,
        seed: SEED,
        cases: CASES,
        readers: CI_READERS,
        jobs: 2,
        limits: DEFAULT_LIMITS,
        workDir,
        keepDir,
        keepPerClass: 2,
      });
      const text = formatTally(tally);
      console.log(text);
      console.log(
        `left out (known failures): ${KNOWN_FAILURES.map((k) => `${k.reader}/${k.kind}`).join(', ')}`,
      );
      assert.equal(tally.results.length, CASES);
      assert.ok(
        tally.results.every((r) => r.verdict.ok),
        `fuzz failures (kept under out/fuzz-failures-ci/):\n${text}`,
      );
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  },
);
