import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { ActivationMatrix } from '../../src/core/activations';
import { CancelledError, UserError } from '../../src/core/errors';
import { ksgMi } from '../../src/core/measures/ksg';
import { computeMiMatrix, disposeMiPool } from '../../src/core/mi/miMatrix';
import { allPairs, samplePairs } from '../../src/core/mi/pairs';
import { MiPool, getMiPool } from '../../src/core/mi/pool';
import type { Progress } from '../../src/core/progress';
import { Rng } from '../../src/core/random';
import { neuronsInFlight, pairCount } from '../fixtures/inFlight';

/** S x N neuron-major activations: neuron n mixes a shared factor with weight n / N. */
function makeActs(samples: number, neurons: number, seed: number): ActivationMatrix {
  const rng = new Rng(seed);
  const data = new Float64Array(samples * neurons);
  for (let s = 0; s < samples; s++) {
    const shared = rng.normal();
    for (let n = 0; n < neurons; n++) {
      const v = (n / neurons) * shared + rng.normal();
      data[n * samples + s] = n % 3 === 2 ? Math.max(0, v) : v; // every third post-ReLU
    }
  }
  return { samples, neurons, data, layers: [{ name: 'all', start: 0, end: neurons }] };
}

const col = (acts: ActivationMatrix, n: number): Float64Array =>
  acts.data.subarray(n * acts.samples, (n + 1) * acts.samples);

