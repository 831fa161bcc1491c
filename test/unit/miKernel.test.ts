// The MI matrix without the compiled kernels (a build without a C compiler and clang): the
// workers run the TypeScript kernel and give exactly the same matrix, and the fallback is told once.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { ActivationMatrix } from '../../src/core/activations';
import { ksgMi } from '../../src/core/measures/ksg';
import { availableKernel, kernelChoiceFromEnv, loadPairKernel } from '../../src/core/mi/kernel';
import { computeMiMatrix, disposeMiPool } from '../../src/core/mi/miMatrix';
import { Rng } from '../../src/core/random';

/** S x N activations with dependent pairs, post-ReLU ties and integer ties (every kernel path). */
function makeActs(samples: number, neurons: number, seed: number): ActivationMatrix {
  const rng = new Rng(seed);
  const data = new Float64Array(samples * neurons);
  for (let s = 0; s < samples; s++) {
    const shared = rng.normal();
    for (let n = 0; n < neurons; n++) {
      const v = (n / neurons) * shared + rng.normal();
      data[n * samples + s] = n % 3 === 1 ? Math.max(0, v) : n % 3 === 2 ? Math.round(v) : v;
    }
  }
  return { samples, neurons, data, layers: [{ name: 'all', start: 0, end: neurons }] };
}

const bytes = (v: Float64Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

// Re-run by the last test from a folder holding no ksgKernel.wasm: two matrices, printed as
// the kernel and the bytes of the values.
if (process.env.MI_NO_WASM_CHILD) {
  void (async () => {
    for (let i = 0; i < 2; i++) {
      const m = await computeMiMatrix(makeActs(400, 7, 21), { threads: 2 });
      process.stdout.write(`${m.kernel} ${bytes(m.values).toString('base64')}\n`);
    }
    await disposeMiPool();
  })();
} else {
  after(() => disposeMiPool());

  void test('MEMLENS_MI_KERNEL=ts|wasm|native forces a kernel; anything else is auto', () => {
    assert.equal(kernelChoiceFromEnv({ MEMLENS_MI_KERNEL: 'ts' }), 'ts');
    assert.equal(kernelChoiceFromEnv({ MEMLENS_MI_KERNEL: ' TS ' }), 'ts');
    assert.equal(kernelChoiceFromEnv({ MEMLENS_MI_KERNEL: 'wasm' }), 'wasm');
    assert.equal(kernelChoiceFromEnv({ MEMLENS_MI_KERNEL: 'Native' }), 'native');
    assert.equal(kernelChoiceFromEnv({ MEMLENS_MI_KERNEL: 'gpu' }), 'auto');
    assert.equal(kernelChoiceFromEnv({}), 'auto');
    const missing = loadPairKernel('auto', {
      native: '/nonexistent/ksgNative.node',
      wasm: '/nonexistent/ksgKernel.wasm',
    });
    assert.equal(missing.kernel.name, 'ts');
    assert.match(missing.fallback ?? '', /\/nonexistent\/ksgKernel\.wasm\) was not built/);
    assert.equal(loadPairKernel('ts').fallback, undefined);
  });

  void test('the TypeScript kernel gives exactly the matrix of the kernel auto picks', async () => {
    const acts = makeActs(600, 9, 5);
    const ts = await computeMiMatrix(acts, { threads: 2, kernel: 'ts', diagonal: true });
    assert.equal(ts.kernel, 'ts');
    const auto = await computeMiMatrix(acts, { threads: 2, diagonal: true });
    assert.equal(auto.kernel, availableKernel());
    assert.notEqual(auto.kernel, 'ts', 'no compiled kernel was built');
    assert.ok(bytes(ts.values).equals(bytes(auto.values)), 'TS and auto matrices differ');
    // And both are the estimator itself.
    const col = (n: number): Float64Array => acts.data.subarray(n * 600, (n + 1) * 600);
    assert.ok(Object.is(ts.values[1 * 9 + 4], ksgMi(col(1), col(4))));
    // The pool switches back and forth between kernels job by job.
    const again = await computeMiMatrix(acts, { threads: 2, kernel: 'ts', diagonal: true });
    assert.ok(bytes(again.values).equals(bytes(auto.values)));
  });

  void test('without ksgNative.node and ksgKernel.wasm the workers fall back, say so once', async () => {
    // This bundle and the worker bundle, copied to a folder without the kernels (inside out/, so
    // that node_modules still resolves).
    const dir = mkdtempSync(path.join(__dirname, 'no-wasm-'));
    try {
      copyFileSync(__filename, path.join(dir, path.basename(__filename)));
      copyFileSync(path.join(__dirname, 'miWorker.js'), path.join(dir, 'miWorker.js'));
      const run = spawnSync(process.execPath, [path.join(dir, path.basename(__filename))], {
        env: { ...process.env, MI_NO_WASM_CHILD: '1', MEMLENS_MI_KERNEL: '' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stdout.trim().split('\n');
      assert.equal(lines.length, 2);
      const want = await computeMiMatrix(makeActs(400, 7, 21), { threads: 2 });
      for (const line of lines) {
        const [kernel, values] = line.split(' ');
        assert.equal(kernel, 'ts');
        assert.equal(values, bytes(want.values).toString('base64'), 'fallback matrix differs');
      }
      const notices = run.stderr.split('\n').filter((l) => l.startsWith('memlens: '));
      assert.equal(notices.length, 1, run.stderr);
      assert.match(
        notices[0],
        /^memlens: the native MI kernel \(.*ksgNative\.node\) was not built .*; the WebAssembly MI kernel \(.*ksgKernel\.wasm\) was not built \(no clang\); running the TypeScript MI kernel/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
