import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digammaTable } from '../../src/core/measures/digamma';
import { ksgMi } from '../../src/core/measures/ksg';
import { KsgScratch, ksgPair, prepareColumn } from '../../src/core/measures/ksgKernel';
import { KsgWasmKernel } from '../../src/core/measures/ksgWasm';
import { Rng } from '../../src/core/random';
import { skipWithout } from '../fixtures/optionalDeps';

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
      case 'integers': // many short tie runs and duplicate points
        v[s] = Math.round(2 * g);
        break;
      case 'coarse': // a few long runs
        v[s] = Math.round(g / 2) * 0.5;
        break;
      case 'constant':
        v[s] = -1.25;
        break;
      case 'outliers': // wide range: crowded guide buckets in the marginal counts
        v[s] = s % 97 === 0 ? g * 1e6 : g;
        break;
      default:
        throw new Error(kind);
    }
  }
  return v;
}

const KINDS = ['gaussian', 'dependent', 'relu', 'integers', 'coarse', 'constant', 'outliers'];

/** A build without clang has no .wasm (the workers then run the TypeScript kernel). */
const noWasm = skipWithout('clang', KsgWasmKernel.available());

void test('wasm kernel: bit-identical to the TypeScript kernel on every path', (t) => {
  if (noWasm) return t.skip(noWasm);
  const kernel = KsgWasmKernel.load();
  const rng = new Rng(11);
  let compared = 0;
  for (const [S, k] of [
    [5, 1],
    [9, 2],
    [40, 3],
    [300, 3],
    [1000, 3],
    [700, 5],
    [257, 1],
  ]) {
    kernel.reset();
    const base = Float64Array.from({ length: S }, () => rng.normal());
    const values = KINDS.map((kind) => column(kind, S, rng, base));
    const prepared = values.map((v) => prepareColumn(v));
    const handles = prepared.map((c) => kernel.addColumn(c));
    const psi = digammaTable(S);
    const scratch = kernel.newScratch(S, k, psi);
    const ts = new KsgScratch(S, k, psi);
    for (let a = 0; a < KINDS.length; a++) {
      for (let b = 0; b < KINDS.length; b++) {
        const want = ksgPair(prepared[a], prepared[b], ts);
        const got = kernel.pair(handles[a], handles[b], scratch);
        assert.ok(
          Object.is(got, want),
          `S = ${S}, k = ${k}, ${KINDS[a]} x ${KINDS[b]}: wasm ${got}, TS ${want}`,
        );
        compared++;
      }
    }
  }
  assert.equal(compared, 7 * KINDS.length * KINDS.length);
});

void test('wasm kernel: hand-worked S = 5, k = 1 with duplicated points (eps = 0)', (t) => {
  if (noWasm) return t.skip(noWasm);
  // The case worked out in ksg.test.ts: I = 73/60 nats.
  const kernel = KsgWasmKernel.load();
  const x = prepareColumn(Float64Array.from([1, 1, 2, 4, 1]));
  const y = prepareColumn(Float64Array.from([1, 1, 5, 3, 2]));
  const mi = kernel.pair(
    kernel.addColumn(x),
    kernel.addColumn(y),
    kernel.newScratch(5, 1, digammaTable(5)),
  );
  assert.ok(Math.abs(mi - 73 / 60) < 1e-12, `${mi}`);
});

void test('wasm kernel: memory grows for large S and reset reuses it', (t) => {
  if (noWasm) return t.skip(noWasm);
  const kernel = KsgWasmKernel.load();
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

void test('wasm kernel: loading a missing file is a clear error (callers check available())', () => {
  assert.equal(KsgWasmKernel.available('/nonexistent/ksgKernel.wasm'), false);
  assert.throws(
    () => KsgWasmKernel.load('/nonexistent/ksgKernel.wasm'),
    /expected the WebAssembly kernel at \/nonexistent\/ksgKernel\.wasm, found no file/,
  );
});
