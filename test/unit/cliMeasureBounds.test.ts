// `memlens measure` within bounded memory: the MI matrix as .npy beside the JSON when it is
// large, a job over the memory limit refused up front (numbers and ways out in one line), and
// the bin count capped, in the core so that the CLI and the extension share it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MI_INLINE_CELLS, runMeasure } from '../../src/cli/commands/measure';
import { fromRowMajor } from '../../src/core/activations';
import { UserError } from '../../src/core/errors';
import { encodeNpy, parseNpy } from '../../src/core/io/npy';
import { MAX_BINS, entropies } from '../../src/core/measures/entropy';
import { measure, planMeasure } from '../../src/core/measures/measure';
import { disposeMiPool } from '../../src/core/mi/miMatrix';
import { Rng } from '../../src/core/random';
import { bundleCli } from '../fixtures/cliBundle';

const signal = new AbortController().signal;
const MIB = 1 << 20;

function streams() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => err.push(t), isTTY: false },
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

/** A folder holding acts.npy: S x N float32 normals (row-major), returned with the values. */
function workdir(
  S: number,
  N: number,
  seed = 1,
): { dir: string; file: string; rows: Float32Array } {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-bounds-'));
  const rng = new Rng(seed);
  const rows = Float32Array.from({ length: S * N }, () => rng.normal());
  const file = path.join(dir, 'acts.npy');
  writeFileSync(file, encodeNpy(rows, [S, N]));
  return { dir, file, rows };
}

/** Peak resident memory of this process so far, bytes. */
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

async function refused(args: string[], pattern: RegExp): Promise<string> {
  const io = streams();
  let message = '';
  await assert.rejects(runMeasure(args, signal, io.io), (err: unknown) => {
    assert.ok(err instanceof UserError, String(err));
    assert.ok(!/[\r\n]/.test(err.message), err.message);
    message = err.message;
    return true;
  });
  assert.match(message, pattern);
  assert.equal(io.stdout(), '');
  return message;
}

interface MiPointer {
  file: string;
  dtype: string;
  shape: number[];
  columns: number[] | null;
}

void test('--mi-matrix npy writes the m x m float64 matrix beside the JSON, equal to the inline one', async () => {
  const { dir, file } = workdir(200, 6);
  const inline = path.join(dir, 'inline.json');
  const npy = path.join(dir, 'npy.json');
  await runMeasure([file, '--out', inline, '--threads', '1'], signal, streams().io);
  const io = streams();
  await runMeasure([file, '--out', npy, '--mi-matrix', 'npy', '--threads', '1'], signal, io.io);
  assert.equal(io.stderr(), ''); // asked for: nothing to say
  assert.deepEqual(readdirSync(dir).sort(), [
    'acts.npy',
    'inline.json',
    'npy.json',
    'npy.json.mi.npy',
  ]);
  const a = JSON.parse(readFileSync(inline, 'utf8')) as { mi: (number | null)[][] };
  const b = JSON.parse(readFileSync(npy, 'utf8')) as {
    mi: MiPointer;
    params: { miMatrix: string };
  };
  assert.equal(b.params.miMatrix, 'npy');
  assert.deepEqual(b.mi, {
    file: 'npy.json.mi.npy',
    dtype: 'float64',
    shape: [6, 6],
    columns: null,
  });
  const matrix = parseNpy(readFileSync(path.join(dir, b.mi.file)), 'mi.npy');
  assert.equal(matrix.dtype, 'f8');
  assert.deepEqual(matrix.shape, [6, 6]);
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 6; j++) {
      const x = matrix.data[i * 6 + j];
      assert.equal(Number.isNaN(x) ? null : x, a.mi[i][j], `cell ${i},${j}`);
    }
  }
  // none: no matrix at all.
  const none = path.join(dir, 'none.json');
  await runMeasure([file, '--out', none, '--mi-matrix', 'none'], signal, streams().io);
  assert.equal((JSON.parse(readFileSync(none, 'utf8')) as { mi: unknown }).mi, null);
});

