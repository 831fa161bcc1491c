// The analyze / compare CLI verbs: outputs written atomically, bad flags and unwritable
// outputs rejected before any work, in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { analysisTable, analyzeCommand } from '../../src/cli/commands/analyze';
import { compareCommand, compareTable } from '../../src/cli/commands/compare';
import { UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { KERNEL_ENV, availableKernel, kernelChoiceFromEnv } from '../../src/core/mi/kernel';
import { Rng } from '../../src/core/random';
import type { AnalysisReport, CompareReport } from '../../src/core/report/schema';
import { tempDir } from '../fixtures/capture/helpers';

function dump(file: string, seed: number): void {
  const rng = new Rng(seed);
  const s = 300;
  writeFileSync(
    file,
    encodeNpy(
      Float64Array.from({ length: s * 3 }, () => rng.normal()),
      [s, 3],
    ),
  );
}

/**
 * Runs a command. Its table goes to stdout, which the test runner shows as diagnostics;
 * stdout is not patched (the runner reports results through it).
 */
async function run(cmd: typeof analyzeCommand, args: string[]): Promise<number> {
  return cmd.run(args, new AbortController().signal);
}

const userError = (re: RegExp) => (err: unknown) =>
  err instanceof UserError && re.test(err.message) && !err.message.includes('\n');

void test('analyze writes JSON, CSV and HTML and prints the per-layer table', async () => {
  const { dir, cleanup } = tempDir('memlens-cli-');
  try {
    dump(path.join(dir, 'acts.npy'), 1);
    const out = path.join(dir, 'r.json');
    const code = await run(analyzeCommand, [
      path.join(dir, 'acts.npy'),
      '--out',
      out,
      '--csv',
      path.join(dir, 'r.csv'),
      '--html',
      path.join(dir, 'r.html'),
      '--threads',
      '1',
    ]);
    assert.equal(code, 0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as AnalysisReport;
    assert.equal(report.schema, 'memlens.report');
    const text = analysisTable(report);
    assert.match(text, /^layer\s+neurons\s+median H/m);
    assert.match(text, /^all layers\s+3\s/m);
    assert.equal(report.params.estimator, 'ksg');
    // The kernel that computed the MI: the one this installation runs.
    assert.equal(report.params.miKernel, availableKernel(kernelChoiceFromEnv()));
    assert.match(text, /; I: KSG-1, k = 3, nats$/m);
    // The tie-aware estimator is named in the report and the table; older reports (no
    // estimator) read as KSG-1.
    const mixedOut = path.join(dir, 'mixed.json');
    // Run on the TypeScript kernel (MEMLENS_MI_KERNEL), which the report names.
    const kernelBefore = process.env[KERNEL_ENV];
    process.env[KERNEL_ENV] = 'ts';
    try {
      await run(analyzeCommand, [
        path.join(dir, 'acts.npy'),
        '--estimator',
        'mixed',
        '--out',
        mixedOut,
        '--threads',
        '1',
      ]);
    } finally {
      if (kernelBefore === undefined) delete process.env[KERNEL_ENV];
      else process.env[KERNEL_ENV] = kernelBefore;
    }
    const mixed = JSON.parse(readFileSync(mixedOut, 'utf8')) as AnalysisReport;
    assert.equal(mixed.params.estimator, 'mixed');
    assert.equal(mixed.params.miKernel, 'ts');
    assert.match(analysisTable(mixed), /; I: mixed \(tie-aware KSG, Gao et al\.\), k = 3, nats$/m);
    const older = { ...report.params };
    delete older.estimator;
    assert.match(analysisTable({ ...report, params: older }), /; I: KSG-1, k = 3, nats$/m);
    assert.match(text, /note: A lone model has no verdict/);
    assert.equal(
      readFileSync(path.join(dir, 'r.csv'), 'utf8').split('\r\n')[1].split(',')[1],
      'all',
    );
    assert.match(readFileSync(path.join(dir, 'r.html'), 'utf8'), /<html/i);
  } finally {
    cleanup();
  }
});

void test('unwritable outputs and bad flags fail before any work, leaving no file behind', async () => {
  const { dir, cleanup } = tempDir('memlens-cli-');
  try {
    dump(path.join(dir, 'acts.npy'), 1);
    await assert.rejects(
      run(analyzeCommand, [
        path.join(dir, 'acts.npy'),
        '--out',
        path.join(dir, 'missing', 'r.json'),
      ]),
      userError(
        /missing\/r\.json: cannot write output \(ENOENT\): expected an existing, writable folder/,
      ),
    );
    await assert.rejects(
      run(analyzeCommand, [path.join(dir, 'acts.npy'), '--csv', dir]),
      userError(/expected a file path, found a folder/),
    );
    await assert.rejects(
      run(analyzeCommand, [path.join(dir, 'acts.npy'), '--bins', 'ten']),
      userError(/--bins: expected an integer in 1\.\.10000, found 'ten'/),
    );
    await assert.rejects(
      run(analyzeCommand, [path.join(dir, 'acts.npy'), '--point', 'post']),
      userError(/--point: expected one of preactivation, output/),
    );
    await assert.rejects(
      run(analyzeCommand, [path.join(dir, 'acts.npy'), '--estimator', 'kraskov']),
      userError(/--estimator: expected one of ksg, mixed, found 'kraskov'/),
    );
    await assert.rejects(
      run(analyzeCommand, [path.join(dir, 'acts.npy'), '--nope']),
      userError(/analyze: Unknown option '--nope'/),
    );
    await assert.rejects(
      run(analyzeCommand, []),
      userError(/expected one model or activation dump, found none/),
    );
    await assert.rejects(
      run(compareCommand, [
        path.join(dir, 'acts.npy'),
        path.join(dir, 'acts.npy'),
        '--target',
        'best',
      ]),
      userError(/--target: expected one of shortcut, label-noise, found 'best'/),
    );
    await assert.rejects(
      run(compareCommand, [
        path.join(dir, 'acts.npy'),
        path.join(dir, 'acts.npy'),
        '--baseline',
        path.join(dir, 'acts.npy'),
        '--reference',
        'cohort',
      ]),
      userError(/a reference was named beside the baseline .*: expected one of them/),
    );
    assert.deepEqual(readdirSync(dir), ['acts.npy']);
  } finally {
    cleanup();
  }
});

void test('compare prints signatures and ranking and writes the compare JSON', async () => {
  const { dir, cleanup } = tempDir('memlens-cli-');
  try {
    dump(path.join(dir, 'a.npy'), 1);
    dump(path.join(dir, 'b.npy'), 2);
    const out = path.join(dir, 'c.json');
    const code = await run(compareCommand, [
      path.join(dir, 'a.npy'),
      path.join(dir, 'b.npy'),
      '--baseline',
      path.join(dir, 'a.npy'),
      '--out',
      out,
      '--threads',
      '1',
    ]);
    assert.equal(code, 0);
    const r = JSON.parse(readFileSync(out, 'utf8')) as CompareReport;
    assert.equal(r.schema, 'memlens.compare');
    assert.equal(r.baseline, path.join(dir, 'a.npy'));
    assert.equal(r.reference.mode, 'baseline');
    const text = compareTable(r);
    assert.match(text, /^a\s+reference/m);
    // Without a target: the per-axis orderings of the candidates, and no ranking.
    assert.deepEqual(r.ranking, []);
    assert.match(text, /^by median I, highest first: b$/m);
    assert.match(text, /^no ranking without a target/m);
    await run(compareCommand, [
      path.join(dir, 'a.npy'),
      path.join(dir, 'b.npy'),
      '--baseline',
      path.join(dir, 'a.npy'),
      '--target',
      'shortcut',
      '--out',
      out,
      '--threads',
      '1',
    ]);
    const ranked = JSON.parse(readFileSync(out, 'utf8')) as CompareReport;
    assert.equal(ranked.target, 'shortcut');
    // The baseline is the reference, not a candidate: only b is ranked.
    assert.deepEqual(
      ranked.ranking.map((e) => [path.basename(e.path), e.rank]),
      [['b.npy', 1]],
    );
    assert.match(compareTable(ranked), /^ranking \(target shortcut learning: .*\): 1\. b$/m);
    assert.ok(!existsSync(path.join(dir, '.c.json.tmp')));
  } finally {
    cleanup();
  }
});

void test('analyze --baseline writes the signature compare reads against that baseline', async () => {
  const { dir, cleanup } = tempDir('memlens-cli-');
  try {
    const a = path.join(dir, 'a.npy');
    const b = path.join(dir, 'b.npy');
    dump(a, 1);
    dump(b, 2);
    const out = path.join(dir, 'a.json');
    assert.equal(
      await run(analyzeCommand, [a, '--baseline', b, '--threads', '1', '--quiet', '--out', out]),
      0,
    );
    const report = JSON.parse(readFileSync(out, 'utf8')) as AnalysisReport;
    const cmp = path.join(dir, 'cmp.json');
    await run(compareCommand, [a, b, '--baseline', b, '--threads', '1', '--quiet', '--out', cmp]);
    const compared = JSON.parse(readFileSync(cmp, 'utf8')) as CompareReport;
    assert.deepEqual(report.signature, compared.models.find((m) => m.path === a)?.signature);
    assert.ok(report.flags.some((f) => f.code === 'baseline-signature'));
    // A model as baseline needs the probe: refused before any work, naming the flag.
    const model = path.join(dir, 'm', 'model.json');
    await assert.rejects(
      run(analyzeCommand, [a, '--baseline', model]),
      userError(/the baseline is a model, which runs on probe inputs: expected --probe/),
    );
  } finally {
    cleanup();
  }
});
