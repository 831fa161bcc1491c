import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fromRowMajor } from '../../src/core/activations';
import type { ActivationMatrix } from '../../src/core/activations';
import { binnedEntropy, entropies } from '../../src/core/measures/entropy';
import { activationsFromNpy } from '../../src/core/io/activationsNpy';
import { Rng } from '../../src/core/random';

const fixtures = path.join(__dirname, '../../test/fixtures/measure');

/** Neuron-major matrix from columns. */
function matrix(columns: number[][], layerSizes?: number[]): ActivationMatrix {
  const samples = columns[0].length;
  const rowMajor: number[] = [];
  for (let s = 0; s < samples; s++) for (const c of columns) rowMajor.push(c[s]);
  let start = 0;
  const layers = layerSizes?.map((size, i) => {
    const l = { name: `l${i}`, start, end: start + size };
    start += size;
    return l;
  });
  return fromRowMajor(rowMajor, samples, columns.length, layers);
}

void test('hand-worked: [0,1,2,3] in 2 bins is ln 2; the maximum goes into the last bin', () => {
  // width 1.5: 0,1 -> bin 0; 2 -> bin 1; 3 = max -> bin 1 (not an extra bin): counts [2, 2].
  assert.equal(binnedEntropy([0, 1, 2, 3], 0, 3, 2), Math.log(2));
  // [0,0,0,1] in 4 bins: counts [3,0,0,1], H = -(3/4 ln 3/4 + 1/4 ln 1/4).
  const h = binnedEntropy([0, 0, 0, 1], 0, 1, 4);
  assert.ok(Math.abs(h - -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25))) < 1e-15);
});

void test('hand-worked: global, per-layer and per-neuron ranges', () => {
  // Neuron 0 spans [0, 10]; neuron 1 = [0, 0.5, 1, 1]; neuron 2 = [4, 4, 6, 6]. B = 10.
  const acts = matrix(
    [
      [0, 10, 5, 5],
      [0, 0.5, 1, 1],
      [4, 4, 6, 6],
    ],
    [2, 1],
  );
  // Global range [0, 10], width 1. n0: bins 0, 9, 5, 5 -> counts 1,1,2 -> 1.5 ln 2.
  // n1: bins 0, 0, 1, 1 -> ln 2. n2: bins 4, 4, 6, 6 -> ln 2.
  const g = entropies(acts, { bins: 10 });
  assert.ok(Math.abs(g[0] - 1.5 * Math.log(2)) < 1e-15);
  assert.ok(Math.abs(g[1] - Math.log(2)) < 1e-15);
  assert.ok(Math.abs(g[2] - Math.log(2)) < 1e-15);
  // Per neuron: n1 over [0, 1], width 0.1: bins 0, 5, 9, 9 -> 1.5 ln 2; n2 over [4, 6]:
  // bins 0, 0, 9, 9 -> ln 2.
  const n = entropies(acts, { bins: 10, binning: 'neuron' });
  assert.ok(Math.abs(n[1] - 1.5 * Math.log(2)) < 1e-15);
  assert.ok(Math.abs(n[2] - Math.log(2)) < 1e-15);
  // Per layer: layer 0 (n0, n1) over [0, 10] as globally; layer 1 = n2 alone as per neuron.
  const l = entropies(acts, { bins: 10, binning: 'layer' });
  assert.deepEqual(Array.from(l), [g[0], g[1], n[2]]);
});

void test('a constant neuron has H = 0 under every binning, and so does an empty range', () => {
  const rng = new Rng(1);
  const varied = Array.from({ length: 500 }, () => rng.normal());
  const acts = matrix([varied, new Array<number>(500).fill(0.3)]);
  for (const binning of ['global', 'layer', 'neuron'] as const) {
    assert.equal(entropies(acts, { binning })[1], 0);
  }
  const flat = matrix([new Array<number>(10).fill(2), new Array<number>(10).fill(2)]);
  assert.deepEqual(Array.from(entropies(flat)), [0, 0]);
});

void test('a uniform variable gives about ln B (B = 100 and B = 20)', () => {
  const rng = new Rng(7);
  const u = Array.from({ length: 100_000 }, () => rng.next());
  const acts = matrix([u]);
  // Plug-in bias is about -(B - 1) / (2 S): 5e-4 nats for B = 100.
  const h100 = entropies(acts)[0];
  assert.ok(Math.abs(h100 - Math.log(100)) < 0.003, `H = ${h100}`);
  const h20 = entropies(acts, { bins: 20 })[0];
  assert.ok(Math.abs(h20 - Math.log(20)) < 0.001, `H = ${h20}`);
});

void test('a neuron confined to a tenth of the global range gets about ln 10', () => {
  const rng = new Rng(11);
  const S = 50_000;
  const wide = Array.from({ length: S }, () => rng.next());
  wide[0] = 0;
  wide[1] = 1; // global range exactly [0, 1]: 100 bins of width 0.01
  const narrow = Array.from({ length: S }, () => 0.1 * rng.next()); // spans bins 0..9
  const h = entropies(matrix([wide, narrow]));
  assert.ok(Math.abs(h[1] - Math.log(10)) < 0.002, `H = ${h[1]}`);
  assert.ok(h[0] > 4.6 && h[0] < Math.log(100));
  // Binned on its own range, the same neuron fills all 100 bins.
  assert.ok(entropies(matrix([wide, narrow]), { binning: 'neuron' })[1] > 4.6);
});

void test('agrees with numpy np.histogram on a fixture (global, layer, neuron)', () => {
  const expected = JSON.parse(readFileSync(path.join(fixtures, 'expected.json'), 'utf8')) as {
    bins: number;
    layerSizes: number[];
    entropyGlobal: number[];
    entropyLayer: number[];
    entropyNeuron: number[];
  };
  const bytes = readFileSync(path.join(fixtures, 'activations.npy'));
  const { acts } = activationsFromNpy(bytes, 'activations.npy', {
    layerSizes: expected.layerSizes,
  });
  const cases = [
    ['global', expected.entropyGlobal],
    ['layer', expected.entropyLayer],
    ['neuron', expected.entropyNeuron],
  ] as const;
  for (const [binning, want] of cases) {
    const got = entropies(acts, { bins: expected.bins, binning });
    want.forEach((w, n) =>
      assert.ok(Math.abs(got[n] - w) < 1e-12, `${binning} neuron ${n}: ${got[n]} vs ${w}`),
    );
  }
});

void test('refuses a non-integer bin count and non-finite values', () => {
  const acts = matrix([[0, 1, 2]]);
  assert.throws(() => entropies(acts, { bins: 0 }), RangeError);
  assert.throws(() => entropies(acts, { bins: 2.5 }), RangeError);
  assert.throws(() => entropies(matrix([[0, NaN, 2]])), RangeError);
});
