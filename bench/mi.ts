// MI speed and memory: single-thread throughput of every available kernel (native addon,
// WebAssembly, TypeScript) at S = 1000/2000/4000 (goal: >= 12,000 pairs/s per core at
// S = 2000, the kernel `auto` runs), the workers' kernel at S = 10000 (untied, post-ReLU),
// the tie-aware `mixed` estimator beside KSG-1 at S = 2000 on untied and post-ReLU data
// (goal: within 1.5x), all pairs of N = 768 at S = 2000 through the worker pool (goal: about
// 12 s on 2 cores), post-ReLU ties vs none (goal: <= 3x), peak RSS at N = 768, S = 10000
// (goal: <= 1 GB), and scikit-learn's per-pair time side by side when python3-sklearn is
// installed (goal: >= 70x per core).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import * as path from 'node:path';
import type { ActivationMatrix } from '../src/core/activations';
import { digammaTable } from '../src/core/measures/digamma';
import type { KsgEstimator } from '../src/core/measures/ksgKernel';
import { KsgScratch, ksgPair, prepareColumn } from '../src/core/measures/ksgKernel';
import { KsgNativeKernel } from '../src/core/measures/ksgNative';
import { KsgWasmKernel } from '../src/core/measures/ksgWasm';
import type { KsgKernelName } from '../src/core/mi/kernel';
import { availableKernel } from '../src/core/mi/kernel';
import { computeMiMatrix, disposeMiPool } from '../src/core/mi/miMatrix';
import { Rng } from '../src/core/random';

/**
 * S x N activations like a hidden layer's pre-activations: each neuron mixes a few shared
 * factors with its own noise, so pairs range from independent to strongly dependent.
 * `reluShare` of the neurons are passed through ReLU (exact zeros, about half their values).
 */
function syntheticLayer(
  samples: number,
  neurons: number,
  seed: number,
  reluShare = 0,
): ActivationMatrix {
  const rng = new Rng(seed);
  const factors = 4;
  const w = Array.from({ length: neurons * factors }, () => rng.normal() * 0.7);
  const data = new Float64Array(samples * neurons);
  const f = new Float64Array(factors);
  for (let s = 0; s < samples; s++) {
    for (let j = 0; j < factors; j++) f[j] = rng.normal();
    for (let n = 0; n < neurons; n++) {
      let v = rng.normal();
      for (let j = 0; j < factors; j++) v += w[n * factors + j] * f[j];
      data[n * samples + s] = n < reluShare * neurons ? Math.max(0, v) : v;
    }
  }
  return { samples, neurons, data, layers: [{ name: 'all', start: 0, end: neurons }] };
}

/** The kernel the MI workers run here (`auto`: native, else wasm, else ts). */
const workerKernel: KsgKernelName = availableKernel();

/** Single-thread pairs per second (CPU time) on prepared columns, with one kernel. */
function kernelPairsPerSecond(
  acts: ActivationMatrix,
  seconds: number,
  kernel: KsgKernelName = workerKernel,
  estimator: KsgEstimator = 'ksg',
): number {
  const S = acts.samples;
  const cols = Array.from({ length: acts.neurons }, (_, n) =>
    prepareColumn(acts.data.subarray(n * S, (n + 1) * S)),
  );
  const psi = digammaTable(S);
  let pair: (a: number, b: number) => number;
  if (kernel !== 'ts') {
    const compiled = kernel === 'wasm' ? KsgWasmKernel.load() : KsgNativeKernel.load();
    const handles = cols.map((c) => compiled.addColumn(c));
    const scratch = compiled.newScratch(S, 3, psi, estimator);
    pair = (a, b) => compiled.pair(handles[a], handles[b], scratch);
  } else {
    const scratch = new KsgScratch(S, 3, psi, estimator);
    pair = (a, b) => ksgPair(cols[a], cols[b], scratch);
  }
  const t0 = process.cpuUsage();
  let pairs = 0;
  let sink = 0;
  for (;;) {
    for (let a = 0; a < cols.length; a++) {
      for (let b = a + 1; b < cols.length; b++) {
        sink += pair(a, b);
        pairs++;
      }
    }
    const used = process.cpuUsage(t0);
    if ((used.user + used.system) / 1e6 >= seconds) {
      if (!Number.isFinite(sink)) throw new Error('non-finite MI');
      return pairs / ((used.user + used.system) / 1e6);
    }
  }
}

