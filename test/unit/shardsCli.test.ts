// `memlens measure|analyze|compare --shard I/N` and `memlens merge` as processes: the merge writes
// what a single run writes (every value bit for bit; only the timings differ), and a missing,
// duplicated, foreign or truncated part is a one-line error naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../src/core/io/npy';
import { Rng } from '../../src/core/random';
import { bundleCli } from '../fixtures/cliBundle';
import { encodeSafetensors, zip } from '../fuzz/formats';
import { savez } from '../fixtures/savez';
import { SHARD_MI_RATE } from '../../src/cli/commands/shardFlag';

const cli = path.join(__dirname, 'memlensCli.js');

function memlens(args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}) {
  // The single runs plan their MI with the kernel rate the shards assume.
  const env = { ...process.env, MEMLENS_MI_RATE: SHARD_MI_RATE, ...extra };
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env,
  });
  return r;
}

function ok(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): void {
  const r = memlens(args, cwd, env);
  assert.equal(r.status, 0, `memlens ${args.join(' ')}: ${r.stderr}`);
}

function dump(dir: string, S: number, N: number, seed: number, name = 'acts.npy'): void {
  const rng = new Rng(seed);
  const v = Float32Array.from({ length: S * N }, () => rng.normal());
  for (let s = 0; s < S; s++) v[s * N + 2] = v[s * N] + 0.5 * v[s * N + 2];
  writeFileSync(path.join(dir, name), encodeNpy(v, [S, N]));
}

/** The JSON without what measures the run rather than the data (timings, the date). */
function values(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'), (key, v: unknown) =>
    key === 'timing' || key === 'createdAt' ? undefined : v,
  );
}

function shards(
  command: string[],
  count: number,
  dir: string,
  prefix = 'p',
  env: NodeJS.ProcessEnv = {},
): string[] {
  const parts = [];
  for (let i = 0; i < count; i++) {
    const part = `${prefix}${i}.part`;
    ok([...command, '--shard', `${i}/${count}`, '--out', part], dir, env);
    parts.push(part);
  }
  return parts;
}

void test('measure: merged shards equal the single run (9 neurons, 36 pairs, in 1, 4 and 5 shards; inline and .npy matrix)', async () => {
  await bundleCli(cli);
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-shards-'));
  dump(dir, 240, 9, 3);
  const measure = ['measure', 'acts.npy', '--layer-sizes', '4,5', '--threads', '2'];
  ok([...measure, '--out', 'single.json'], dir);
  ok([...measure, '--mi-matrix', 'npy', '--out', 'single-npy.json'], dir);
  for (const count of [1, 4, 5]) {
    const parts = shards(measure, count, dir, `m${count}-`);
    ok(['merge', ...parts, '--out', `merged${count}.json`], dir);
    assert.deepEqual(
      values(path.join(dir, `merged${count}.json`)),
      values(path.join(dir, 'single.json')),
    );
    // Outside the timings, the file is the single run's byte for byte.
    const strip = (f: string) =>
      readFileSync(path.join(dir, f), 'utf8').replace(/"timing": \{[^}]*\}/, '');
    assert.equal(strip(`merged${count}.json`), strip('single.json'), `${count} shards`);
  }
  const parts = shards([...measure, '--mi-matrix', 'npy'], 3, dir, 'n');
  ok(['merge', ...parts, '--out', 'merged-npy.json'], dir);
  assert.ok(
    readFileSync(path.join(dir, 'merged-npy.json.mi.npy')).equals(
      readFileSync(path.join(dir, 'single-npy.json.mi.npy')),
    ),
    'the .npy matrix byte for byte',
  );
  // The merge runs from anywhere: the parts name the folder the shards ran in.
  ok(
    ['merge', ...parts.map((p) => path.join(dir, p)), '--out', path.join(dir, 'elsewhere.json')],
    tmpdir(),
  );
  assert.ok(
    readFileSync(path.join(dir, 'elsewhere.json.mi.npy')).equals(
      readFileSync(path.join(dir, 'single-npy.json.mi.npy')),
    ),
  );
});

