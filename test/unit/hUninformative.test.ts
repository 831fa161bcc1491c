// "H uninformative": under global bins, neurons whose offsets spread far wider than each one
// moves (GAP values of conv nets) all get H = 0; the layer is flagged instead of entropy-low.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ActivationMatrix } from '../../src/core/activations';
import { fromRowMajor } from '../../src/core/activations';
import { analyze } from '../../src/core/analysis/analyze';
import { compare } from '../../src/core/analysis/compare';
import { loneModelFlags } from '../../src/core/analysis/flags';
import { encodeNpy } from '../../src/core/io/npy';
import { hUninformativeLayers } from '../../src/core/measures/binSpread';
import { measure } from '../../src/core/measures/measure';
import { disposeMiPool } from '../../src/core/mi/miMatrix';
import { Rng } from '../../src/core/random';
import { tempDir } from '../fixtures/capture/helpers';

const S = 400;

/**
 * Row-major S x n values: neuron j sits at an offset spread evenly over [-19, 9] and moves by
 * `wiggle` (uniform) around it; `wiggle` 30 makes an ordinary layer that fills the range.
 */
function offsetNeurons(n: number, wiggle: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(S * n);
  for (let s = 0; s < S; s++) {
    for (let j = 0; j < n; j++) {
      const offset = wiggle >= 28 ? -19 : -19 + (28 * j) / (n - 1);
      out[s * n + j] = offset + wiggle * rng.next();
    }
  }
  return out;
}

/** Two layers side by side: `gap_flat` (12 neurons, offsets -19..9, moving by 0.005), `dense` (4). */
function flatAndNormal(): ActivationMatrix {
  const flat = offsetNeurons(12, 0.005, 1);
  const normal = offsetNeurons(4, 28, 2);
  const rows = new Float64Array(S * 16);
  for (let s = 0; s < S; s++) {
    rows.set(flat.subarray(s * 12, s * 12 + 12), s * 16);
    rows.set(normal.subarray(s * 4, s * 4 + 4), s * 16 + 12);
  }
  return fromRowMajor(rows, S, 16, [
    { name: 'gap_flat', start: 0, end: 12 },
    { name: 'dense', start: 12, end: 16 },
  ]);
}

void test('hUninformativeLayers: spread 0.005 against a bin width of 0.28 flags only that layer', () => {
  const acts = flatAndNormal();
  let min = Infinity;
  let max = -Infinity;
  for (const x of acts.data) [min, max] = [Math.min(min, x), Math.max(max, x)];
  const found = hUninformativeLayers(acts, 100, { min, max });
  assert.deepEqual(
    found.map((f) => f.layer),
    ['gap_flat'],
  );
  // The data span -19 .. 9.005 at most: a bin is about 0.28 wide; each neuron moves by < 0.005.
  assert.ok(Math.abs(found[0].binWidth - (max - min) / 100) < 1e-12);
  assert.ok(found[0].binWidth > 0.27 && found[0].binWidth < 0.29, `${found[0].binWidth}`);
  assert.ok(found[0].medianSpread > 0.0045 && found[0].medianSpread < 0.005);
  // An empty range, or constant neurons only: nothing to say.
  assert.deepEqual(hUninformativeLayers(acts, 100, { min: 1, max: 1 }), []);
  const constant = fromRowMajor(new Float64Array(S * 2).fill(3), S, 2, [
    { name: 'dead', start: 0, end: 2 },
  ]);
  assert.deepEqual(hUninformativeLayers(constant, 100, { min: 0, max: 10 }), []);
});

