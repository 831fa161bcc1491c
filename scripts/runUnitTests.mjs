// Bundles each test/unit/*.test.ts with esbuild into out/test-<pid> (beside the workers it
// spawns), then runs them all with node's test runner. Type checking is `npm run check`.
// A folder per run, so that two runs at once never delete each other's bundles.
import { readdirSync, rmSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { auxNodeEntries, buildKsgWasm, buildNode, buildWebview } from './bundles.mjs';

const only = process.argv.slice(2);
const outdir = `out/test-${process.pid}`;
rmSync(outdir, { recursive: true, force: true });
const tests = readdirSync('test/unit')
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const entries = Object.fromEntries(tests.map((f) => [f.replace(/\.ts$/, ''), `test/unit/${f}`]));
await buildNode({ ...entries, ...auxNodeEntries }, outdir, { packages: 'external' });
buildKsgWasm(outdir);
if (existsSync('webview-ui/main.ts')) await buildWebview(outdir);
const files = tests.map((f) => `${outdir}/${f.replace(/\.ts$/, '.js')}`);
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
});
rmSync(outdir, { recursive: true, force: true });
process.exit(run.status ?? 1);
