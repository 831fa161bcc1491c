import { test } from 'node:test';
import { availableParallelism } from 'node:os';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runMeasure } from '../../src/cli/commands/measure';
import { fromRowMajor } from '../../src/core/activations';
import { UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { entropies } from '../../src/core/measures/entropy';
import { ksgMi } from '../../src/core/measures/ksg';
import { availableKernel, kernelChoiceFromEnv } from '../../src/core/mi/kernel';
import { Rng } from '../../src/core/random';

interface Output {
  params: Record<string, unknown>;
  summary: {
    entropy: { median: number; n: number };
    mi: { pairs: number; median: number };
    layers?: { name: string; neurons: number; miNeurons: number; mi: { pairs: number } }[];
  };
  warnings: { code: string; message: string }[];
  entropy: number[];
  ties: number[];
  mi: (number | null)[][];
}

/** Captures what the command writes. */
function streams(isTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => err.push(t), isTTY },
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

const S = 200;
const N = 6;
const rng = new Rng(3);
/** Row-major S x N: columns 0 and 1 strongly dependent, the rest independent. */
const rows = new Float64Array(S * N);
for (let s = 0; s < S; s++) {
  for (let n = 0; n < N; n++) rows[s * N + n] = rng.normal();
  rows[s * N + 1] = rows[s * N] + 0.1 * rng.normal();
}

function workdir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-cli-'));
  writeFileSync(path.join(dir, 'acts.npy'), encodeNpy(Float32Array.from(rows), [S, N]));
  return dir;
}

const signal = new AbortController().signal;

void test('writes entropy, a symmetric N x N MI with null diagonal, per-layer summaries and params', async () => {
  const dir = workdir();
  const out = path.join(dir, 'm.json');
  const io = streams();
  const code = await runMeasure(
    [
      path.join(dir, 'acts.npy'),
      '--bins',
      '20',
      '--layer-sizes',
      '2,4',
      '--seed',
      '5',
      '--out',
      out,
    ],
    signal,
    io.io,
  );
  assert.equal(code, 0);
  assert.equal(io.stdout(), '');
  assert.equal(io.stderr(), ''); // not a terminal: no progress
  const r = JSON.parse(readFileSync(out, 'utf8')) as Output;
  // Independent recomputation from the float32 values the file holds.
  const acts = fromRowMajor(Float32Array.from(rows), S, N);
  assert.deepEqual(r.entropy, Array.from(entropies(acts, { bins: 20 })));
  assert.deepEqual(r.ties, new Array<number>(N).fill(0)); // continuous values: no ties
  assert.equal(r.mi.length, N);
  for (let i = 0; i < N; i++) {
    assert.equal(r.mi[i].length, N);
    assert.equal(r.mi[i][i], null);
    for (let j = 0; j < N; j++) assert.equal(r.mi[i][j], r.mi[j][i]);
  }
  const x = Float64Array.from({ length: S }, (_, s) => Math.fround(rows[s * N]));
  const y = Float64Array.from({ length: S }, (_, s) => Math.fround(rows[s * N + 1]));
  assert.ok(Math.abs((r.mi[0][1] as number) - ksgMi(x, y, 3)) < 1e-9);
  assert.ok((r.mi[0][1] as number) > 1);
  assert.deepEqual(
    r.summary.layers?.map((l) => [l.name, l.neurons, l.miNeurons, l.mi.pairs]),
    [
      ['layer1', 2, 2, 1],
      ['layer2', 4, 4, 6],
    ],
  );
  assert.equal(r.summary.mi.pairs, 15);
  assert.deepEqual(r.params, {
    input: path.join(dir, 'acts.npy'),
    dtype: 'float32',
    samples: S,
    neurons: N,
    droppedRows: 0,
    bins: 20,
    binning: 'global',
    k: 3,
    estimator: 'ksg',
    threads: availableParallelism(),
    layerSizes: [2, 4],
    miNeuronCap: null,
    miColumns: null,
    pairs: null,
    pairsComputed: 15,
    pairsTotal: 15,
    // The kernel this installation runs (the workers load it the same way).
    miKernel: availableKernel(kernelChoiceFromEnv()),
    seed: 5,
    miMatrix: 'inline',
  });
  assert.deepEqual(readdirSync(dir).sort(), ['acts.npy', 'm.json']);
});

