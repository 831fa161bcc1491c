// Bundles the e2e drivers (scripts/e2e/*Driver.ts -> out/e2e/) and the extension-host suite
// (test/vscode/*.ts -> out/e2e/suite/). Packages stay external: the drivers load playwright-core
// and the suite loads mocha from node_modules; `vscode` is provided by the extension host.
import { readdirSync, rmSync } from 'node:fs';
import * as esbuild from 'esbuild';

const entries = (dir, keep) =>
  Object.fromEntries(
    readdirSync(dir)
      .filter(keep)
      .map((f) => [f.replace(/\.ts$/, ''), `${dir}/${f}`]),
  );

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  packages: 'external',
  logLevel: 'warning',
};

rmSync('out/e2e', { recursive: true, force: true });
await esbuild.build({
  ...common,
  entryPoints: entries('scripts/e2e', (f) => f.endsWith('Driver.ts')),
  outdir: 'out/e2e',
});
await esbuild.build({
  ...common,
  entryPoints: entries('test/vscode', (f) => f.endsWith('.ts')),
  outdir: 'out/e2e/suite',
});
