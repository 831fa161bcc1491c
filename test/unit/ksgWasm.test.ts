import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { digammaTable } from '../../src/core/measures/digamma';
import { ksgMi } from '../../src/core/measures/ksg';
import {
  KSG_ESTIMATORS,
  KsgScratch,
  ksgPair,
  prepareColumn,
} from '../../src/core/measures/ksgKernel';
import { KsgNativeKernel } from '../../src/core/measures/ksgNative';
import { KsgWasmKernel } from '../../src/core/measures/ksgWasm';
import { Rng } from '../../src/core/random';
import { skipWithout } from '../fixtures/optionalDeps';

// Every compiled kernel (ksgKernel.c as WebAssembly and as a Node addon) against the TypeScript
// reference kernel, bit for bit. The compiled kernels search grids of their own (coarser, refined
// for crowded pairs) and grow a rectangle past the 3 x 3 block, so they are held to the same bits
// on fixed column shapes and on seeded random ones. Under MEMLENS_REQUIRE_ALL=1 (CI) a kernel the
// build did not make fails the run instead of skipping.

/** A column of S values of one of the shapes that drive the kernel down its different paths. */
function column(kind: string, S: number, rng: Rng, base: Float64Array): Float64Array {
  const v = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    const g = rng.normal();
    switch (kind) {
      case 'gaussian':
        v[s] = g;
        break;
      case 'dependent': // strongly tied to the shared base: crowded diagonal grid cells
        v[s] = base[s] + 0.05 * g;
        break;
      case 'relu': // post-ReLU: about half exact zeros
        v[s] = Math.max(0, base[s] + g);
        break;
      case 'relu-runs': // post-ReLU whose positive values are held up to 3 samples: short tie
        // runs (duplicate points, with another such column) beside the long run of zeros
        v[s] = s % 3 !== 0 && v[s - 1] > 0 ? v[s - 1] : Math.max(0, base[s] + g);
        break;
      case 'integers': // many short tie runs and duplicate points
        v[s] = Math.round(2 * g);
        break;
      case 'coarse': // a few long runs
        v[s] = Math.round(g / 2) * 0.5;
        break;
      case 'constant':
        v[s] = -1.25;
        break;
      case 'blocks': // each value 4 times in a row: with another `blocks`, short runs of equal
        // points (eps = 0 on the grid path)
        v[s] = s % 4 === 0 ? base[s] + g : v[s - 1];
        break;
      case 'outliers': // wide range: crowded guide buckets in the marginal counts
        v[s] = s % 97 === 0 ? g * 1e6 : g;
        break;
      case 'quantised': // the dependent column on a grid of 0.25: ties along the diagonal
        v[s] = Math.round((base[s] + 0.3 * g) * 4) / 4;
        break;
      case 'duplicated': // the base column itself: with `dependent`, with itself, exact copies
        v[s] = base[s];
        break;
      default:
        throw new Error(kind);
    }
  }
  return v;
}

const KINDS = [
  'gaussian',
  'dependent',
  'relu',
  'relu-runs',
  'integers',
  'coarse',
  'constant',
  'outliers',
  'blocks',
  'quantised',
  'duplicated',
];

/**
 * A column of a random shape: one of KINDS, then on a random share of the samples rounded to
 * a random number of levels (more ties, duplicate points), and scaled by a random factor.
 */
function randomColumn(S: number, rng: Rng, base: Float64Array): { kind: string; v: Float64Array } {
  const kind = KINDS[rng.int(KINDS.length)];
  const v = column(kind, S, rng, base);
  const share = rng.next() < 0.5 ? 0 : rng.next();
  const levels = 1 + rng.int(8);
  const scale = rng.next() < 0.5 ? 1 : Math.exp(3 * rng.normal());
  for (let s = 0; s < S; s++) {
    if (rng.next() < share) v[s] = Math.round(v[s] * levels) / levels;
    v[s] *= scale;
  }
  return {
    kind: share > 0 ? `${kind}, ${(100 * share).toFixed(0)}% on ${levels} levels` : kind,
    v,
  };
}

/**
 * The compiled kernels: a build without clang has no .wasm, one without a C compiler no addon.
 * The addon twice: on its best vector path here (AVX2 on an x86-64 that has it) and on its
 * baseline one.
 */
const COMPILED = [
  {
    name: 'wasm',
    missing: skipWithout('clang', KsgWasmKernel.available()),
    load: () => KsgWasmKernel.load(),
  },
  {
    name: 'native',
    missing: skipWithout('node-addon', KsgNativeKernel.available()),
    load: () => KsgNativeKernel.load(),
  },
  {
    name: 'native (baseline SIMD)',
    missing: skipWithout('node-addon', KsgNativeKernel.available()),
    load: () => {
      const kernel = KsgNativeKernel.load();
      assert.equal(kernel.simd('baseline'), 'baseline');
      return kernel;
    },
  },
] as const;