void test('analyze of a dump with offsets -19..9 and tiny moves: H = 0, h-uninformative, no entropy-low', async () => {
  const { dir, cleanup } = tempDir('memlens-hflat-');
  try {
    const file = path.join(dir, 'gap.npy');
    writeFileSync(file, encodeNpy(offsetNeurons(28, 0.005, 3), [S, 28]));
    const r = await analyze(file, { threads: 1, miNeuronCap: 4 });
    // Each neuron lies in one or two global bins: H at most ln 2, the median 0 or near it.
    for (const h of r.layers[0].entropies) assert.ok(h <= Math.log(2) + 1e-12, `H = ${h}`);
    assert.ok(r.summary.entropy.median < 0.2 * Math.log(100));
    const flag = r.flags.find((f) => f.code === 'h-uninformative');
    assert.ok(flag !== undefined, JSON.stringify(r.flags));
    assert.match(flag.message, /per-neuron spread is below one global bin/);
    assert.match(flag.message, /spread 0\.00\d+ against a global bin width of 0\.28/);
    assert.equal(
      r.flags.some((f) => f.code === 'entropy-low'),
      false,
    );
    const warning = r.warnings.find((w) => w.code === 'h-uninformative');
    assert.equal(warning?.layer, 'all');
    // Per-neuron binning is not global: no flag.
    const perNeuron = await analyze(file, { threads: 1, miNeuronCap: 4, binning: 'neuron' });
    assert.equal(
      perNeuron.flags.some((f) => f.code === 'h-uninformative'),
      false,
    );
  } finally {
    cleanup();
    await disposeMiPool();
  }
});

void test('analyze of an ordinary dump raises no h-uninformative flag or warning', async () => {
  const { dir, cleanup } = tempDir('memlens-hflat-');
  try {
    const file = path.join(dir, 'ordinary.npy');
    writeFileSync(file, encodeNpy(offsetNeurons(6, 28, 4), [S, 6]));
    const r = await analyze(file, { threads: 1 });
    assert.equal(
      r.flags.some((f) => f.code === 'h-uninformative'),
      false,
    );
    assert.equal(
      r.warnings.some((w) => w.code === 'h-uninformative'),
      false,
    );
  } finally {
    cleanup();
    await disposeMiPool();
  }
});

void test('loneModelFlags: entropy-low reads only the layers whose H is informative', async () => {
  const acts = flatAndNormal();
  const m = await measure(acts, { threads: 1 });
  assert.deepEqual(
    m.hUninformative.map((u) => u.layer),
    ['gap_flat'],
  );
  const flags = loneModelFlags(m.summary, 100, m.hUninformative, m.layers);
  const flag = flags.find((f) => f.code === 'h-uninformative');
  assert.match(flag?.message ?? '', /in 1 layer \(gap_flat\)/);
  // The dense layer's neurons fill the range (H near ln 100), so no entropy-low; the whole
  // model's median H (12 of 16 neurons at H <= ln 2) would raise it.
  for (const h of m.layers[1].entropies) assert.ok(h > 3.5, `H = ${h}`);
  assert.ok(
    loneModelFlags(m.summary, 100).some((f) => f.code === 'entropy-low'),
    'the plain whole-model reading raises entropy-low',
  );
  await disposeMiPool();
});

void test('the summary holds H over the layers where it is informative, recomputed by hand', async () => {
  const acts = flatAndNormal();
  const m = await measure(acts, { threads: 1 });
  const read = m.summary.entropyInformative;
  assert.ok(read !== undefined);
  assert.deepEqual(read.left, ['gap_flat']);
  assert.equal(read.entropy.n, 4);
  assert.equal(m.summary.entropy.n, 16);
  // The dense neurons' H under 100 bins over the global range, counted here: bin
  // floor((x - min) / width), the maximum in the last bin.
  let min = Infinity;
  let max = -Infinity;
  for (const x of acts.data) [min, max] = [Math.min(min, x), Math.max(max, x)];
  const width = (max - min) / 100;
  const hs = [12, 13, 14, 15].map((n) => {
    const counts = new Array<number>(100).fill(0);
    for (let s = 0; s < S; s++)
      counts[Math.min(99, Math.floor((acts.data[n * S + s] - min) / width))]++;
    return -counts.filter((c) => c > 0).reduce((h, c) => h + (c / S) * Math.log(c / S), 0);
  });
  hs.sort((x, y) => x - y);
  assert.ok(Math.abs(read.entropy.median - (hs[1] + hs[2]) / 2) < 1e-9, `${read.entropy.median}`);
  // The whole model's median sits among the flat layer's neurons, far below.
  assert.ok(m.summary.entropy.median < 1 && read.entropy.median > 3.5);
  // No layer uninformative, or every one: nothing to add.
  const dense = fromRowMajor(offsetNeurons(4, 28, 2), S, 4, [{ name: 'dense', start: 0, end: 4 }]);
  assert.equal((await measure(dense, { threads: 1 })).summary.entropyInformative, undefined);
  const flat = fromRowMajor(offsetNeurons(12, 0.005, 1), S, 12, [
    { name: 'gap_flat', start: 0, end: 12 },
  ]);
  assert.equal((await measure(flat, { threads: 1 })).summary.entropyInformative, undefined);
  await disposeMiPool();
});