void test("measure shards read their columns from the dump: merged equals the single run (float64, sidecar layers, NaN rows dropped, cap, sampled pairs, layer and neuron bins); the kernel recorded is the shards'", async () => {
  await bundleCli(cli);
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-shards-'));
  const S = 260;
  const N = 30;
  const rng = new Rng(21);
  const v = Float64Array.from({ length: S * N }, () => rng.normal());
  for (let s = 0; s < S; s++) {
    v[s * N + 5] = v[s * N + 4] + 0.3 * v[s * N + 5];
    v[s * N + 12] = 2; // a constant neuron: not MI-measurable
  }
  v[40 * N + 7] = NaN;
  v[41 * N + 20] = Infinity;
  writeFileSync(path.join(dir, 'acts.npy'), encodeNpy(v, [S, N]));
  const layers = [
    { name: 'a', start: 0, end: 13 },
    { name: 'b', start: 13, end: 30 },
  ];
  writeFileSync(path.join(dir, 'acts.layers.json'), JSON.stringify({ layers }));
  const ts = { MEMLENS_MI_KERNEL: 'ts' };
  for (const [name, extra] of [
    ['all', []],
    ['capped', ['--mi-neurons', '9', '--seed', '4']],
    ['sampled', ['--pairs', '50', '--seed', '2']],
    // The merge bins band by band over the ranges the scan found.
    ['layer-binned', ['--binning', 'layer', '--bins', '13']],
    ['neuron-binned', ['--binning', 'neuron', '--mi-neurons', '5']],
  ] as const) {
    const measure = ['measure', 'acts.npy', '--drop-nonfinite', '--threads', '2', ...extra];
    ok([...measure, '--out', `${name}-single.json`], dir, ts);
    const single = values(path.join(dir, `${name}-single.json`)) as {
      params: { miKernel: string; droppedRows: number };
    };
    assert.equal(single.params.miKernel, 'ts');
    assert.equal(single.params.droppedRows, 2);
    // The shards ran the TypeScript kernel; the merge, which computes no pair, says so.
    const parts = shards(measure, 3, dir, `${name}-`, ts);
    ok(['merge', ...parts, '--out', `${name}-merged.json`], dir);
    assert.deepEqual(values(path.join(dir, `${name}-merged.json`)), single, name);
  }
});

/** Layers a (columns 0-2) and b (3-6) beside each 7-column dump of `names`. */
function sidecars(dir: string, ...names: string[]): void {
  const layers = [
    { name: 'a', start: 0, end: 3 },
    { name: 'b', start: 3, end: 7 },
  ];
  for (const name of names)
    writeFileSync(
      path.join(dir, name.replace(/\.npy$/, '.layers.json')),
      JSON.stringify({ layers }),
    );
}

/** Asserts that the parts of `command` in each of `counts` shards merge into `single`. */
function mergesTo(command: string[], counts: number[], dir: string, single: string): void {
  ok([...command, '--out', single], dir);
  for (const count of counts) {
    const prefix = `${path.basename(single, '.json')}-${count}-`;
    const merged = `${prefix}merged.json`;
    ok(
      ['merge', ...shards(command, count, dir, prefix), '--out', merged, '--csv', `${prefix}.csv`],
      dir,
    );
    assert.deepEqual(
      values(path.join(dir, merged)),
      values(path.join(dir, single)),
      `${command.join(' ')}: ${count} shards`,
    );
  }
}

