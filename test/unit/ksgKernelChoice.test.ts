// Which MI kernel runs: `auto` takes native, else wasm, else ts, each compiled one only after it
// loads and passes its self-check; a forced kernel that cannot run is an error.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { KsgEstimator, PreparedColumn } from '../../src/core/measures/ksgKernel';
import { KsgNativeKernel } from '../../src/core/measures/ksgNative';
import { KsgWasmKernel } from '../../src/core/measures/ksgWasm';
import type { PairKernel } from '../../src/core/mi/kernel';
import {
  TsPairKernel,
  availableKernel,
  loadPairKernel,
  selfCheck,
  slowerKernel,
} from '../../src/core/mi/kernel';
import { skipWithout } from '../fixtures/optionalDeps';

const missingNative = skipWithout('node-addon', KsgNativeKernel.available());
const missingWasm = skipWithout('clang', KsgWasmKernel.available());
const dir = mkdtempSync(path.join(tmpdir(), 'memlens-kernels-'));
after(() => rmSync(dir, { recursive: true, force: true }));

void test('auto runs the native kernel when it is built, and it passes its self-check', (t) => {
  if (missingNative) return t.skip(missingNative);
  const loaded = loadPairKernel('auto');
  assert.equal(loaded.kernel.name, 'native');
  assert.equal(loaded.fallback, undefined);
  assert.equal(selfCheck(loaded.kernel), null);
  assert.equal(availableKernel(), 'native');
});

void test('a forced kernel runs as named, and one that is missing is an error', (t) => {
  if (missingNative) return t.skip(missingNative);
  if (missingWasm) return t.skip(missingWasm);
  assert.equal(loadPairKernel('native').kernel.name, 'native');
  assert.equal(loadPairKernel('wasm').kernel.name, 'wasm');
  assert.equal(loadPairKernel('ts').kernel.name, 'ts');
  assert.equal(availableKernel('wasm'), 'wasm');
  assert.throws(
    () => loadPairKernel('native', { native: path.join(dir, 'none.node') }),
    /expected the native kernel at .*none\.node, found no file/,
  );
});

void test('auto falls back to wasm when the addon does not load, saying why', (t) => {
  if (missingWasm) return t.skip(missingWasm);
  const broken = path.join(dir, 'broken.node');
  writeFileSync(broken, 'not a shared library');
  const loaded = loadPairKernel('auto', { native: broken });
  assert.equal(loaded.kernel.name, 'wasm');
  assert.match(
    loaded.fallback ?? '',
    /^MI kernel: the native kernel .*broken\.node does not load: .*; running the WebAssembly MI kernel: same values, slower$/,
  );
  const none = loadPairKernel('auto', { native: path.join(dir, 'none.node') });
  assert.equal(none.kernel.name, 'wasm');
  assert.match(none.fallback ?? '', /none\.node\) was not built/);
});

/** A kernel that computes with the TypeScript one and then, when told to, gets it wrong. */
class SkewedKernel implements PairKernel {
  readonly name = 'native';
  private readonly ts = new TsPairKernel();
  constructor(private readonly skew: (v: number) => number) {}
  reset(): void {
    this.ts.reset();
  }
  addColumn(c: PreparedColumn): number {
    return this.ts.addColumn(c);
  }
  newScratch(n: number, k: number, psi: Float64Array, estimator: KsgEstimator): number {
    return this.ts.newScratch(n, k, psi, estimator);
  }
  pair(x: number, y: number, scratch: number): number {
    return this.skew(this.ts.pair(x, y, scratch));
  }
}

void test('the self-check refuses a kernel one ulp off, or one that throws', () => {
  assert.equal(selfCheck(new SkewedKernel((v) => v)), null);
  const ulp = selfCheck(new SkewedKernel((v) => v + Math.abs(v) * Number.EPSILON));
  assert.match(ulp ?? '', /^pair 0 x 0 \(ksg\) gave .*, the TypeScript kernel /);
  const throwing = selfCheck(
    new SkewedKernel(() => {
      throw new RangeError('out of memory');
    }),
  );
  assert.equal(throwing, 'out of memory');
});

void test('a job that ran several kernels reports the slowest', () => {
  assert.equal(slowerKernel('native', 'wasm'), 'wasm');
  assert.equal(slowerKernel('ts', 'native'), 'ts');
  assert.equal(slowerKernel('native', 'native'), 'native');
});