void test('the heavy-ties warning advises by the capture point', async () => {
  // Post-ReLU neurons: about half of each neuron's values are 0.
  const rng = new Rng(9);
  const rows = Float64Array.from({ length: S * 3 }, () => Math.max(0, rng.normal()));
  const acts = fromRowMajor(rows, S, 3, [{ name: 'relu', start: 0, end: 3 }]);
  const advice = async (point?: 'preactivation' | 'output') => {
    const m = await measure(acts, { threads: 1, ...(point === undefined ? {} : { point }) });
    return m.warnings.find((w) => w.code === 'heavy-ties')?.message ?? '';
  };
  const pre = await advice('preactivation');
  assert.match(pre, /the capture is pre-activation already: prefer the tie-aware estimator/);
  assert.doesNotMatch(pre, /prefer pre-activation values/);
  const out = await advice('output');
  assert.match(out, /prefer pre-activation values \(capture point preactivation\)/);
  const unknown = await advice();
  assert.match(unknown, /prefer pre-activation values if these are layer outputs/);
  await disposeMiPool();
});

void test('a signature reads H without the layers where it is uninformative', async () => {
  // Model and reference differ only in an uninformative layer (each neuron moves by less than
  // one global bin, 0.28 wide: 0.005 in the model, 0.27 in the reference, where most neurons
  // then straddle a bin edge); their dense layers are alike. Over all neurons the model's
  // median H is lower; read on the dense layer alone, it is not.
  const { dir, cleanup } = tempDir('memlens-hflat-');
  try {
    const write = (name: string, wiggle: number, seed: number): string => {
      const rng = new Rng(seed);
      const normal = offsetNeurons(4, 28, seed + 100);
      const rows = new Float64Array(S * 16);
      for (let s = 0; s < S; s++) {
        for (let j = 0; j < 12; j++) rows[s * 16 + j] = -18.9 + 2.5 * j + wiggle * rng.next();
        rows.set(normal.subarray(s * 4, s * 4 + 4), s * 16 + 12);
      }
      const file = path.join(dir, `${name}.npy`);
      writeFileSync(file, encodeNpy(rows, [S, 16]));
      const layers = [
        { name: 'gap_flat', start: 0, end: 12 },
        { name: 'dense', start: 12, end: 16 },
      ];
      writeFileSync(file.replace(/\.npy$/, '.layers.json'), JSON.stringify({ layers }));
      return file;
    };
    const model = write('model', 0.005, 5);
    const reference = write('reference', 0.27, 6);
    const report = await compare([reference, model], { threads: 1, reference });
    const m = report.models.find((x) => x.path === model);
    assert.ok(m && m.error === undefined && m.notComparable === undefined);
    const whole = m.summary.entropy.median - report.models[0].summary.entropy.median;
    assert.ok(whole < -0.1, `over all neurons the model's H is lower: ${whole}`);
    assert.match(m.signature.explanation, /H read without gap_flat \(H uninformative there/);
    assert.ok(
      Math.abs(m.signature.deltaEntropy) < Math.abs(whole),
      `H is read on the dense layer: delta ${m.signature.deltaEntropy} against ${whole}`,
    );
    assert.notEqual(m.signature.entropyDirection, 'lower');
  } finally {
    cleanup();
  }
});

void test('the h-uninformative flag names up to 5 layers in its line, then counts the rest', async () => {
  const m = await measure(flatAndNormal(), { threads: 1 });
  const flat = Array.from({ length: 7 }, (_, i) => ({
    layer: `conv_${i}`,
    medianSpread: 0.001,
    binWidth: 0.28,
  }));
  const layers = [...flat.map((f) => ({ ...m.layers[0], name: f.layer })), m.layers[1]];
  const flag = loneModelFlags(m.summary, 100, flat, layers).find(
    (f) => f.code === 'h-uninformative',
  );
  assert.match(
    flag?.message ?? '',
    /^H uninformative in 7 layers \(conv_0, conv_1, conv_2, conv_3, conv_4 and 2 more, named in the warnings\): /,
  );
  await disposeMiPool();
});
