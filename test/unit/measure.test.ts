import { test } from 'node:test';
import { availableParallelism } from 'node:os';
import assert from 'node:assert/strict';
import type { ActivationMatrix } from '../../src/core/activations';
import { column, fromRowMajor } from '../../src/core/activations';
import { CancelledError } from '../../src/core/errors';
import { boxSummary, miSummary } from '../../src/core/measures/boxSummary';
import { entropies } from '../../src/core/measures/entropy';
import { miDensity } from '../../src/core/measures/gmm';
import { ksgMi } from '../../src/core/measures/ksg';
import { measure, offDiagonalMi } from '../../src/core/measures/measure';
import { capNeurons } from '../../src/core/measures/neuronCap';
import { tieFraction } from '../../src/core/measures/ties';
import { disposeMiPool } from '../../src/core/mi/miMatrix';
import type { MiMatrix } from '../../src/core/mi/miMatrix';
import type { Progress } from '../../src/core/progress';
import { Rng } from '../../src/core/random';
import { neuronsInFlight, pairCount } from '../fixtures/inFlight';

/**
 * Three layers over S examples: "corr" = 2 neurons, Gaussian with correlation 0.9;
 * "mixed" = 4 independent Gaussians, one constant neuron and one post-ReLU neuron;
 * "wide" = 12 independent Gaussians.
 */
function threeLayers(S: number, seed = 1): ActivationMatrix {
  const rng = new Rng(seed);
  const N = 2 + 6 + 12;
  const rows = new Float64Array(S * N);
  const rho = 0.9;
  for (let s = 0; s < S; s++) {
    const r = s * N;
    const a = rng.normal();
    rows[r] = a;
    rows[r + 1] = rho * a + Math.sqrt(1 - rho * rho) * rng.normal();
    for (let n = 2; n < 6; n++) rows[r + n] = rng.normal();
    rows[r + 6] = 0.5;
    rows[r + 7] = Math.max(0, rng.normal());
    for (let n = 8; n < N; n++) rows[r + n] = rng.normal();
  }
  return fromRowMajor(rows, S, N, [
    { name: 'corr', start: 0, end: 2 },
    { name: 'mixed', start: 2, end: 8 },
    { name: 'wide', start: 8, end: 20 },
  ]);
}

void test('offDiagonalMi: pairs i < j, NaN (not computed) skipped, subset by activation column', () => {
  // Columns 3, 5, 9 of some matrix; pair (5, 9) not computed.
  const m: MiMatrix = {
    columns: [3, 5, 9],
    values: Float64Array.from([NaN, 0.1, 0.2, 0.1, NaN, NaN, 0.2, NaN, NaN]),
    pairsComputed: 2,
    pairsTotal: 3,
    k: 3,
    estimator: 'ksg',
    kernel: 'wasm',
  };
  assert.deepEqual(Array.from(offDiagonalMi(m)), [0.1, 0.2]);
  assert.deepEqual(Array.from(offDiagonalMi(m, [3, 9, 4])), [0.2]);
  assert.deepEqual(Array.from(offDiagonalMi(m, [5, 9])), []);
});

