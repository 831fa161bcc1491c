// Neurons without a continuous part (constant, binary, coarsely discrete) are not measurable
// for KSG-1 MI: left out of the MI estimate and its medians, with a warning, and never the
// cause of a memorization flag.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ActivationMatrix } from '../../src/core/activations';
import { fromRowMajor } from '../../src/core/activations';
import { analyze } from '../../src/core/analysis/analyze';
import { loneModelFlags } from '../../src/core/analysis/flags';
import { encodeNpy } from '../../src/core/io/npy';
import { digammaInt } from '../../src/core/measures/digamma';
import { ksgMi } from '../../src/core/measures/ksg';
import { measure } from '../../src/core/measures/measure';
import { capNeurons } from '../../src/core/measures/neuronCap';
import { miMeasurable } from '../../src/core/measures/ties';
import { disposeMiPool } from '../../src/core/mi/miMatrix';
import { Rng } from '../../src/core/random';

const dir = mkdtempSync(path.join(tmpdir(), 'memlens-unmeasurable-'));
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await disposeMiPool();
});

/** S x columns.length matrix from column generators, one layer per `layers` entry (sizes). */
function matrix(
  S: number,
  columns: ((s: number) => number)[],
  layers?: number[],
): ActivationMatrix {
  const N = columns.length;
  const rows = new Float64Array(S * N);
  for (let s = 0; s < S; s++) for (let n = 0; n < N; n++) rows[s * N + n] = columns[n](s);
  let start = 0;
  const slices = layers?.map((size, i) => {
    const l = { name: `l${i}`, start, end: start + size };
    start += size;
    return l;
  });
  return fromRowMajor(rows, S, N, slices);
}