void test('without --out the JSON goes to stdout; no per-layer summary without --layer-sizes', async () => {
  const dir = workdir();
  const io = streams();
  assert.equal(
    await runMeasure(
      [path.join(dir, 'acts.npy'), '--k', '5', '--binning', 'neuron', '--estimator', 'mixed'],
      signal,
      io.io,
    ),
    0,
  );
  const r = JSON.parse(io.stdout()) as Output;
  assert.equal(r.summary.layers, undefined);
  assert.equal(r.params.k, 5);
  assert.equal(r.params.binning, 'neuron');
  assert.equal(r.params.estimator, 'mixed');
  assert.equal(r.entropy.length, N);
});

void test("without --layer-sizes, the layers come from capture's .layers.json sidecar", async () => {
  const dir = workdir();
  writeFileSync(
    path.join(dir, 'acts.layers.json'),
    JSON.stringify({
      layers: [
        { name: 'fc1', start: 0, end: 2 },
        { name: 'fc2', start: 2, end: 6 },
      ],
    }),
  );
  const run = async (extra: string[]): Promise<Output> => {
    const io = streams();
    assert.equal(await runMeasure([path.join(dir, 'acts.npy'), ...extra], signal, io.io), 0);
    return JSON.parse(io.stdout()) as Output;
  };
  const fromSidecar = await run([]);
  const fromSizes = await run(['--layer-sizes', '2,4']);
  assert.deepEqual(
    fromSidecar.summary.layers?.map((l) => [l.name, l.neurons]),
    [
      ['fc1', 2],
      ['fc2', 4],
    ],
  );
  assert.deepEqual(fromSidecar.params.layerSizes, [2, 4]);
  // The same columns split the same way: the same per-layer numbers, only the names differ.
  assert.deepEqual(
    fromSidecar.summary.layers?.map(({ name: _, ...rest }) => rest),
    fromSizes.summary.layers?.map(({ name: _, ...rest }) => rest),
  );
});

void test('progress goes to stderr only on a terminal', async () => {
  const dir = workdir();
  const io = streams(true);
  await runMeasure([path.join(dir, 'acts.npy'), '--out', path.join(dir, 'o.json')], signal, io.io);
  assert.match(io.stderr(), /memlens: entropy/);
});

void test('--mi-neurons and --pairs leave null for pairs not computed and report what was used', async () => {
  const dir = workdir();
  const io = streams();
  await runMeasure(
    [path.join(dir, 'acts.npy'), '--layer-sizes', '3,3', '--mi-neurons', '2', '--seed', '1'],
    signal,
    io.io,
  );
  const r = JSON.parse(io.stdout()) as Output;
  const cols = r.params.miColumns as number[];
  assert.equal(cols.length, 4);
  assert.equal(cols.filter((c) => c < 3).length, 2);
  const nonNull = r.mi.flat().filter((v) => v !== null).length;
  assert.equal(nonNull, 4 * 3); // 6 pairs, both triangles
  assert.ok(r.warnings.some((w) => w.code === 'mi-subsampled'));

  const io2 = streams();
  await runMeasure([path.join(dir, 'acts.npy'), '--pairs', '4'], signal, io2.io);
  const r2 = JSON.parse(io2.stdout()) as Output;
  assert.equal(r2.params.pairsComputed, 4);
  assert.equal(r2.summary.mi.pairs, 4);
  assert.equal(r2.mi.flat().filter((v) => v !== null).length, 8);
});

void test('--drop-nonfinite drops the examples and says so', async () => {
  const dir = workdir();
  const bad = Float64Array.from(rows);
  bad[3 * N + 2] = NaN;
  bad[7 * N + 4] = -Infinity;
  writeFileSync(path.join(dir, 'nan.npy'), encodeNpy(bad, [S, N]));
  const io = streams();
  await runMeasure([path.join(dir, 'nan.npy'), '--drop-nonfinite'], signal, io.io);
  const r = JSON.parse(io.stdout()) as Output;
  assert.equal(r.params.samples, S - 2);
  assert.equal(r.params.droppedRows, 2);
  assert.equal(r.warnings[0].code, 'nonfinite-dropped');
});

void test('--help prints the usage', async () => {
  const io = streams();
  assert.equal(await runMeasure(['--help'], signal, io.io), 0);
  assert.match(io.stdout(), /Usage: memlens measure <activations\.npy>/);
  assert.match(io.stdout(), /--drop-nonfinite/);
});

