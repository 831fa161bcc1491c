// The test runner of `npm test` and `npm run test:pipeline`. Two tiers, same depth in test/:
//   test/unit/      pure unit tests (npm test): fast, no real pipeline, no browser;
//   test/pipeline/  the real pipelines (npm run test:pipeline): the acceptance experiments, the
//                   real Keras files, SavedModels, Debian's libonnx-testdata sweep, the analysis
//                   child process, the HTML report and the webview in Chromium.
//
//   node scripts/runUnitTests.mjs                 the unit tier
//   node scripts/runUnitTests.mjs --pipeline      the pipeline tier (--unit, --all: as named)
//   node scripts/runUnitTests.mjs onnx html       the files of either tier whose name contains
//                                                 onnx or html (a tier flag narrows the search)
//   node scripts/runUnitTests.mjs ksg --test-name-pattern='hand-worked'
//                                                 only the tests of those files whose name
//                                                 matches (node's own flag, passed through)
//
// Bundles the chosen test/<tier>/*.test.ts with esbuild into out/test-<pid> (beside the workers
// they spawn; one folder per run, so two runs at once never delete each other's bundles), then
// runs them with node's test runner, os.availableParallelism() files at a time. Type checking
// is `npm run check`. The last line is `<tier>: N passed, N failed, N skipped`.
//
// MEMLENS_REQUIRE_ALL=1 (CI): a skipped or todo test is a failure, except a skip for want of an
// optional dependency (test/fixtures/optionalDeps.ts) named in MEMLENS_ALLOW_MISSING
// (comma-separated). Coverage: scripts/coverage.mjs (`npm run coverage`).
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  auxNodeEntries,
  buildKsgNative,
  buildKsgWasm,
  buildNode,
  buildWebview,
} from './bundles.mjs';

const TIERS = { unit: 'test/unit', pipeline: 'test/pipeline' };
/** Must match OPTIONAL_SKIP in test/fixtures/optionalDeps.ts. */
const OPTIONAL_SKIP = 'optional dependency missing:';

const args = process.argv.slice(2);
const passThrough = args.filter((a) => a.startsWith('--test-name-pattern='));
const flags = args.filter((a) => a.startsWith('--') && !passThrough.includes(a));
const only = args.filter((a) => !a.startsWith('--'));
const unknown = flags.filter((f) => !['--unit', '--pipeline', '--all'].includes(f));
if (unknown.length > 0 || flags.length > 1) {
  console.error(
    `runUnitTests: expected at most one of --unit, --pipeline, --all, file-name substrings and --test-name-pattern=<regex>; found ${args.join(' ')}`,
  );
  process.exit(2);
}
// Without a tier flag: the unit tier, or with substrings, every tier.
const tier = flags[0]?.slice(2) ?? (only.length > 0 ? 'all' : 'unit');
const dirs = tier === 'all' ? Object.values(TIERS) : [TIERS[tier]];

const tests = dirs.flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .map((f) => ({ dir, name: f.replace(/\.ts$/, '') })),
);
if (tests.length === 0) {
  console.error(`runUnitTests: no test file in ${dirs.join(', ')} matches ${only.join(' ')}`);
  process.exit(2);
}
// The bundles land flat in one folder: a name may be in one tier only.
const seen = new Map();
for (const t of tests) {
  if (seen.has(t.name)) {
    console.error(`runUnitTests: ${t.name}.ts is in both ${seen.get(t.name)} and ${t.dir}`);
    process.exit(2);
  }
  seen.set(t.name, t.dir);
}

const outdir = `out/test-${process.pid}`;
const gateFile = path.join(outdir, 'gate.json');
rmSync(outdir, { recursive: true, force: true });
const entries = Object.fromEntries(tests.map((t) => [t.name, `${t.dir}/${t.name}.ts`]));
await buildNode({ ...entries, ...auxNodeEntries }, outdir, { packages: 'external' });
buildKsgWasm(outdir);
buildKsgNative(outdir);
if (existsSync('webview-ui/main.ts')) await buildWebview(outdir);
const files = tests.map((t) => `${outdir}/${t.name}.js`);
const gate = fileURLToPath(new URL('testGate.mjs', import.meta.url));
const run = spawnSync(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${availableParallelism()}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${gate}`,
    `--test-reporter-destination=${gateFile}`,
    ...passThrough,
    ...files,
  ],
  { stdio: 'inherit' },
);

let report = { counts: {}, skipped: [] };
try {
  report = JSON.parse(readFileSync(gateFile, 'utf8'));
} catch {
  console.error('runUnitTests: the test runner reported no results');
}
rmSync(outdir, { recursive: true, force: true });
// The tests --test-name-pattern leaves out are not skips.
report.skipped = report.skipped.filter(
  (s) => !(passThrough.length > 0 && s.reason === 'test name does not match pattern'),
);

const allowMissing = new Set(
  (process.env.MEMLENS_ALLOW_MISSING ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean),
);
const allowed = (s) => {
  if (s.kind !== 'skip' || !s.reason.startsWith(OPTIONAL_SKIP)) return false;
  return allowMissing.has(s.reason.slice(OPTIONAL_SKIP.length).trim().split(/\s/)[0]);
};
const requireAll = process.env.MEMLENS_REQUIRE_ALL === '1';
const forbidden = requireAll ? report.skipped.filter((s) => !allowed(s)) : [];
// A skip's file is its bundle: name the test file it came from.
const sourceOf = new Map(tests.map((t) => [`${t.name}.js`, `${t.dir}/${t.name}.ts`]));
const where = (s) => (s.file ? ` (${sourceOf.get(path.basename(s.file)) ?? s.file})` : '');
for (const s of report.skipped) {
  const verdict = forbidden.includes(s) ? '✖ forbidden by MEMLENS_REQUIRE_ALL=1' : '﹣';
  console.log(`${verdict} ${s.kind}: ${s.name}${where(s)}${s.reason ? `: ${s.reason}` : ''}`);
}
if (forbidden.length > 0) {
  console.log(
    `${forbidden.length} skipped test(s) fail the run: a test may skip only for an optional ` +
      `dependency (skipWithout in test/fixtures/optionalDeps.ts) listed in MEMLENS_ALLOW_MISSING ` +
      `(now: ${[...allowMissing].join(',') || 'empty'})`,
  );
}
const c = report.counts;
const passed = c.pass ?? 0;
const failed = (c.fail ?? 0) + (c.cancelled ?? 0) + forbidden.length;
const status = run.status ?? 1;
// A runner that died without a summary counts as one failure.
const failedShown = failed === 0 && (status !== 0 || c.pass === undefined) ? 1 : failed;
console.log(`${tier}: ${passed} passed, ${failedShown} failed, ${report.skipped.length} skipped`);
process.exit(status !== 0 || failedShown > 0 ? 1 : 0);
