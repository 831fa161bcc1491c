// `npm run bench`: prints speed and memory figures. Each section lives in its own module;
// `node dist/bench.js [section ...]` runs only the named sections.
import { benchAnalyze } from './analyze';
import { benchCapture } from './capture';
import { benchKeras } from './kerasCapture';
import { benchLayers } from './layersCapture';
import { benchMi } from './mi';
import { benchOnnx } from './onnx';
import { benchSlurm } from './slurm';
import { benchSummaries } from './summaries';
import { benchTorch } from './torch';

const sections: Record<string, () => Promise<void>> = {
  mi: () => benchMi(),
  summaries: () => benchSummaries(),
  capture: () => benchCapture(),
  layers: () => benchLayers(),
  keras: () => benchKeras(),
  analyze: () => benchAnalyze(),
  onnx: () => benchOnnx(),
  torch: () => benchTorch(),
  slurm: () => benchSlurm(),
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  for (const name of wanted) {
    if (!(name in sections))
      throw new Error(
        `unknown bench section "${name}"; known: ${Object.keys(sections).join(', ')}`,
      );
  }
  for (const [name, run] of Object.entries(sections)) {
    if (wanted.length === 0 || wanted.includes(name)) await run();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