void test('bad input: a one-line UserError naming the problem, and no output file', async () => {
  const dir = workdir();
  const good = readFileSync(path.join(dir, 'acts.npy'));
  const nan = Float64Array.from(rows);
  nan[5 * N + 3] = NaN;
  const files: Record<string, Uint8Array> = {
    'text.npy': new TextEncoder().encode('not numpy at all'),
    'trunc.npy': good.subarray(0, good.length - 100),
    'int.npy': (() => {
      const b = Uint8Array.from(encodeNpy(new Float32Array(8), [4, 2]));
      // Rewrite the descr '<f4' to '<i4' (same length) to get an int32 file.
      const at = Buffer.from(b).indexOf("'<f4'");
      b[at + 2] = 'i'.charCodeAt(0);
      return b;
    })(),
    'vec.npy': encodeNpy(new Float32Array(10), [10]),
    'short.npy': encodeNpy(new Float32Array(6), [3, 2]),
    'empty.npy': encodeNpy(new Float32Array(0), [10, 0]),
    'nan.npy': encodeNpy(nan, [S, N]),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes);
  const f = (name: string) => path.join(dir, name);
  const out = f('out.json');
  const cases: [string[], RegExp][] = [
    [[f('text.npy')], /text\.npy: expected a \.npy file/],
    [[f('trunc.npy')], /trunc\.npy: truncated \.npy data/],
    [[f('int.npy')], /int\.npy: unsupported dtype '<i4' \(int32\): expected float32 or float64/],
    [[f('vec.npy')], /vec\.npy: expected a 2-D S x N array .*found 1-D/],
    [[f('short.npy')], /short\.npy: expected at least k \+ 1 = 4 examples \(rows\), found 3/],
    [[f('acts.npy'), '--k', '200'], /acts\.npy: expected at least k \+ 1 = 201 examples/],
    [[f('empty.npy')], /empty\.npy: expected at least one neuron/],
    [[f('nan.npy')], /nan\.npy: expected finite values, found 1 NaN\/Inf in neuron \(column\) 3/],
    [[f('missing.npy')], /missing\.npy: cannot read the file \(ENOENT\)/],
    [
      [f('acts.npy'), '--layer-sizes', '2,2'],
      /acts\.npy: layer sizes 2,2 must be .* 6 neurons .* found sum 4/,
    ],
    [[f('acts.npy'), '--layer-sizes', '2,x'], /--layer-sizes: expected positive integers/],
    [[f('acts.npy'), '--bins', 'many'], /--bins: expected an integer in 1\.\.10000, found 'many'/],
    [[f('acts.npy'), '--bins', '0'], /--bins: expected an integer in 1\.\.10000, found '0'/],
    [
      [f('acts.npy'), '--bins', '4294967296'],
      /--bins: expected an integer in 1\.\.10000, found '4294967296'/,
    ],
    [
      [f('acts.npy'), '--mi-matrix', 'csv'],
      /--mi-matrix: expected one of auto, inline, npy, none, found 'csv'/,
    ],
    [[f('acts.npy'), '--max-memory', '0'], /--max-memory: expected a number >= 0\.01, found '0'/],
    [
      [f('acts.npy'), '--binning', 'layers'],
      /--binning: expected one of global, layer, neuron, found 'layers'/,
    ],
    [[f('acts.npy'), '--mi-neurons', '1'], /--mi-neurons: expected an integer >= 2/],
    [[f('acts.npy'), '--estimator', 'gao'], /--estimator: expected one of ksg, mixed, found 'gao'/],
    [
      [f('acts.npy'), '--threads', '1000'],
      /--threads: expected an integer in 1\.\.256, found '1000'/,
    ],
    [[f('acts.npy'), '--seed=-1'], /--seed: expected an integer in 0\.\.4294967295, found '-1'/],
    [
      [f('acts.npy'), '--seed', '-1'],
      /measure: Option '--seed' argument is ambiguous\. .* use '--seed=-XYZ'; see/,
    ],
    [[f('acts.npy'), '--colour'], /measure: Unknown option '--colour'/],
    [[], /measure: expected one activations \.npy file, found none/],
    [
      [f('acts.npy'), '--out', path.join(dir, 'no', 'such', 'dir.json')],
      /dir\.json: cannot write output \(ENOENT\)/,
    ],
  ];
  for (const [args, message] of cases) {
    const io = streams();
    const withOut = args.includes('--out') ? args : [...args, '--out', out];
    await assert.rejects(runMeasure(withOut, signal, io.io), (err: unknown) => {
      assert.ok(err instanceof UserError, `${args.join(' ')}: ${String(err)}`);
      assert.ok(!err.message.includes('\n'), `multi-line: ${err.message}`);
      assert.match(err.message, message);
      return true;
    });
    assert.equal(io.stdout(), '');
  }
  assert.deepEqual(readdirSync(dir).sort(), [...Object.keys(files), 'acts.npy'].sort());
});
