// The MI plan on hand-worked cases: pairs, the time at a given rate, the cap chosen against
// the budget, sampled pairs past 64 neurons per layer, and the texts the CLI and reports show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MiPlanInput } from '../../src/core/analysis/miPlan';
import {
  medianInterval,
  planIsNotable,
  planLine,
  planMi,
  planSummary,
  subsetNote,
} from '../../src/core/analysis/miPlan';
import { capNeurons } from '../../src/core/measures/neuronCap';
import { Rng } from '../../src/core/random';
import { countText, durationText, etaText, miProgressText } from '../../src/core/progressText';

/** 1,000 pairs/s per thread on 2 threads: 2,000 pairs a second, 120,000 in the 60 s budget. */
const base = (layers: [string, number][], budgetSeconds = 60): MiPlanInput => ({
  layers: layers.map(([name, neurons]) => ({ name, neurons })),
  rate: 1000,
  rateSource: 'environment',
  threads: 2,
  budgetSeconds,
});

void test('three layers of 64 fit the budget: every pair, 192 * 191 / 2 of them', () => {
  const plan = planMi(
    base([
      ['a', 64],
      ['b', 64],
      ['c', 64],
    ]),
  );
  assert.equal(plan.mode, 'all');
  assert.equal(plan.allPairs, 18_336);
  assert.equal(plan.plannedPairs, 18_336);
  // 18,336 pairs / 2,000 pairs/s.
  assert.equal(plan.allSeconds, 9.168);
  assert.equal(plan.cap, null);
  assert.equal(plan.sampledPairs, null);
  assert.deepEqual(
    plan.layers.map((l) => [l.miNeurons, l.allPairs, l.plannedPairs]),
    [
      [64, 2016, 2016],
      [64, 2016, 2016],
      [64, 2016, 2016],
    ],
  );
  assert.equal(planIsNotable(plan), false);
  assert.equal(planSummary(plan, 0), null);
  assert.equal(planLine(plan), 'MI: 18,336 pairs, ~9 s at 2 threads');
});

void test('over the budget: the largest cap of 64, 96, 128, 192, 256, 384, 512 ... whose pairs fit', () => {
  // 2,000 neurons: 1,999,000 pairs, 999.5 s. 512 per layer: 130,816 pairs, 65.4 s (over);
  // 384: 73,536 pairs, 36.8 s (fits).
  const plan = planMi(base([['wide', 2000]]));
  assert.equal(plan.mode, 'capped');
  assert.equal(plan.allPairs, 1_999_000);
  assert.equal(plan.allSeconds, 999.5);
  assert.equal(plan.cap, 384);
  assert.equal(plan.plannedPairs, 73_536);
  assert.equal(plan.plannedSeconds, 36.768);
  assert.equal(
    planLine(plan),
    'MI: 2.0 M pairs would take ~17 min at 2 threads; measuring 384 neurons per layer (384 neurons: 73,536 pairs, ~37 s) to stay within 60 s',
  );
  assert.equal(
    planSummary(plan, 7),
    'MI measured on a subset to stay within the 60 s time budget: all 2.0 M pairs would take ~17 min at 2 threads, so 384 neurons per layer (384 neurons: 73,536 pairs), seed 7',
  );
  assert.equal(planIsNotable(plan), true);
});

void test('a layer smaller than the cap is left whole; pairs across layers count too', () => {
  // 384 per layer: 384 + 50 = 434 neurons, 93,961 pairs, 47.0 s; 512: 562, 157,641, 78.8 s.
  const plan = planMi(
    base([
      ['wide', 2000],
      ['narrow', 50],
    ]),
  );
  assert.equal(plan.cap, 384);
  assert.equal(plan.plannedNeurons, 434);
  assert.equal(plan.plannedPairs, 93_961);
  assert.deepEqual(plan.layers[1], {
    name: 'narrow',
    neurons: 50,
    miNeurons: 50,
    allPairs: 1225,
    plannedPairs: 1225,
  });
  assert.equal(plan.layers[0].miNeurons, 384);
  assert.equal(plan.layers[0].plannedPairs, (384 * 383) / 2);
});

void test('budget 0: every pair, however long, said so', () => {
  const plan = planMi(base([['wide', 2000]], 0));
  assert.equal(plan.mode, 'all');
  assert.equal(plan.cap, null);
  assert.equal(plan.plannedPairs, 1_999_000);
  assert.equal(planLine(plan), 'MI: 2.0 M pairs, ~17 min at 2 threads (no time budget)');
  assert.equal(planIsNotable(plan), true);
});

void test('still too slow at 64 per layer: 64 per layer and as many sampled pairs as fit', () => {
  // 100 layers of 100: at 64 each, 6,400 neurons and 20,476,800 pairs (10,238 s). The budget
  // holds 60 s * 2,000 pairs/s = 120,000 pairs; a layer's 2,016 get 2,016 * 120,000 / 20,476,800.
  const layers = Array.from({ length: 100 }, (_, i): [string, number] => [`l${i}`, 100]);
  const plan = planMi(base(layers));
  assert.equal(plan.mode, 'sampled');
  assert.equal(plan.cap, 64);
  assert.equal(plan.sampledPairs, 120_000);
  assert.equal(plan.plannedPairs, 120_000);
  assert.equal(plan.plannedSeconds, 60);
  assert.equal(plan.layers[0].plannedPairs, 12);
  assert.equal(
    planLine(plan),
    'MI: 50.0 M pairs would take ~7 h at 2 threads; measuring 120,000 sampled pairs of 64 neurons per layer (medians with 95% bootstrap intervals, ~60 s) to stay within 60 s',
  );
  // Many layers of at most 64: no cap helps, only sampling.
  const narrow = planMi(
    base(Array.from({ length: 100 }, (_, i): [string, number] => [`n${i}`, 64])),
  );
  assert.equal(narrow.mode, 'sampled');
  assert.equal(narrow.cap, null);
  assert.equal(narrow.sampledPairs, 120_000);
});