/**
 * Every ordered pair of `values` (S samples each) through `kernel` and the TypeScript kernel,
 * with k neighbours and both estimators: asserts the same bits. Returns the pairs compared and
 * how many had a zero eps somewhere.
 */
function assertEveryPair(
  kernel: ReturnType<(typeof COMPILED)[number]['load']>,
  name: string,
  S: number,
  k: number,
  values: Float64Array[],
  names: string[],
): { compared: number; zeroEps: number } {
  kernel.reset();
  const prepared = values.map((v) => prepareColumn(v));
  const handles = prepared.map((c) => kernel.addColumn(c));
  const psi = digammaTable(S);
  let compared = 0;
  let zeroEps = 0;
  for (const estimator of KSG_ESTIMATORS) {
    const scratch = kernel.newScratch(S, k, psi, estimator);
    const ts = new KsgScratch(S, k, psi, estimator);
    for (let a = 0; a < values.length; a++) {
      for (let b = 0; b < values.length; b++) {
        const want = ksgPair(prepared[a], prepared[b], ts);
        const got = kernel.pair(handles[a], handles[b], scratch);
        assert.ok(
          Object.is(got, want),
          `${estimator}, S = ${S}, k = ${k}, ${names[a]} x ${names[b]}: ${name} ${got}, TS ${want}`,
        );
        compared++;
        if (ts.eps.some((e) => e === 0)) zeroEps++;
      }
    }
  }
  return { compared, zeroEps };
}