void test('over 2,048 neurons the matrix goes to .npy (said on stderr), read back equal to the computed one', async () => {
  const S = 10;
  const N = 2100;
  assert.ok(N * N > MI_INLINE_CELLS);
  const { dir, file, rows } = workdir(S, N, 2);
  const out = path.join(dir, 'wide.json');
  const io = streams();
  await runMeasure(
    [file, '--out', out, '--pairs', '300', '--seed', '4', '--threads', '1'],
    signal,
    io.io,
  );
  assert.match(
    io.stderr(),
    /^memlens: the 2,100 x 2,100 MI matrix is in .*wide\.json\.mi\.npy \(float64; inline JSON stops at 4,194,304 cells/,
  );
  const report = JSON.parse(readFileSync(out, 'utf8')) as {
    mi: MiPointer;
    params: { miMatrix: string; pairsComputed: number };
  };
  assert.equal(report.params.miMatrix, 'npy');
  assert.equal(report.params.pairsComputed, 300);
  const read = parseNpy(readFileSync(path.join(dir, report.mi.file)), 'wide.mi.npy');
  assert.deepEqual(read.shape, [N, N]);
  const expected = await measure(fromRowMajor(rows, S, N), {
    pairs: 300,
    seed: 4,
    threads: 1,
    memoryLimit: Infinity,
  });
  await disposeMiPool();
  assert.deepEqual(expected.mi.columns.length, N);
  const got = read.data as Float64Array;
  let computed = 0;
  for (let t = 0; t < N * N; t++) {
    if (!Number.isNaN(got[t])) computed++;
    assert.ok(Object.is(got[t], expected.mi.values[t]), `cell ${t}`);
  }
  assert.equal(computed, 2 * 300);

  // On standard output there is no file to put it beside: refused with the ways out.
  await refused(
    [file, '--pairs', '300'],
    /acts\.npy: expected at most 4,194,304 cells for an inline MI matrix on standard output, found 2,100 x 2,100; give --out FILE .*--mi-matrix none/,
  );
});

void test('--mi-matrix inline refuses what one JSON string cannot hold (over 4,096 neurons)', async () => {
  const { dir, file } = workdir(5, 4100, 3);
  await refused(
    [file, '--mi-matrix', 'inline', '--out', path.join(dir, 'x.json')],
    /acts\.npy: expected at most 16,777,216 cells for --mi-matrix inline \(4,096 neurons\), found 4,100 x 4,100/,
  );
  assert.deepEqual(readdirSync(dir), ['acts.npy']);
});

void test('a job over the memory limit is refused before the MI, naming the estimate and the ways out', async () => {
  // 10 x 12,000 with a handful of pairs still needs the 12,000 x 12,000 matrix (1.1 GiB).
  const wide = workdir(10, 12_000, 4);
  const before = peakRss();
  const message = await refused(
    [wide.file, '--pairs', '50', '--max-memory', '0.5', '--out', path.join(wide.dir, 'w.json')],
    /acts\.npy: MI: expected a job within the 512 MiB memory limit, found one needing about 2\.2 GiB \(12,000 neurons: matrix 1\.1 GiB, 50 pairs 4 KiB, output 1\.1 GiB\); use --mi-neurons N \(setting memlens\.miNeurons\) or --pairs M, or raise --max-memory GiB$/,
  );
  assert.ok(message.length <= 300);
  // With the default limit (at most 4 GiB): the brief's 5 x 20,000, 200 million pairs.
  const widest = workdir(5, 20_000, 5);
  await refused(
    // Every pair asked for (no time budget): the plan would otherwise cap the neurons.
    [widest.file, '--mi-budget', '0', '--out', path.join(widest.dir, 'w.json')],
    /MI: expected a job within the .* memory limit, found one needing about 10\.\d GiB \(20,000 neurons: matrix 3\.0 GiB, 199,990,000 pairs 4\.5 GiB, output 3\.0 GiB\)/,
  );
  const grew = peakRss() - before;
  assert.ok(grew < 256 * MIB, `peak RSS grew by ${(grew / MIB).toFixed(0)} MiB`);
  assert.deepEqual(readdirSync(widest.dir), ['acts.npy']);
  // --mi-neurons is a way out: 2 x 64 of the 12,000 neurons fit easily.
  const io = streams();
  await runMeasure(
    [
      wide.file,
      '--layer-sizes',
      '6000,6000',
      '--mi-neurons',
      '64',
      '--mi-matrix',
      'none',
      '--max-memory',
      '0.5',
      '--threads',
      '1',
    ],
    signal,
    io.io,
  );
  assert.equal(
    (JSON.parse(io.stdout()) as { params: { miColumns: number[] } }).params.miColumns.length,
    128,
  );
});

void test('the plan counts the matrix, the pairs, the columns per worker and the output', () => {
  const acts = { samples: 100, neurons: 1000, data: new Float64Array(100 * 1000), layers: [] };
  const plan = planMeasure(acts, 1000, 499_500, { threads: 2, sampled: false, output: 123 });
  assert.equal(plan.threads, 2);
  assert.deepEqual(plan.bytes, {
    activations: 800_000,
    miColumns: 8 * 1000 * 100 * 3,
    pairs: 24 * 499_500,
    matrix: 8 * 1000 * 1000,
    output: 123,
    runtime: 64 * MIB + 32 * 1000,
    total: 800_000 + 2_400_000 + 11_988_000 + 8_000_000 + 123 + 64 * MIB + 32_000,
  });
  assert.equal(planMeasure(acts, 1000, 10, { threads: 2, sampled: true }).bytes.pairs, 720);
});

void test('bins: at most 10,000, checked in the core for the CLI and the extension alike', async () => {
  assert.equal(MAX_BINS, 10_000);
  const acts = fromRowMajor(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 4, 2);
  await assert.rejects(
    measure(acts, { bins: 2 ** 32, threads: 1 }),
    (e: unknown) =>
      e instanceof UserError &&
      e.message ===
        'bins (--bins, setting memlens.bins): expected an integer in 1..10000, found 4294967296',
  );
  assert.throws(() => entropies(acts, { bins: 10_001 }), RangeError);
  assert.equal(entropies(acts, { bins: MAX_BINS }).length, 2);
});

void test('as a process: the refused job prints one line, no stack, exit 1, promptly', async () => {
  const cli = path.join(__dirname, 'memlensBoundsCli.js');
  assert.ok(existsSync(path.join(__dirname, 'miWorker.js')), 'the MI worker bundle is missing');
  await bundleCli(cli);
  const { dir, file } = workdir(5, 20_000, 6);
  const run = spawnSync(
    process.execPath,
    [
      '--max-old-space-size=512',
      cli,
      'measure',
      file,
      '--mi-budget',
      '0',
      '--out',
      path.join(dir, 'o.json'),
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(run.signal, null);
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stdout, '');
  const lines = run.stderr.trimEnd().split('\n');
  // The MI plan's line (every pair asked for, hours of work) comes first, then the refusal.
  assert.equal(lines.length, 2, run.stderr);
  assert.match(lines[0], /^MI: 200\.0 M pairs, ~.* at \d+ threads? \(no time budget\)$/);
  assert.match(lines[1], /^memlens: .*acts\.npy: MI: expected a job within the .* memory limit/);
  assert.deepEqual(readdirSync(dir), ['acts.npy']);
});
