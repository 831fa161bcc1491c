// End-to-end analysis speed: `analyze` of one example model (3 x 64 hidden neurons = 192,
// 600 probe inputs; goal: under 10 s) and `compare` of the shortcut pair, with the stage
// timings the reports record.
import * as path from 'node:path';
import { analyze } from '../src/core/analysis/analyze';
import { compare } from '../src/core/analysis/compare';

const examples = path.join(__dirname, '..', 'examples');

export async function benchAnalyze(): Promise<void> {
  console.log('analyze (examples/generalising: 192 neurons, 600 probe inputs; goal < 10 s)');
  const probe = path.join(examples, 'probe.npy');
  for (let run = 1; run <= 2; run++) {
    const t0 = performance.now();
    const r = await analyze(path.join(examples, 'generalising'), { probe });
    const wall = (performance.now() - t0) / 1000;
    const t = r.timing;
    console.log(
      `  run ${run}: ${wall.toFixed(2)} s wall (capture ${(t.captureMs / 1000).toFixed(2)} s on ${r.backend}, entropy ${(t.entropyMs / 1000).toFixed(3)} s, MI ${(t.miMs / 1000).toFixed(2)} s for ${r.summary.mi.pairs} pairs)`,
    );
  }
  const t0 = performance.now();
  await compare([path.join(examples, 'shortcut-baseline'), path.join(examples, 'shortcut')], {
    probe,
    baseline: path.join(examples, 'shortcut-baseline'),
  });
  console.log(
    `compare (2 example models, signatures with 1,000 bootstrap replicates): ${((performance.now() - t0) / 1000).toFixed(2)} s wall`,
  );
}