// The child-process check below re-runs this file with MI_CHILD set: compute, print, and let
// the process exit by itself (the pool's idle workers must not keep it alive).
if (process.env.MI_CHILD) {
  void computeMiMatrix(makeActs(200, 4, 1), { threads: 2 }).then((m) => {
    process.stdout.write(`pairs ${m.pairsComputed}\n`);
  });
} else {
  after(() => disposeMiPool());

  void test('all pairs: symmetric, equal to ksgMi per pair, NaN diagonal; diagonal on request', async () => {
    const acts = makeActs(300, 6, 11);
    const m = await computeMiMatrix(acts, { threads: 2 });
    assert.deepEqual(m.columns, [0, 1, 2, 3, 4, 5]);
    assert.equal(m.pairsTotal, 15);
    assert.equal(m.pairsComputed, 15);
    assert.equal(m.k, 3);
    for (let i = 0; i < 6; i++) {
      assert.ok(Number.isNaN(m.values[i * 6 + i]));
      for (let j = i + 1; j < 6; j++) {
        const want = ksgMi(col(acts, i), col(acts, j), 3);
        assert.ok(Math.abs(m.values[i * 6 + j] - want) < 1e-12, `(${i},${j})`);
        assert.equal(m.values[j * 6 + i], m.values[i * 6 + j]);
      }
    }
    const d = await computeMiMatrix(acts, { threads: 1, diagonal: true, k: 5 });
    assert.equal(d.k, 5);
    for (let i = 0; i < 6; i++) {
      assert.ok(Math.abs(d.values[i * 6 + i] - ksgMi(col(acts, i), col(acts, i), 5)) < 1e-12);
    }
  });

  void test('columns subset: matrix index i is neuron columns[i]', async () => {
    const acts = makeActs(250, 8, 12);
    const m = await computeMiMatrix(acts, { columns: [1, 4, 7] });
    assert.deepEqual(m.columns, [1, 4, 7]);
    assert.equal(m.values.length, 9);
    assert.equal(m.pairsTotal, 3);
    assert.ok(Math.abs(m.values[0 * 3 + 2] - ksgMi(col(acts, 1), col(acts, 7))) < 1e-12);
    assert.ok(Math.abs(m.values[1 * 3 + 2] - ksgMi(col(acts, 4), col(acts, 7))) < 1e-12);
    await assert.rejects(computeMiMatrix(acts, { columns: [3, 2] }), /ascending neuron indices/);
    await assert.rejects(
      computeMiMatrix(acts, { columns: [0, 8] }),
      /ascending neuron indices in \[0, 8\)/,
    );
  });

  void test('sampled pairs: exact values on the chosen pairs, NaN elsewhere, deterministic by seed', async () => {
    const acts = makeActs(200, 9, 13);
    const a = await computeMiMatrix(acts, { pairs: 7, seed: 5 });
    const b = await computeMiMatrix(acts, { pairs: 7, seed: 5, threads: 1 });
    const c = await computeMiMatrix(acts, { pairs: 7, seed: 6 });
    assert.equal(a.pairsComputed, 7);
    assert.equal(a.pairsTotal, 36);
    const chosen = (m: typeof a): string[] => {
      const out: string[] = [];
      for (let i = 0; i < 9; i++) {
        for (let j = i + 1; j < 9; j++) {
          if (!Number.isNaN(m.values[i * 9 + j])) {
            out.push(`${i},${j}`);
            assert.ok(Math.abs(m.values[i * 9 + j] - ksgMi(col(acts, i), col(acts, j))) < 1e-12);
            assert.equal(m.values[j * 9 + i], m.values[i * 9 + j]);
          }
        }
      }
      return out;
    };
    assert.equal(chosen(a).length, 7);
    assert.deepEqual(chosen(a), chosen(b));
    assert.notDeepEqual(chosen(a), chosen(c));
    const all = await computeMiMatrix(acts, { pairs: 1000 });
    assert.equal(all.pairsComputed, 36);
  });

  void test('samplePairs draws distinct pairs uniformly', () => {
    // 6 columns -> 15 pairs; 3,000 draws of 5 pairs: each pair expected 1,000 times.
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 3000; seed++) {
      const { a, b } = samplePairs(6, 5, seed);
      const seen = new Set<string>();
      for (let t = 0; t < a.length; t++) {
        assert.ok(a[t] < b[t] && b[t] < 6);
        if (t > 0)
          assert.ok(a[t - 1] < a[t] || (a[t - 1] === a[t] && b[t - 1] < b[t]), 'row order');
        const key = `${a[t]},${b[t]}`;
        assert.ok(!seen.has(key));
        seen.add(key);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    assert.equal(counts.size, 15);
    // Binomial sd ~ 26; allow 5 sd.
    for (const [key, n] of counts) assert.ok(Math.abs(n - 1000) < 130, `${key}: ${n}`);
    assert.deepEqual(Array.from(allPairs(4).a), [0, 0, 0, 1, 1, 2]);
    assert.deepEqual(Array.from(allPairs(4).b), [1, 2, 3, 2, 3, 3]);
  });

  void test('progress: stage mi, monotone, ends at the total', async () => {
    const seen: Progress[] = [];
    await computeMiMatrix(makeActs(400, 12, 14), { onProgress: (p) => seen.push(p) });
    assert.ok(seen.length >= 1);
    for (let i = 0; i < seen.length; i++) {
      assert.equal(seen[i].stage, 'mi');
      assert.equal(seen[i].total, 66);
      if (i > 0) assert.ok(seen[i].done >= seen[i - 1].done);
    }
    assert.equal(seen[seen.length - 1].done, 66);
  });

  void test('cancellation: the job rejects with CancelledError, its work stops, the pool still works', async () => {
    // Sized so that most tasks are still queued at the first progress report, on any machine.
    const S = 1000;
    const acts = makeActs(S, neuronsInFlight(S), 15);
    const total = pairCount(acts.neurons);
    const ctrl = new AbortController();
    let reports = 0;
    let progressed = 0;
    const job = computeMiMatrix(acts, {
      signal: ctrl.signal,
      onProgress: (p) => {
        reports++;
        progressed = p.done;
        ctrl.abort(); // at the first report: the work is visibly under way
      },
    });
    await assert.rejects(job, (err) => err instanceof CancelledError);
    assert.ok(reports >= 1, 'the job reported progress');
    assert.ok(progressed < total, `cancelled after ${progressed} of ${total} pairs`);
    const reportsAtCancel = reports;
    // Aborted before it starts:
    await assert.rejects(computeMiMatrix(acts, { signal: AbortSignal.abort() }), CancelledError);
    // Aborted while queued behind a running job: rejects while that job runs, which goes on.
    const first = new AbortController();
    const queuedCtrl = new AbortController();
    let firstDone = 0;
    let onFirstProgress: (() => void) | null = null;
    const running = computeMiMatrix(acts, {
      signal: first.signal,
      onProgress: (p) => {
        firstDone = p.done;
        queuedCtrl.abort();
        onFirstProgress?.();
      },
    });
    const queued = computeMiMatrix(makeActs(150, 3, 16), { signal: queuedCtrl.signal });
    await assert.rejects(queued, CancelledError);
    const doneAtQueuedCancel = firstDone;
    assert.ok(doneAtQueuedCancel < total, 'the queued job was cancelled while the first ran');
    await new Promise<void>((resolve, reject) => {
      onFirstProgress = () => {
        if (firstDone > doneAtQueuedCancel) resolve();
      };
      onFirstProgress();
      running.then(
        () => reject(new Error('the first job ended before it was cancelled')),
        () => undefined,
      );
    });
    first.abort();
    await assert.rejects(running, CancelledError);
    // And the pool answers the next job correctly, with no more workers than threads.
    const small = makeActs(150, 3, 16);
    const m = await computeMiMatrix(small);
    assert.ok(Math.abs(m.values[1] - ksgMi(col(small, 0), col(small, 1))) < 1e-12);
    assert.ok(getMiPool().size <= availableParallelism(), `${getMiPool().size} workers`);
    // The cancelled job's workers stopped: it reported nothing after its rejection.
    assert.equal(reports, reportsAtCancel);
  });

  void test('errors raised inside a worker reach the caller; the pool keeps working', async () => {
    const pool = new MiPool(path.join(__dirname, 'miWorker.js'));
    try {
      const data = Float64Array.from({ length: 3 * 20 }, (_, i) => Math.sin(i * 1.7));
      const base = { samples: 20, k: 3, data, threads: 2, chunk: 1 };
      await assert.rejects(
        pool.run({ ...base, a: Int32Array.from([0, 1]), b: Int32Array.from([1, 5]) }),
        /pair \(1, 5\) is outside the 3 loaded columns/,
      );
      await assert.rejects(
        pool.run({ ...base, k: 25, a: Int32Array.from([0]), b: Int32Array.from([1]) }),
        (err: Error) => err.name === 'RangeError' && /at least k \+ 1 samples/.test(err.message),
      );
      const ok = await pool.run({
        ...base,
        a: Int32Array.from([0, 1]),
        b: Int32Array.from([2, 2]),
      });
      assert.ok(Math.abs(ok[1] - ksgMi(data.subarray(20, 40), data.subarray(40, 60))) < 1e-12);
    } finally {
      await pool.dispose();
    }
  });

  void test('a throwing progress callback rejects the job, not the process', async () => {
    const acts = makeActs(200, 10, 18);
    await assert.rejects(
      computeMiMatrix(acts, {
        onProgress: () => {
          throw new Error('display gone');
        },
      }),
      /display gone/,
    );
    const m = await computeMiMatrix(acts, { columns: [0, 1] });
    assert.ok(Math.abs(m.values[1] - ksgMi(col(acts, 0), col(acts, 1))) < 1e-12);
  });

  void test('bad input: NaN/Inf names the neuron and count; too few samples', async () => {
    const acts = makeActs(50, 4, 17);
    acts.data[2 * 50 + 3] = NaN;
    acts.data[2 * 50 + 9] = Infinity;
    await assert.rejects(
      computeMiMatrix(acts),
      (e) => e instanceof UserError && /2 NaN\/Inf values in neuron 2/.test(e.message),
    );
    await assert.rejects(
      computeMiMatrix(makeActs(3, 2, 1)),
      (e) => e instanceof UserError && /at least k \+ 1 = 4 samples, found 3/.test(e.message),
    );
  });

  void test('the idle pool does not keep the process alive', () => {
    const run = spawnSync(process.execPath, [__filename], {
      env: { ...process.env, MI_CHILD: '1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'pairs 6');
  });
}
