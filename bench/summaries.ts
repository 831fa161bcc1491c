// The non-MI parts of measure(): binned entropy, tie statistics and the summaries (box plots,
// MI quartiles, Gaussian-mixture densities by BIC) at the wide-model size.
import { fromRowMajor } from '../src/core/activations';
import { boxSummary, miSummary } from '../src/core/measures/boxSummary';
import { entropies } from '../src/core/measures/entropy';
import { miDensity } from '../src/core/measures/gmm';
import { neuronTieFractions } from '../src/core/measures/ties';
import { Rng } from '../src/core/random';

function time<T>(run: () => T): [T, number] {
  const t0 = performance.now();
  const out = run();
  return [out, performance.now() - t0];
}

export function benchSummaries(): Promise<void> {
  const S = 2000;
  const N = 768;
  const rng = new Rng(1);
  const acts = fromRowMajor(
    Float64Array.from({ length: S * N }, () => rng.normal()),
    S,
    N,
  );
  console.log(`summaries (N = ${N}, S = ${S})`);
  const [h, entropyMs] = time(() => entropies(acts));
  console.log(`  entropy, 100 global bins: ${entropyMs.toFixed(0)} ms`);
  const [, tiesMs] = time(() => neuronTieFractions(acts));
  console.log(`  tie fractions: ${tiesMs.toFixed(0)} ms`);
  // MI-like values: a bulk near 0 and a heavier tail, N(N-1)/2 of them.
  const pairs = (N * (N - 1)) / 2;
  const mi = Float64Array.from({ length: pairs }, () =>
    rng.next() < 0.8 ? 0.02 + 0.01 * rng.normal() : 0.3 + 0.1 * rng.normal(),
  );
  const [, boxMs] = time(() => [boxSummary(h), miSummary(mi)]);
  console.log(`  entropy box plot + MI quartiles over ${pairs} pairs: ${boxMs.toFixed(0)} ms`);
  const [all, allMs] = time(() => miDensity(mi));
  console.log(
    `  GMM density over ${pairs} pairs (BIC over 1..10, 10,000 quantiles): ${allMs.toFixed(0)} ms, ${all.components.length} components`,
  );
  const layer = mi.subarray(0, (256 * 255) / 2);
  const [, layerMs] = time(() => miDensity(layer));
  console.log(
    `  GMM density over ${layer.length} pairs (one 256-neuron layer): ${layerMs.toFixed(0)} ms`,
  );
  return Promise.resolve();
}
