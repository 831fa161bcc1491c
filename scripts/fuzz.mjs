// `npm run fuzz -- [options]`: bundles the fuzzer (scripts/fuzzMain.ts over test/fuzz/), the CLI and its helper
// bundles (MI worker, ONNX Runtime host, KSG kernel) into out/fuzz-bin/ (dist/ is left alone),
// then runs the fuzzer there with the options given. See scripts/fuzzMain.ts for the options.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { auxNodeEntries, buildKsgWasm, buildNode } from './bundles.mjs';

const outdir = 'out/fuzz-bin';
rmSync(outdir, { recursive: true, force: true });
await buildNode(
  { fuzz: 'scripts/fuzzMain.ts', cli: 'src/cli/main.ts', ...auxNodeEntries },
  outdir,
  {
    packages: 'external',
  },
);
buildKsgWasm(outdir);
const run = spawnSync(
  process.execPath,
  [path.join(outdir, 'fuzz.js'), '--cli', path.join(outdir, 'cli.js'), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(run.status ?? 1);