void test('measure: entropy, per-layer and overall summaries agree with the building blocks', async () => {
  const acts = threeLayers(2000);
  const r = await measure(acts, { bins: 50 });
  assert.deepEqual(r.entropy, entropies(acts, { bins: 50 }));
  // The constant neuron (column 6) has no continuous part: left out of MI.
  assert.deepEqual(
    r.mi.columns,
    Array.from({ length: 20 }, (_, i) => i).filter((c) => c !== 6),
  );
  assert.deepEqual(
    r.miMeasurable.flatMap((m, c) => (m ? [] : [c])),
    [6],
  );
  assert.equal(r.mi.pairsComputed, 171);
  const [corr, mixed, wide] = r.layers;
  assert.deepEqual(
    r.layers.map((l) => [l.name, l.neurons, l.miNeurons, l.mi.pairs]),
    [
      ['corr', 2, 2, 1],
      ['mixed', 6, 5, 10],
      ['wide', 12, 12, 66],
    ],
  );
  assert.deepEqual(
    r.layers.map((l) => l.miUnmeasurable),
    [0, 1, 0],
  );
  assert.equal(r.summary.mi.pairs, 171);
  // The correlated pair: KSG-1 close to -0.5 ln(1 - 0.81) = 0.830 nats, and equal to a direct
  // ksgMi call on the two columns.
  assert.ok(Math.abs(corr.mi.median - 0.83) < 0.05, `MI ${corr.mi.median}`);
  assert.ok(Math.abs(corr.mi.median - ksgMi(column(acts, 0), column(acts, 1))) < 1e-9);
  // Independent neurons: MI about 0.
  assert.ok(Math.abs(wide.mi.median) < 0.02, `MI ${wide.mi.median}`);
  assert.deepEqual(wide.entropy, boxSummary(r.entropy.subarray(8, 20)));
  assert.deepEqual(wide.entropies, Array.from(r.entropy.subarray(8, 20)));
  assert.deepEqual(r.summary.entropy, boxSummary(r.entropy));
  assert.deepEqual(r.summary.mi, miSummary(offDiagonalMi(r.mi)));
  // Ties and dead neurons in "mixed": the constant neuron (all tied) and the post-ReLU one.
  assert.equal(mixed.deadNeurons, 1);
  const expectedTies = (1 + tieFraction(column(acts, 7))) / 6;
  assert.ok(Math.abs(mixed.tieFraction - expectedTies) < 1e-15);
  assert.ok(mixed.tieFraction > 0.1);
  assert.equal(r.tieFractions[6], 1);
  assert.equal(r.tieFractions[7], tieFraction(column(acts, 7)));
  assert.equal(r.tieFractions[0], 0);
  assert.equal(wide.deadNeurons, 0);
  assert.equal(r.layers[2].density.x.length, 200);
  assert.deepEqual(
    r.warnings.map((w) => [w.code, w.layer]),
    [
      ['heavy-ties', 'mixed'],
      ['mi-unmeasurable', 'mixed'],
      ['dead-neurons', 'mixed'],
    ],
  );
  assert.deepEqual(r.params, {
    bins: 50,
    binning: 'global',
    k: 3,
    estimator: 'ksg',
    threads: availableParallelism(),
    miNeuronCap: null,
    miPairs: null,
    seed: 0,
    samples: 2000,
    neurons: 20,
    layers: [
      { name: 'corr', neurons: 2 },
      { name: 'mixed', neurons: 6 },
      { name: 'wide', neurons: 12 },
    ],
  });
});

void test('measure: the neuron cap and sampled pairs are applied, seeded and reported', async () => {
  const acts = threeLayers(300);
  const capped = await measure(acts, { miNeuronCap: 5, seed: 7 });
  assert.deepEqual(
    capped.mi.columns,
    capNeurons(acts.layers, 5, 7, (c) => c !== 6),
  );
  assert.deepEqual(
    capped.layers.map((l) => [l.miNeurons, l.mi.pairs]),
    [
      [2, 1],
      [5, 10],
      [5, 10],
    ],
  );
  assert.equal(capped.entropy.length, 20); // entropy covers every neuron
  assert.equal(capped.layers[2].entropy.n, 12);
  const codes = capped.warnings.map((w) => w.code);
  assert.ok(codes.includes('mi-subsampled') && codes.includes('small-probe'));
  const again = await measure(acts, { miNeuronCap: 5, seed: 7 });
  assert.deepEqual(again.mi.values, capped.mi.values);

  // One layer: the overall MI summary and density are those of all computed pairs.
  const single = await measure(
    { ...acts, layers: [{ name: 'all', start: 0, end: 20 }] },
    { pairs: 60 },
  );
  const pairs = offDiagonalMi(single.mi);
  assert.equal(pairs.length, 60);
  assert.deepEqual(single.summary.mi, miSummary(pairs));
  assert.deepEqual(single.summary.density, miDensity(pairs));

  const sampled = await measure(acts, { pairs: 40, seed: 3 });
  assert.equal(sampled.mi.pairsComputed, 40);
  assert.equal(sampled.summary.mi.pairs, 40);
  assert.equal(
    sampled.layers.reduce((a, l) => a + l.mi.pairs, 0),
    offDiagonalMi(sampled.mi, [0, 1]).length +
      offDiagonalMi(sampled.mi, [2, 3, 4, 5, 6, 7]).length +
      offDiagonalMi(sampled.mi, [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]).length,
  );
  assert.ok(
    sampled.warnings.some(
      (w) => w.code === 'mi-subsampled' && w.message.includes('40 of 171 pairs'),
    ),
  );
});