void test('what the user asked for wins; a shared plan is taken even when every pair is', () => {
  const asked = planMi({ ...base([['wide', 2000]]), asked: { cap: 1000, pairs: null } });
  assert.equal(asked.mode, 'asked');
  assert.equal(asked.cap, 1000);
  assert.equal(asked.plannedPairs, 499_500);
  assert.equal(
    planLine(asked),
    'MI: measuring 1,000 neurons per layer (1,000 neurons: 499,500 pairs, ~4 min) at 2 threads, as asked; all 2.0 M pairs would take ~17 min',
  );
  const shared = planMi({
    ...base([['wide', 2000]]),
    shared: { cap: null, pairs: null, model: 'ref' },
  });
  assert.equal(shared.mode, 'shared');
  assert.equal(shared.plannedPairs, 1_999_000);
  assert.equal(shared.sharedWith, 'ref');
  const sharedCap = planMi({
    ...base([['wide', 2000]]),
    shared: { cap: 64, pairs: null, model: 'ref' },
  });
  assert.equal(
    planSummary(sharedCap, 0),
    'MI measured on a subset as for ref, so the models compare like with like: 64 neurons per layer (64 neurons: 2,016 pairs), seed 0; all 2.0 M pairs would take ~17 min at 2 threads',
  );
  // Asking for more pairs than there are: every pair, no sample.
  const more = planMi({ ...base([['a', 10]]), asked: { cap: null, pairs: 1000 } });
  assert.equal(more.sampledPairs, null);
  assert.equal(more.plannedPairs, 45);
});

void test('the cap the plan picks is the seeded cap: the same neurons on every run', () => {
  const plan = planMi(
    base([
      ['wide', 2000],
      ['narrow', 50],
    ]),
  );
  const layers = [
    { name: 'wide', start: 0, end: 2000 },
    { name: 'narrow', start: 2000, end: 2050 },
  ];
  const first = capNeurons(layers, plan.cap, 5);
  assert.deepEqual(capNeurons(layers, plan.cap, 5), first);
  assert.equal(first.length, plan.plannedNeurons);
  assert.notDeepEqual(capNeurons(layers, plan.cap, 6), first);
  // The narrow layer is whole.
  assert.deepEqual(
    first.filter((c) => c >= 2000),
    Array.from({ length: 50 }, (_, i) => 2000 + i),
  );
});

void test('the bootstrap interval of a sampled median holds the population median', () => {
  // The population: 0, 1/9999, ..., 1 (median exactly 0.5); 2,000 of them drawn at random.
  const population = Float64Array.from({ length: 10_000 }, (_, i) => i / 9999);
  const rng = new Rng(11);
  const drawn = Float64Array.from(rng.sample(10_000, 2000), (i) => population[i]);
  const { low, high } = medianInterval(drawn, 3);
  assert.ok(low < 0.5 && 0.5 < high, `[${low}, ${high}]`);
  // About +-1.96 * 0.5 / sqrt(2000) * (range 1) wide, not a degenerate or a vacuous interval.
  assert.ok(high - low > 0.02 && high - low < 0.08, `width ${high - low}`);
  assert.deepEqual(medianInterval(drawn, 3), { low, high });
  assert.deepEqual(medianInterval(new Float64Array(0), 3), { low: NaN, high: NaN });
  // Coverage: a skewed population (the square of uniforms, median 0.25 exactly: 0.5^2), 250 of
  // its 780 values drawn 200 times; a 95% interval holds the median in about 95% of draws.
  const skewed = Float64Array.from({ length: 781 }, (_, i) => (i / 780) ** 2);
  let held = 0;
  for (let r = 0; r < 200; r++) {
    const sample = Float64Array.from(new Rng(100 + r).sample(781, 250), (i) => skewed[i]);
    const iv = medianInterval(sample, r, 400);
    if (iv.low <= 0.25 && 0.25 <= iv.high) held++;
  }
  assert.ok(held >= 180 && held <= 200, `held ${held} of 200`);
});

void test('texts: counts, durations, the ETA and the signature note', () => {
  assert.equal(countText(2016), '2,016');
  assert.equal(countText(62_700_000), '62.7 M');
  assert.equal(countText(1.25e9), '1.3 G');
  assert.equal(durationText(0.4), '<1 s');
  assert.equal(durationText(40.4), '40 s');
  assert.equal(durationText(19 * 3600 + 100), '19 h');
  assert.equal(durationText(5 * 86400), '5 days');
  assert.equal(etaText(185), '~3 min left');
  assert.equal(
    miProgressText({
      stage: 'mi',
      done: 1_200_000,
      total: 3_000_000,
      eta: { pairsPerSecond: 2100, remainingSeconds: 857 },
    }),
    '1.2 M/3.0 M pairs, 2,100 pairs/s, ~14 min left',
  );
  assert.equal(miProgressText({ stage: 'mi', done: 0, total: 10 }), '0/10 pairs');
  assert.equal(subsetNote({ miNeuronCap: null, miPairs: null }), null);
  assert.equal(
    subsetNote({ miNeuronCap: 64, miPairs: 120_000 }),
    'MI of both models read on a seeded subset (64 neurons per layer, 120,000 sampled pairs), not on every pair',
  );
});