for (const { name, missing, load } of COMPILED) {
  void test(`${name} kernel: bit-identical to the TypeScript kernel on every path, both estimators`, (t) => {
    if (missing) return t.skip(missing);
    const kernel = load();
    const rng = new Rng(11);
    let compared = 0;
    let zeroEps = 0;
    for (const [S, k] of [
      [5, 1],
      [9, 2],
      [40, 3],
      [300, 3],
      [1000, 3],
      [700, 5],
      [257, 1],
    ]) {
      const base = Float64Array.from({ length: S }, () => rng.normal());
      const values = KINDS.map((kind) => column(kind, S, rng, base));
      const r = assertEveryPair(kernel, name, S, k, values, KINDS);
      compared += r.compared;
      zeroEps += r.zeroEps;
    }
    assert.equal(compared, 2 * 7 * KINDS.length * KINDS.length);
    assert.ok(zeroEps > 100, `${zeroEps} pairs with eps = 0`);
  });

  void test(`${name} kernel: bit-identical to the TypeScript kernel on seeded random columns`, (t) => {
    if (missing) return t.skip(missing);
    const kernel = load();
    const rng = new Rng(20260917);
    const kinds = new Set<string>();
    let compared = 0;
    // S a multiple of nothing in particular (and 2, 3: grids of one band), k from 1 to 7
    for (const [S, k] of [
      [2, 1],
      [3, 2],
      [11, 1],
      [37, 3],
      [131, 4],
      [613, 3],
      [997, 2],
      [1231, 3],
      [2003, 3],
      [2503, 7],
      [4001, 3],
    ]) {
      const base = Float64Array.from({ length: S }, () => rng.normal());
      const cols = Array.from({ length: 7 }, () => randomColumn(S, rng, base));
      for (const c of cols) kinds.add(c.kind.split(',')[0]);
      const names = cols.map((c) => c.kind);
      compared += assertEveryPair(
        kernel,
        name,
        S,
        k,
        cols.map((c) => c.v),
        names,
      ).compared;
    }
    assert.equal(compared, 11 * 2 * 49);
    assert.ok(kinds.size >= 8, `kinds drawn: ${[...kinds].join(', ')}`);
  });

  void test(`${name} kernel: scikit-learn fixtures, tie-heavy ones included, bit-identical to TS`, (t) => {
    if (missing) return t.skip(missing);
    const file = path.join(__dirname, '../../test/fixtures/ksg/sklearn.json');
    const { cases } = JSON.parse(readFileSync(file, 'utf8')) as {
      cases: { name: string; k: number; x: number[]; y: number[]; mi: number }[];
    };
    const kernel = load();
    for (const c of cases) {
      kernel.reset();
      const S = c.x.length;
      const x = prepareColumn(Float64Array.from(c.x));
      const y = prepareColumn(Float64Array.from(c.y));
      const hx = kernel.addColumn(x);
      const hy = kernel.addColumn(y);
      const psi = digammaTable(S);
      for (const estimator of KSG_ESTIMATORS) {
        const scratch = kernel.newScratch(S, c.k, psi, estimator);
        const ts = new KsgScratch(S, c.k, psi, estimator);
        for (const [a, b, p, q] of [
          [hx, hy, x, y],
          [hy, hx, y, x],
        ] as const) {
          const got = kernel.pair(a, b, scratch);
          assert.ok(Object.is(got, ksgPair(p, q, ts)), `${estimator} ${c.name}: ${got}`);
          if (estimator === 'ksg') assert.ok(Math.abs(got - c.mi) < 1e-9, `${c.name}: ${got}`);
        }
      }
    }
  });

  void test(`${name} kernel: hand-worked cases with duplicated points (eps = 0)`, (t) => {
    if (missing) return t.skip(missing);
    // The cases worked out in ksg.test.ts: S = 5, k = 1: I = 13/60 nats (exact ties counted at
    // eps = 0), either estimator; S = 7, k = 2: KSG-1 1/60, mixed 1/60 + 2/7.
    const kernel = load();
    const x = prepareColumn(Float64Array.from([1, 1, 2, 4, 1]));
    const y = prepareColumn(Float64Array.from([1, 1, 5, 3, 2]));
    const hx = kernel.addColumn(x);
    const hy = kernel.addColumn(y);
    for (const estimator of KSG_ESTIMATORS) {
      const mi = kernel.pair(hx, hy, kernel.newScratch(5, 1, digammaTable(5), estimator));
      assert.ok(Math.abs(mi - 13 / 60) < 1e-12, `${estimator}: ${mi}`);
    }
    const x7 = kernel.addColumn(prepareColumn(Float64Array.from([0, 0, 0, 0, 0, 2, 3])));
    const y7 = kernel.addColumn(prepareColumn(Float64Array.from([0, 0, 0, 0, 1, 0, 3])));
    const psi7 = digammaTable(7);
    const ksg = kernel.pair(x7, y7, kernel.newScratch(7, 2, psi7));
    assert.ok(Math.abs(ksg - 1 / 60) < 1e-12, `ksg: ${ksg}`);
    const mixed = kernel.pair(x7, y7, kernel.newScratch(7, 2, psi7, 'mixed'));
    assert.ok(Math.abs(mixed - (1 / 60 + 2 / 7)) < 1e-12, `mixed: ${mixed}`);
  });

  void test(`${name} kernel: memory grows for large S and reset reuses it`, (t) => {
    if (missing) return t.skip(missing);
    const kernel = load();
    const rng = new Rng(3);
    const S = 20000;
    const x = Float64Array.from({ length: S }, () => rng.normal());
    const y = Float64Array.from(x, (v) => v + rng.normal());
    for (let round = 0; round < 2; round++) {
      kernel.reset();
      const mi = kernel.pair(
        kernel.addColumn(prepareColumn(x)),
        kernel.addColumn(prepareColumn(y)),
        kernel.newScratch(S, 3, digammaTable(S)),
      );
      assert.equal(mi, ksgMi(x, y, 3));
      // rho = 1/sqrt(2): I = -0.5 ln(1/2) = 0.3466 nats.
      assert.ok(Math.abs(mi - 0.5 * Math.log(2)) < 0.05, `${mi}`);
    }
  });
}

void test('native kernel: takes the AVX2 path where the processor has AVX2', (t) => {
  const missing = skipWithout('node-addon', KsgNativeKernel.available());
  if (missing) return t.skip(missing);
  const kernel = KsgNativeKernel.load();
  const cpu = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = /^flags\s*:(.*)$/m.exec(cpu)?.[1].split(/\s+/) ?? [];
  if (process.arch === 'x64' && flags.includes('avx2') && flags.includes('popcnt')) {
    assert.equal(kernel.simd('auto'), 'avx2');
  } else if (process.arch !== 'x64') {
    assert.equal(kernel.simd('auto'), 'baseline');
  }
  assert.equal(kernel.simd('baseline'), 'baseline');
  assert.throws(() => kernel.simd('avx512' as never), /simd\(instance, "auto" \| "baseline"\)/);
});

void test('compiled kernels: loading a missing file is a clear error (callers check available())', () => {
  assert.equal(KsgWasmKernel.available('/nonexistent/ksgKernel.wasm'), false);
  assert.throws(
    () => KsgWasmKernel.load('/nonexistent/ksgKernel.wasm'),
    /expected the WebAssembly kernel at \/nonexistent\/ksgKernel\.wasm, found no file/,
  );
  assert.equal(KsgNativeKernel.available('/nonexistent/ksgNative.node'), false);
  assert.throws(
    () => KsgNativeKernel.load('/nonexistent/ksgNative.node'),
    /expected the native kernel at \/nonexistent\/ksgNative\.node, found no file/,
  );
});
