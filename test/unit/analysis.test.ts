import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { analyze, modelContentHash } from '../../src/core/analysis/analyze';
import { compare } from '../../src/core/analysis/compare';
import { encodeNpy } from '../../src/core/io/npy';
import { Rng } from '../../src/core/random';
import { affine, relu, tempDir } from '../fixtures/capture/helpers';

const root = path.resolve(__dirname, '..', '..');
const ex = (name: string): string => path.join(root, 'examples', name);

/** S x 2 row-major values: two columns. */
function twoColumns(s: number, f: (rng: Rng) => [number, number], seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(2 * s);
  for (let i = 0; i < s; i++) [out[2 * i], out[2 * i + 1]] = f(rng);
  return out;
}

void test('a dump of a bivariate Gaussian (rho 0.9) gives I = -0.5 ln(1 - rho^2) = 0.830 nats', async () => {
  const { dir, cleanup } = tempDir('memlens-analysis-');
  try {
    const rho = 0.9;
    const s = 2000;
    const values = twoColumns(
      s,
      (rng) => {
        const x = rng.normal();
        return [x, rho * x + Math.sqrt(1 - rho * rho) * rng.normal()];
      },
      11,
    );
    const file = path.join(dir, 'acts.npy');
    writeFileSync(file, encodeNpy(values, [s, 2]));
    const r = await analyze(file, { threads: 1 });
    assert.equal(r.schema, 'memlens.report');
    assert.equal(r.probe, null);
    assert.equal(r.backend, null);
    assert.equal(r.model.format, 'activations.npy');
    assert.equal(r.model.sha256, createHash('sha256').update(readFileSync(file)).digest('hex'));
    assert.equal(r.params.samples, s);
    assert.equal(r.summary.mi.pairs, 1);
    // KSG-1 at S = 2,000 scatters by about 0.035 nats around the true value for rho = 0.9
    assert.ok(
      Math.abs(r.summary.mi.median - -0.5 * Math.log(1 - rho * rho)) < 0.08,
      `I = ${r.summary.mi.median}`,
    );
    assert.ok(r.flags.some((f) => f.code === 'no-reference'));
  } finally {
    cleanup();
  }
});

void test('independent uniforms: H near ln B, I near 0, and lone-model flags with their thresholds', async () => {
  const { dir, cleanup } = tempDir('memlens-analysis-');
  try {
    const s = 2000;
    const file = path.join(dir, 'uniform.npy');
    writeFileSync(
      file,
      encodeNpy(
        twoColumns(s, (rng) => [rng.next(), rng.next()], 5),
        [s, 2],
      ),
    );
    const r = await analyze(file, { threads: 1 });
    // plug-in entropy of B = 100 equiprobable bins: ln 100 minus the Miller bias (B-1)/(2S)
    for (const h of r.layers[0].entropies)
      assert.ok(Math.abs(h - (Math.log(100) - 99 / 4000)) < 0.03, `H = ${h}`);
    assert.ok(Math.abs(r.summary.mi.median) < 0.03, `I = ${r.summary.mi.median}`);
    const low = r.flags.find((f) => f.code === 'mi-low');
    assert.ok(
      low !== undefined && low.threshold === 'median I <= 0.03 nats',
      JSON.stringify(r.flags),
    );
    assert.equal(
      r.flags.some((f) => f.code === 'entropy-low'),
      false,
    );
  } finally {
    cleanup();
  }
});

void test('analyze of an example model matches a hand-written forward pass and binning', async () => {
  const r = await analyze(ex('generalising'), { probe: ex('probe.npy'), threads: 1 });
  assert.equal(r.model.path, path.join(ex('generalising'), 'model.json'));
  assert.equal(r.model.format, 'tfjs-layers');
  assert.deepEqual(
    r.layers.map((l) => [l.name, l.neurons]),
    [
      ['hidden1', 64],
      ['hidden2', 64],
      ['hidden3', 64],
    ],
  );
  assert.equal(r.probe?.samples, 600);
  // the weights, read directly from weights.bin in manifest order
  const manifest = JSON.parse(
    readFileSync(path.join(ex('generalising'), 'model.json'), 'utf8'),
  ) as {
    weightsManifest: { weights: { name: string; shape: number[] }[] }[];
  };
  const buf = readFileSync(path.join(ex('generalising'), 'weights.bin'));
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const w: Record<string, Float32Array> = {};
  let at = 0;
  for (const spec of manifest.weightsManifest[0].weights) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    w[spec.name] = all.subarray(at, at + n);
    at += n;
  }
  const probeBytes = readFileSync(ex('probe.npy'));
  const headerLen = probeBytes.readUInt16LE(8);
  const x = new Float32Array(
    probeBytes.buffer.slice(
      probeBytes.byteOffset + 10 + headerLen,
      probeBytes.byteOffset + probeBytes.length,
    ),
  );
  const s = 600;
  const pre1 = affine(x, w['hidden1/kernel'], w['hidden1/bias'], s, 128, 64);
  const pre2 = affine(relu(pre1), w['hidden2/kernel'], w['hidden2/bias'], s, 64, 64);
  const pre3 = affine(relu(pre2), w['hidden3/kernel'], w['hidden3/bias'], s, 64, 64);
  const pres = [pre1, pre2, pre3];
  let min = Infinity;
  let max = -Infinity;
  for (const p of pres) for (const v of p) [min, max] = [Math.min(min, v), Math.max(max, v)];
  const width = (max - min) / 100;
  const expected: number[] = [];
  for (const p of pres) {
    for (let n = 0; n < 64; n++) {
      const counts = new Map<number, number>();
      for (let i = 0; i < s; i++) {
        const b = Math.min(99, Math.floor((p[i * 64 + n] - min) / width));
        counts.set(b, (counts.get(b) ?? 0) + 1);
      }
      let h = 0;
      for (const c of counts.values()) h -= (c / s) * Math.log(c / s);
      expected.push(h);
    }
  }
  const got = r.layers.flatMap((l) => l.entropies);
  // float32 (TF.js) vs float64 (here) may move a rare value across a bin edge
  const off = got.filter((h, i) => Math.abs(h - expected[i]) > 1e-9);
  assert.ok(off.length <= 3, `${off.length} neurons differ`);
  got.forEach((h, i) =>
    assert.ok(Math.abs(h - expected[i]) < 0.02, `neuron ${i}: ${h} vs ${expected[i]}`),
  );
  assert.ok(r.timing.totalMs > 0 && r.timing.captureMs > 0);
});