void test('miMeasurable: fewer than k + 1 distinct values, or every value repeated k + 1 times', () => {
  assert.equal(miMeasurable([], 3), false);
  assert.equal(miMeasurable([2, 2, 2, 2, 2], 3), false); // constant
  assert.equal(miMeasurable([0, 1, 0, 1, 1, 0, 0, 1, 1, 1], 3), false); // binary
  assert.equal(miMeasurable([0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 3), false); // binary, one rare value
  assert.equal(miMeasurable([0, 1, 2, 0, 1, 2], 3), false); // 3 distinct values < k + 1 = 4
  assert.equal(miMeasurable([0, 1, 2, 0, 1, 2], 2), true); // k = 2: 3 distinct is enough
  assert.equal(miMeasurable([1, 2, 3, 4], 3), true); // 4 distinct, each once
  // Four values, each exactly k + 1 = 4 times: every sample's 3rd neighbour is at distance 0.
  const q4 = [1, 2, 3, 4].flatMap((v) => [v, v, v, v]);
  assert.equal(miMeasurable(q4, 3), false);
  // One of them only 3 times: some samples have a positive k-NN distance.
  assert.equal(miMeasurable(q4.slice(1), 3), true);
  // Post-ReLU: half zeros next to continuous values stays measurable.
  const rng = new Rng(1);
  assert.equal(
    miMeasurable(
      Array.from({ length: 200 }, () => Math.max(0, rng.normal())),
      3,
    ),
    true,
  );
});

void test('constant and independent binary neurons: no MI pairs, no flag (were 7.37 nats, mi-high)', async () => {
  const S = 200;
  const rng = new Rng(2);
  const bits = Array.from({ length: 4 }, () =>
    Array.from({ length: S }, () => (rng.next() < 0.5 ? 0 : 1)),
  );
  // What KSG-1 gives on them. Every point has eps = 0 (each of the four (x, y) cells holds
  // dozens of points), where the authors' code counts the exact ties: n_x + 1 = c_x, the count
  // of the point's x value, so I = psi(S) + psi(k) - mean psi(c_x) - mean psi(c_y), about -3
  // nats at S = 200; psi(k) - psi(S) = -4.37 for two constants. (Counting no ties at eps = 0,
  // MemLens gave psi(S) + psi(k) - 2 psi(1) = 7.373 nats for both.)
  const meanPsiCount = (v: number[]): number => {
    const ones = v.filter((b) => b === 1).length;
    return (ones * digammaInt(ones) + (S - ones) * digammaInt(S - ones)) / S;
  };
  const binaryMi = ksgMi(Float64Array.from(bits[0]), Float64Array.from(bits[1]));
  const binaryWant = digammaInt(S) + digammaInt(3) - meanPsiCount(bits[0]) - meanPsiCount(bits[1]);
  assert.ok(Math.abs(binaryMi - binaryWant) < 1e-9, `${binaryMi} vs ${binaryWant}`);
  assert.ok(binaryMi < -2.5 && binaryMi > -3.5, `${binaryMi}`);
  const constantMi = ksgMi(new Float64Array(S).fill(1), new Float64Array(S).fill(2));
  assert.ok(Math.abs(constantMi - (digammaInt(3) - digammaInt(S))) < 1e-9, `${constantMi}`);
  const constant = matrix(
    S,
    [0, 1, 2, 3].map((c) => () => c),
  );
  const binary = matrix(
    S,
    [0, 1, 2, 3].map((c) => (s: number) => bits[c][s]),
  );
  for (const acts of [constant, binary]) {
    const m = await measure(acts, { threads: 1 });
    assert.deepEqual(m.miMeasurable, [false, false, false, false]);
    assert.deepEqual(m.mi.columns, []);
    assert.equal(m.summary.mi.pairs, 0);
    assert.ok(Number.isNaN(m.summary.mi.median));
    assert.equal(m.layers[0].miNeurons, 0);
    assert.equal(m.layers[0].miUnmeasurable, 4);
    const warning = m.warnings.find((w) => w.code === 'mi-unmeasurable');
    assert.ok(warning !== undefined);
    assert.match(
      warning.message,
      /^all: 4 of 4 neurons left out of MI \(not measurable\): no continuous part \(fewer than k \+ 1 = 4 distinct values/,
    );
    const codes = loneModelFlags(m.summary, 100).map((f) => f.code);
    assert.ok(!codes.includes('mi-high') && !codes.includes('mi-low'), codes.join(', '));
    // Not a cap: no mi-subsampled warning.
    assert.ok(!m.warnings.some((w) => w.code === 'mi-subsampled'));
  }
});

void test('a mix: the MI medians are those of the continuous neurons alone', async () => {
  const S = 300;
  const rng = new Rng(3);
  const z = Array.from({ length: 6 }, () => Array.from({ length: S }, () => rng.normal()));
  const bit = Array.from({ length: S }, () => (rng.next() < 0.3 ? 1 : 0));
  const normal = [
    (s: number) => z[0][s],
    (s: number) => 0.9 * z[0][s] + 0.44 * z[1][s], // correlated with the first
    (s: number) => z[2][s],
    (s: number) => z[3][s],
    (s: number) => Math.max(0, z[4][s]), // post-ReLU: measurable
    (s: number) => z[5][s],
  ];
  // Layer 0: normal 0-2 + a constant; layer 1: a binary, normal 3-5, a 3-valued neuron.
  const mixed = matrix(
    S,
    [
      normal[0],
      normal[1],
      () => 0.5,
      normal[2],
      (s) => bit[s],
      normal[3],
      normal[4],
      (s) => s % 3,
      normal[5],
    ],
    [4, 5],
  );
  const alone = matrix(S, normal, [3, 3]);
  const m = await measure(mixed, { threads: 1 });
  const a = await measure(alone, { threads: 1 });
  assert.deepEqual(m.mi.columns, [0, 1, 3, 5, 6, 8]);
  assert.deepEqual(m.summary.mi, a.summary.mi);
  assert.deepEqual(
    m.layers.map((l) => l.mi),
    a.layers.map((l) => l.mi),
  );
  assert.deepEqual(
    m.layers.map((l) => [l.neurons, l.miNeurons, l.miUnmeasurable]),
    [
      [4, 3, 1],
      [5, 3, 2],
    ],
  );
  assert.deepEqual(
    m.warnings.filter((w) => w.code === 'mi-unmeasurable').map((w) => w.layer),
    ['l0', 'l1'],
  );
  // Entropy still covers every neuron.
  assert.equal(m.entropy.length, 9);
  assert.equal(m.entropy[2], 0);

  // The cap draws among the measurable neurons only.
  const capped = await measure(mixed, { threads: 1, miNeuronCap: 2, seed: 5 });
  const measurable = (c: number) => ![2, 4, 7].includes(c);
  assert.deepEqual(capped.mi.columns, capNeurons(mixed.layers, 2, 5, measurable));
  assert.equal(capped.mi.columns.length, 4);
  assert.ok(capped.mi.columns.every(measurable));
  assert.ok(capped.warnings.some((w) => w.code === 'mi-subsampled'));
});

void test('mixed estimator: discrete neurons are measured, only constant ones left out', async () => {
  const S = 400;
  const rng = new Rng(6);
  const bit = Array.from({ length: S }, () => (rng.next() < 0.5 ? 0 : 1));
  const acts = matrix(S, [
    (s) => bit[s],
    (s) => (rng.next() < 0.1 ? 1 - bit[s] : bit[s]), // the bit, 10% flipped
    () => 0.5,
    (s) => s % 4, // quantised to 4 values
    () => Math.max(0, rng.normal()),
  ]);
  assert.equal(miMeasurable(bit, 3, 'mixed'), true);
  assert.equal(miMeasurable([2, 2, 2, 2, 2], 3, 'mixed'), false);
  const m = await measure(acts, { threads: 1, estimator: 'mixed' });
  assert.equal(m.params.estimator, 'mixed');
  assert.equal(m.mi.estimator, 'mixed');
  assert.deepEqual(m.miMeasurable, [true, true, false, true, true]);
  assert.deepEqual(m.mi.columns, [0, 1, 3, 4]);
  // The bit and its noisy copy: ln 2 - H_b(0.1) = 0.368 nats in truth.
  const col = (n: number): Float64Array => acts.data.subarray(n * S, (n + 1) * S);
  assert.ok(Object.is(m.mi.values[0 * 4 + 1], ksgMi(col(0), col(1), 3, 'mixed')));
  assert.ok(Math.abs(m.mi.values[1] - 0.368) < 0.08, `${m.mi.values[1]}`);
  const warning = m.warnings.find((w) => w.code === 'mi-unmeasurable');
  assert.equal(
    warning?.message,
    'all: 1 of 5 neurons left out of MI: constant over the probe set (their MI with any neuron is 0)',
  );
  // The default leaves the binary and quantised neurons out, as before.
  const d = await measure(acts, { threads: 1 });
  assert.equal(d.params.estimator, 'ksg');
  assert.deepEqual(d.mi.columns, [4]);
});

void test('analyze on a dump of binary neurons: no memorization flag, the reason in the warnings', async () => {
  const S = 200;
  const rng = new Rng(4);
  const file = path.join(dir, 'binary.npy');
  writeFileSync(
    file,
    encodeNpy(
      Float32Array.from({ length: S * 6 }, () => (rng.next() < 0.5 ? 0 : 1)),
      [S, 6],
    ),
  );
  const r = await analyze(file, { threads: 1 });
  assert.equal(r.summary.mi.pairs, 0);
  assert.equal(r.summary.mi.median, NaN);
  assert.deepEqual(
    r.flags.map((f) => f.code).filter((c) => c.startsWith('mi-')),
    [],
  );
  assert.ok(r.warnings.some((w) => w.code === 'mi-unmeasurable' && w.message.includes('6 of 6')));
  assert.equal(r.layers[0].miUnmeasurable, 6);
  // Round trip through JSON: the NaN median is null, the count a number.
  const json = JSON.parse(JSON.stringify(r)) as { summary: { mi: { median: unknown } } };
  assert.equal(json.summary.mi.median, null);
});