void test('measure: progress stages, and cancellation stops the work where it is', async () => {
  const acts = threeLayers(1000);
  const stages = new Set<string>();
  await measure(acts, { onProgress: (p: Progress) => stages.add(p.stage) });
  assert.ok(stages.has('entropy') && stages.has('summary'));

  const before = new AbortController();
  before.abort();
  await assert.rejects(measure(acts, { signal: before.signal }), CancelledError);

  // Abort as soon as MI reports progress: the call must reject with CancelledError, with the MI
  // matrix unfinished and no stage after it begun. Sized so that most MI tasks are still
  // queued at that report, on any number of cores.
  const S = 2000;
  const neurons = neuronsInFlight(S);
  const rng = new Rng(5);
  const wide = fromRowMajor(
    Float64Array.from({ length: S * neurons }, () => rng.normal()),
    S,
    neurons,
  );
  const during = new AbortController();
  let miAtAbort: Progress | undefined;
  const after: string[] = [];
  await assert.rejects(
    measure(wide, {
      signal: during.signal,
      onProgress: (p) => {
        if (during.signal.aborted) after.push(p.stage);
        else if (p.stage !== 'entropy' && p.stage !== 'summary') {
          miAtAbort = p;
          during.abort();
        }
      },
    }),
    CancelledError,
  );
  assert.ok(miAtAbort !== undefined, 'MI never reported progress');
  assert.ok(miAtAbort.done < miAtAbort.total, `aborted at ${miAtAbort.done}/${miAtAbort.total}`);
  assert.equal(miAtAbort.total, pairCount(neurons));
  assert.ok(!after.includes('summary'), `stages after the abort: ${after.join(', ')}`);
  await disposeMiPool();
});

void test('value ranges and per-layer-binned entropies: a wide layer narrows the other under global bins', async () => {
  // Layer a: 0..9 (uniform over 10 values); layer b: 0..90 in steps of 10. Global range
  // [0, 90] with 10 bins of width 9: a's values fall in bins 0 and 1 only (0..8, 9), so
  // H(a) = entropy of (9/10, 1/10); per layer, a's own range [0, 9] gives 10 values in 10
  // bins: ln 10. b is ln 10 under both.
  const s = 10;
  const data = new Float64Array(2 * s);
  for (let i = 0; i < s; i++) {
    data[i] = i;
    data[s + i] = 10 * i;
  }
  const acts = {
    samples: s,
    neurons: 2,
    data,
    layers: [
      { name: 'a', start: 0, end: 1 },
      { name: 'b', start: 1, end: 2 },
    ],
  };
  const m = await measure(acts, { bins: 10, threads: 1 });
  assert.deepEqual(
    m.layers.map((l) => l.range),
    [
      { min: 0, max: 9 },
      { min: 0, max: 90 },
    ],
  );
  assert.deepEqual(m.summary.range, { min: 0, max: 90 });
  const h2 = -(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1));
  assert.ok(Math.abs(m.entropy[0] - h2) < 1e-12, `global H(a) ${m.entropy[0]}`);
  assert.ok(Math.abs((m.entropyLayerBinned?.[0] ?? NaN) - Math.log(10)) < 1e-12);
  assert.ok(Math.abs((m.entropyLayerBinned?.[1] ?? NaN) - Math.log(10)) < 1e-12);
  assert.ok(Math.abs((m.summary.entropyLayerBinned?.median ?? NaN) - Math.log(10)) < 1e-12);
  // Under per-layer binning there is no second binning to compare with.
  const layer = await measure(acts, { bins: 10, binning: 'layer', threads: 1 });
  assert.equal(layer.entropyLayerBinned, null);
  assert.equal(layer.summary.entropyLayerBinned, undefined);
});