void test('analyze and compare on .npy dumps, .safetensors and stored .npz (read by columns), deflated .npz (read whole): merged shards equal the single report', async () => {
  await bundleCli(cli);
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-shards-'));
  dump(dir, 200, 7, 8);
  dump(dir, 200, 7, 9, 'other.npy');
  dump(dir, 200, 7, 10, 'third.npy');
  sidecars(dir, 'acts.npy', 'other.npy', 'third.npy');
  const analyze = ['analyze', 'acts.npy', '--threads', '1'];
  mergesTo(analyze, [1, 3, 4], dir, 'single.json');
  for (const [name, extra] of [
    ['selected', ['--layers', 'b,a', '--samples', '150', '--seed', '2']],
    ['capped', ['--mi-neurons', '3', '--seed', '5']],
    ['sampled', ['--pairs', '9', '--seed', '1']],
    ['baseline', ['--baseline', 'other.npy', '--layers', 'b']],
  ] as const)
    mergesTo([...analyze, ...extra], [3], dir, `${name}.json`);
  // Two or three MI matrices a run, each split alike.
  const compare = ['compare', 'acts.npy', 'other.npy', 'third.npy', '--threads', '1'];
  mergesTo([...compare, '--baseline', 'other.npy'], [1, 3, 4], dir, 'compare.json');
  mergesTo([...compare, '--reference', 'cohort', '--mi-neurons', '2'], [3], dir, 'cohort.json');
  // A .safetensors dump, read by columns: an F32 and an F16 tensor, the F16's bytes first.
  const rng = new Rng(4);
  const h = Float32Array.from({ length: 200 * 6 }, () => rng.normal());
  // Multiples of 1/64 below 32 in magnitude: exact in float16.
  const g = Float32Array.from({ length: 200 * 5 }, () => Math.round(64 * rng.normal()) / 64);
  const f16 = Uint16Array.from(g, half);
  const header = {
    __metadata__: { order: 'h,g' },
    g: { dtype: 'F16', shape: [200, 5], data_offsets: [0, f16.byteLength] },
    h: {
      dtype: 'F32',
      shape: [200, 6],
      data_offsets: [f16.byteLength, f16.byteLength + h.byteLength],
    },
  };
  const data = new Uint8Array(f16.byteLength + h.byteLength);
  data.set(new Uint8Array(f16.buffer), 0);
  data.set(new Uint8Array(h.buffer), f16.byteLength);
  writeFileSync(path.join(dir, 'acts.safetensors'), encodeSafetensors(header, data));
  const tensors = ['analyze', 'acts.safetensors', '--threads', '1'];
  mergesTo(tensors, [1, 3, 4], dir, 'safetensors.json');
  mergesTo([...tensors, '--layers', 'g', '--samples', '150'], [3], dir, 'safetensors-g.json');
  // .npz dumps: stored (np.savez; fflate's) read by columns, deflated (np.savez_compressed) whole.
  const arrays = { h: { data: h, shape: [200, 6] }, g: { data: g, shape: [200, 5] } };
  savez(path.join(dir, 'savez.npz'), arrays);
  mergesTo(['analyze', 'savez.npz', '--threads', '1'], [1, 3, 4], dir, 'savez.json');
  const npzLayer = ['analyze', 'savez.npz', '--layers', 'g', '--samples', '150', '--threads', '1'];
  mergesTo(npzLayer, [3], dir, 'savez-g.json');
  savez(path.join(dir, 'compressed.npz'), arrays, 'savez_compressed');
  const members = { 'h.npy': encodeNpy(h, [200, 6]), 'g.npy': encodeNpy(g, [200, 5]) };
  writeFileSync(path.join(dir, 'stored.npz'), zip(members, 0));
  writeFileSync(path.join(dir, 'deflated.npz'), zip(members, 6));
  for (const [name, counts] of [
    ['compressed.npz', [3]],
    ['stored.npz', [1, 3]],
    ['deflated.npz', [3]],
  ] as const)
    mergesTo(['analyze', name, '--threads', '1'], [...counts], dir, `${name}.json`);
  // Another model's arrays: compare reads the stored one by columns, the deflated one whole.
  const other = { h: { data: h.map((v, i) => v + g[i % g.length]), shape: [200, 6] }, g: arrays.g };
  savez(path.join(dir, 'other.npz'), other, 'savez_compressed');
  const npzCompare = ['compare', 'savez.npz', 'other.npz', '--baseline', 'other.npz'];
  mergesTo([...npzCompare, '--threads', '1'], [3], dir, 'compare-npz.json');
});

/** A float16 of a number exact in it (0, or a normal half), as its bits. */
function half(v: number): number {
  if (v === 0) return 0;
  const e = Math.floor(Math.log2(Math.abs(v)));
  const bits = ((e + 15) << 10) | Math.round((Math.abs(v) / 2 ** e - 1) * 1024);
  return v < 0 ? 0x8000 | bits : bits;
}

