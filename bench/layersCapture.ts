// TF.js layers-model capture speed: the real-size conv net (bench/realConv.ts) saved as a
// layers-model, captured on the first backend that starts (tfjs-node, else wasm) and on wasm.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileSystemHandler } from '../src/core/capture/tfjs/fsHandler';
import { benchRealConv, realConvLayersModel } from './realConv';

export async function benchLayers(log: (line: string) => void = console.log): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-bench-layers-'));
  try {
    const file = path.join(dir, 'model.json');
    const model = realConvLayersModel();
    await model.save(fileSystemHandler(file));
    model.dispose();
    const first = await benchRealConv('layers-model', file, {});
    log(`layers ${first.backend}: ${first.figures}`);
    if (first.backend !== 'wasm') {
      const wasm = await benchRealConv('layers-model', file, { backend: 'wasm' });
      log(`layers ${wasm.backend}: ${wasm.figures}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