interface MatrixTiming {
  /** Wall-clock seconds. */
  wall: number;
  /** CPU seconds of the whole process (main thread and workers). */
  cpu: number;
  computed: number;
  kernel: KsgKernelName;
}

async function timeMatrix(acts: ActivationMatrix, pairs?: number): Promise<MatrixTiming> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const m = await computeMiMatrix(acts, { pairs });
  const c = process.cpuUsage(c0);
  return {
    wall: (performance.now() - t0) / 1000,
    cpu: (c.user + c.system) / 1e6,
    computed: m.pairsComputed,
    kernel: m.kernel,
  };
}

const load = (): string => loadavg()[0].toFixed(1);

/**
 * CPU nanoseconds per element of a plain summation loop over a Float64Array: a yardstick for
 * how fast this machine runs JavaScript right now (about 1 ns on an idle desktop core).
 */
function referenceLoopNs(): number {
  const a = Float64Array.from({ length: 4096 }, (_, i) => i % 7);
  const c0 = process.cpuUsage();
  let sum = 0;
  const reps = 5000;
  for (let r = 0; r < reps; r++) for (let i = 0; i < a.length; i++) sum += a[i];
  const c = process.cpuUsage(c0);
  if (sum < 0) throw new Error('unreachable');
  return ((c.user + c.system) * 1000) / (reps * a.length);
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

export async function benchMi(log: (line: string) => void = console.log): Promise<void> {
  const threads = availableParallelism();
  const kernels: KsgKernelName[] = [
    ...(KsgNativeKernel.available() ? (['native'] as const) : []),
    ...(KsgWasmKernel.available() ? (['wasm'] as const) : []),
    'ts',
  ];
  log(`MI (KSG-1, k = 3), ${threads} worker threads; load average ${load()} at start`);
  log(
    '  (wall times depend on what else runs; CPU seconds / threads is the idle-machine wall time)',
  );
  log(`  reference loop: ${referenceLoopNs().toFixed(2)} CPU ns per Float64Array element summed`);
  log(
    `  kernels built: ${kernels.join(', ')}; the MI workers run ${workerKernel} (MEMLENS_MI_KERNEL forces one)`,
  );

  /** Pairs per second per core of the workers' kernel, by S. */
  const perCore = new Map<number, number>();
  for (const S of [1000, 2000, 4000]) {
    const layer = syntheticLayer(S, 24, S);
    const rates = new Map<KsgKernelName, number>();
    for (const kernel of kernels) {
      rates.set(kernel, kernelPairsPerSecond(layer, kernel === 'ts' ? 2 : 4, kernel));
    }
    perCore.set(S, rates.get(workerKernel) ?? NaN);
    const ts = rates.get('ts') ?? NaN;
    log(
      `  kernel, 1 thread, S = ${S}: ` +
        kernels
          .map((kernel) => {
            const rate = rates.get(kernel) ?? NaN;
            const vsTs = kernel === 'ts' ? '' : `, ${(rate / ts).toFixed(2)}x ts`;
            return `${kernel} ${rate.toFixed(0)} pairs/s (${(1e6 / rate).toFixed(0)} us/pair${vsTs})`;
          })
          .join('; ') +
        `${S === 2000 ? '; goal >= 12000' : ''}; load average ${load()}`,
    );
  }

  // docs/scaling.md's per-core rate for a 7B model's S = 10,000, measured rather than
  // extrapolated: untied layers and post-ReLU ones (every neuron about half zeros).
  const at10k = [0, 1].map((reluShare) =>
    kernelPairsPerSecond(syntheticLayer(10000, 12, 10000, reluShare), 4),
  );
  log(
    `  kernel (${workerKernel}), 1 thread, S = 10000: untied ${at10k[0].toFixed(0)} pairs/s, ` +
      `post-ReLU ${at10k[1].toFixed(0)} pairs/s (docs/scaling.md's rate); load average ${load()}`,
  );

  // The tie-aware estimator beside KSG-1, S = 2000, 1 thread: untied pairs (no eps = 0, the
  // same work plus one pass) and post-ReLU pairs (a quarter of the points at (0, 0): the
  // extra pass over the equal points). Alternated twice, the best of each kept, against load.
  const estimatorRates: string[] = [];
  for (const [name, reluShare] of [
    ['untied', 0],
    ['post-ReLU', 1],
  ] as const) {
    const layer = syntheticLayer(2000, 24, 2000, reluShare);
    const best = { ksg: 0, mixed: 0 };
    for (let round = 0; round < 2; round++) {
      for (const estimator of ['ksg', 'mixed'] as const) {
        const rate = kernelPairsPerSecond(layer, 2, undefined, estimator);
        best[estimator] = Math.max(best[estimator], rate);
      }
    }
    estimatorRates.push(
      `${name}: mixed ${best.mixed.toFixed(0)}, ksg ${best.ksg.toFixed(0)} pairs/s ` +
        `(mixed ${(best.ksg / best.mixed).toFixed(2)}x the time)`,
    );
  }
  log(
    `  estimator mixed vs ksg (${workerKernel}), 1 thread, S = 2000: ` +
      `${estimatorRates.join('; ')}; goal <= 1.5x; load average ${load()}`,
  );

  // Heavy ties in one pair (S = 2000): must stay near the no-tie cost, not turn quadratic.
  const tieCases: [string, (v: number, s: number) => number][] = [
    ['no ties', (v) => v],
    ['x = 0 on 1000 points', (v, s) => (s < 1000 ? 0 : v)],
    ['x constant', () => 1.5],
  ];
  const tieRates: string[] = [];
  for (const [name, shape] of tieCases) {
    const pair = syntheticLayer(2000, 2, 7);
    for (let s = 0; s < 2000; s++) pair.data[s] = shape(pair.data[s], s);
    tieRates.push(`${name} ${(1e6 / kernelPairsPerSecond(pair, 1)).toFixed(0)} us`);
  }
  log(`  one pair (${workerKernel}), S = 2000: ${tieRates.join(', ')}`);

  const full = await timeMatrix(syntheticLayer(2000, 768, 1));
  log(
    `  all pairs N = 768, S = 2000 (${full.kernel}): ${full.computed} pairs in ${full.wall.toFixed(1)} s wall, ` +
      `${full.cpu.toFixed(1)} CPU s (${(full.cpu / threads).toFixed(1)} s on ${threads} idle cores; ` +
      `${(full.computed / full.wall).toFixed(0)} pairs/s wall; goal about 12 s); load average ${load()}`,
  );

  const plain = await timeMatrix(syntheticLayer(2000, 256, 2, 0));
  const relu = await timeMatrix(syntheticLayer(2000, 256, 2, 0.5));
  log(
    `  N = 256, S = 2000: no ties ${plain.wall.toFixed(1)} s wall / ${plain.cpu.toFixed(1)} CPU s, ` +
      `half the neurons post-ReLU ${relu.wall.toFixed(1)} s wall / ${relu.cpu.toFixed(1)} CPU s ` +
      `(CPU ratio ${(relu.cpu / plain.cpu).toFixed(2)}; goal <= 3)`,
  );

  // Memory: every column goes to every worker, so load N = 768, S = 10000 and sample pairs.
  const big = syntheticLayer(10000, 768, 3);
  const sampled = await timeMatrix(big, 400);
  log(
    `  N = 768, S = 10000, ${sampled.computed} sampled pairs: ${sampled.wall.toFixed(1)} s; ` +
      `peak RSS ${mb(process.resourceUsage().maxRSS * 1024)} (goal <= 1 GB)`,
  );
  await disposeMiPool();

  const script = path.resolve(__dirname, '..', 'bench', 'sklearnKsg.py');
  const py = '/usr/bin/python3';
  if (!existsSync(py) || !existsSync(script)) {
    log('  scikit-learn side by side: skipped (no /usr/bin/python3 or bench/sklearnKsg.py)');
    return;
  }
  const run = spawnSync(py, [script, '2000', '8'], { encoding: 'utf8' });
  if (run.status !== 0) {
    log(
      `  scikit-learn side by side: skipped (${run.stderr.trim().split('\n').pop() ?? 'python failed'})`,
    );
    return;
  }
  const { seconds_per_pair: skPerPair } = JSON.parse(run.stdout) as { seconds_per_pair: number };
  const ours = perCore.get(2000) ?? NaN;
  log(
    `  scikit-learn _compute_mi_cc, 1 core, S = 2000: ${(skPerPair * 1e3).toFixed(1)} ms/pair ` +
      `(${(1 / skPerPair).toFixed(1)} pairs/s); MemLens ${workerKernel} kernel ${(ours * skPerPair).toFixed(0)}x per core (goal >= 70x); ` +
      `all 294,528 pairs would take sklearn ${((294528 * skPerPair) / 60).toFixed(0)} min on one core`,
  );
}