void test('the content hash covers the weights, not only model.json', async () => {
  const { dir, cleanup } = tempDir('memlens-analysis-');
  try {
    const json = readFileSync(path.join(ex('shortcut'), 'model.json'));
    const weights = Buffer.from(readFileSync(path.join(ex('shortcut'), 'weights.bin')));
    writeFileSync(path.join(dir, 'model.json'), json);
    writeFileSync(path.join(dir, 'weights.bin'), weights);
    const a = await modelContentHash(path.join(dir, 'model.json'));
    assert.equal(a, createHash('sha256').update(json).update(weights).digest('hex'));
    weights[100] ^= 1;
    writeFileSync(path.join(dir, 'weights.bin'), weights);
    assert.notEqual(await modelContentHash(path.join(dir, 'model.json')), a);
  } finally {
    cleanup();
  }
});

void test('--samples draws a seeded subset of a dump, as it does of a probe', async () => {
  const { dir, cleanup } = tempDir('memlens-analysis-');
  try {
    const s = 50;
    // The rows Rng(3).sample(50, 20) picks get 1 in column 0, all others 0; column 1 is the
    // row index. Kept exactly, column 0 is constant (H = 0, a dead neuron).
    const kept = new Set(new Rng(3).sample(s, 20));
    const values = new Float64Array(2 * s);
    for (let i = 0; i < s; i++) [values[2 * i], values[2 * i + 1]] = [kept.has(i) ? 1 : 0, i];
    const file = path.join(dir, 'rows.npy');
    writeFileSync(file, encodeNpy(values, [s, 2]));
    const r = await analyze(file, { samples: 20, seed: 3, threads: 1 });
    assert.equal(r.params.samples, 20);
    assert.equal(r.layers[0].entropies[0], 0);
    assert.equal(r.layers[0].deadNeurons, 1);
    const other = await analyze(file, { samples: 20, seed: 4, threads: 1 });
    assert.ok(other.layers[0].entropies[0] > 0);
  } finally {
    cleanup();
  }
});

void test("a compare's reference: none by default, the cohort median when asked, or the baseline", async () => {
  const { dir, cleanup } = tempDir('memlens-analysis-');
  try {
    const s = 500;
    const a = path.join(dir, 'tied.npy');
    const b = path.join(dir, 'free.npy');
    const correlated = (rng: Rng): [number, number] => {
      const x = rng.normal();
      return [x, 0.9 * x + 0.3 * rng.normal()];
    };
    writeFileSync(a, encodeNpy(twoColumns(s, correlated, 3), [s, 2]));
    writeFileSync(
      b,
      encodeNpy(
        twoColumns(s, (rng) => [rng.normal(), 3 * rng.next()], 4),
        [s, 2],
      ),
    );
    // No baseline, no trajectory, no reference named: no signatures.
    const unread = await compare([a, b], { threads: 1 });
    assert.equal(unread.reference.mode, 'none');
    assert.ok(Number.isNaN(unread.reference.entropyMedian));
    for (const m of unread.models) {
      assert.equal(m.signature.kind, 'none');
      assert.match(m.signature.explanation, /no reference/);
    }
    const cohort = await compare([a, b], { threads: 1, reference: 'cohort' });
    const [ra, rb] = cohort.models;
    // One pair per model: the pooled median I is the mean of the two pair values.
    assert.equal(cohort.reference.mode, 'cohort');
    assert.match(ra.signature.explanation, /vs the cohort median \(1 other model pooled\)/);
    const near = (x: number | undefined, want: number): void =>
      assert.ok(Math.abs((x ?? NaN) - want) < 1e-12, `${x} vs ${want}`);
    near(cohort.reference?.miMedian, (ra.summary.mi.median + rb.summary.mi.median) / 2);
    // Four neuron entropies pooled: the mean of the middle two.
    const h = [...ra.layers, ...rb.layers].flatMap((l) => l.entropies).sort((x, y) => x - y);
    assert.equal(h.length, 4);
    near(cohort.reference?.entropyMedian, (h[1] + h[2]) / 2);
    const withBaseline = await compare([a, b], { threads: 1, baseline: b });
    assert.deepEqual(withBaseline.reference, {
      mode: 'baseline',
      path: b,
      initialisation: false,
      label: b,
      entropyMedian: withBaseline.models[1].summary.entropy.median,
      miMedian: withBaseline.models[1].summary.mi.median,
    });
  } finally {
    cleanup();
  }
});