void test('analyze and compare on models (captured to a temporary .npy, read by columns): merged shards equal the single report, no temporary file left', async () => {
  await bundleCli(cli);
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-shards-'));
  const temp = path.join(dir, 'tmp');
  mkdirSync(temp);
  const examples = path.join(__dirname, '..', '..', 'examples');
  const probe = ['--probe', path.join(examples, 'probe.npy'), '--samples', '150', '--threads', '2'];
  const shortcut = path.join(examples, 'shortcut', 'model.json');
  const baseline = path.join(examples, 'shortcut-baseline', 'model.json');
  const env = { TMPDIR: temp };
  const single = (command: string[], out: string) => ok([...command, '--out', out], dir, env);
  const merged = (command: string[], count: number, out: string) => {
    const parts = shards(command, count, dir, path.basename(out, '.json'), env);
    ok(['merge', ...parts, '--out', out], dir, env);
    assert.deepEqual(values(path.join(dir, out)), values(path.join(dir, `single-${out}`)), out);
  };
  const analyze = ['analyze', shortcut, ...probe];
  single(analyze, 'single-analyze.json');
  merged(analyze, 3, 'analyze.json');
  const compare = ['compare', shortcut, baseline, '--baseline', baseline, ...probe];
  single(compare, 'single-compare.json');
  merged(compare, 2, 'compare.json');
  assert.deepEqual(readdirSync(temp), [], 'the shards removed their captures');
});

void test('merge errors name the missing, duplicated, foreign or truncated part', async () => {
  await bundleCli(cli);
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-shards-'));
  dump(dir, 150, 6, 1);
  dump(dir, 150, 6, 2, 'other.npy');
  const parts = shards(['measure', 'acts.npy'], 3, dir);
  const [foreign] = shards(['measure', 'other.npy'], 3, dir, 'o');
  const [byOptions] = shards(['measure', 'acts.npy', '--k', '4'], 3, dir, 'k');
  const fail = (args: string[], message: RegExp) => {
    const r = memlens(['merge', ...args, '--out', 'x.json'], dir);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  };
  fail([parts[0], parts[2]], /^memlens: merge: missing shard 1\/3 /);
  fail([...parts, parts[1]], /^memlens: p1\.part: duplicate of shard 1\/3, already in p1\.part/);
  fail([parts[0], parts[1], foreign], /^memlens: o0\.part: a part of another job than p0\.part/);
  fail([byOptions, parts[1], parts[2]], /^memlens: p1\.part: a part of another job than k0\.part/);
  // Parts of analyze and compare shards, which read the dumps by columns, alike.
  const analyzed = shards(['analyze', 'acts.npy'], 3, dir, 'a');
  fail([analyzed[0], analyzed[2]], /^memlens: merge: missing shard 1\/3 \(2 of 3 parts given\)$/m);
  fail(
    [...analyzed, analyzed[0]],
    /^memlens: a0\.part: duplicate of shard 0\/3, already in a0\.part$/m,
  );
  const compared = shards(['compare', 'acts.npy', 'other.npy'], 4, dir, 'c');
  fail([compared[0], compared[1]], /^memlens: merge: missing shards 2\/4, 3\/4 /);
  fail(
    [parts[0], analyzed[1], analyzed[2]],
    /^memlens: a1\.part: a part of another job than p0\.part/,
  );
  const whole = readFileSync(path.join(dir, parts[2]));
  writeFileSync(path.join(dir, 'cut.part'), whole.subarray(0, whole.length - 5));
  fail(
    [parts[0], parts[1], 'cut.part'],
    /^memlens: cut\.part: truncated part: expected \d+ bytes of values/,
  );
  // A part of the contiguous blocks before tiles (version 2).
  const old = Buffer.from(whole.toString('latin1').replace('"version":3', '"version":2'), 'latin1');
  writeFileSync(path.join(dir, 'old.part'), old);
  fail(
    [parts[0], parts[1], 'old.part'],
    /^memlens: old\.part: expected a version 3 memlens shard part \(blocks tiled\), found version 2 \(another memlens made it: run the shards again\)$/m,
  );
  writeFileSync(path.join(dir, 'acts.npy'), readFileSync(path.join(dir, 'other.npy')));
  fail(parts, /acts\.npy: changed since the shards read it/);
  const r = memlens(['measure', 'acts.npy', '--shard', '3/3', '--out', 'x.part'], dir);
  assert.match(r.stderr, /^memlens: --shard: expected 0 <= I < N, found 3\/3/);
});
