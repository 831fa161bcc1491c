// Coverage of src/ and webview-ui/ by the tests, measured with c8 from V8's own coverage.
//
//   node scripts/coverage.mjs [runner args]   (npm run coverage) runs scripts/runUnitTests.mjs
//                                              (default: --all, both tiers) under c8, prints the
//                                              per-file table and the summary, writes an HTML
//                                              report to out/coverage/
//   node scripts/coverage.mjs report DIR       the summary of the coverage that Node wrote to DIR
//                                              (NODE_V8_COVERAGE=DIR npm test: what CI does)
//
// The test bundles carry linked source maps; Node keeps them in the coverage files
// (source-map-cache), so c8 maps the bundles back to the TypeScript sources even after the
// runner has deleted them. Files no test loads count as uncovered (--all), except those that
// hold types only. Each include pattern
// comes twice: Node records the sources as file:// URLs, which c8's --exclude-after-remap tests
// against the patterns as they are (as 'file:/abs/path', relative to nothing), so 'src/**' alone
// would drop every range and report 100%; and a pattern like '**/src/**' would let in the
// sources of the bundled TF.js, whose maps point at its own src/ folders outside node_modules.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';

const c8 = path.join('node_modules', 'c8', 'bin', 'c8.js');
const measured = ['src', 'webview-ui'];
const asUrl = (dir) => `file:${path.resolve(dir)}/**`;

/**
 * The .ts files that hold types only (interfaces, type aliases): the bundles erase them, so
 * under --all they would count as never-run code.
 */
function typeOnlyFiles() {
  return measured
    .flatMap((dir) => readdirSync(dir, { recursive: true }).map((f) => path.join(dir, f)))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .filter((f) => {
      const js = ts.transpileModule(readFileSync(f, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      return js.replace(/\/\/.*|\/\*[\s\S]*?\*\/|export \{\};?|\s/g, '') === '';
    });
}

const scope = [
  '--all',
  ...measured.map((d) => `--src=${d}`),
  ...measured.flatMap((d) => [`--include=${d}/**`, `--include=${asUrl(d)}`]),
  '--exclude=**/*.d.ts',
  ...typeOnlyFiles().map((f) => `--exclude=${f}`),
  '--exclude-after-remap',
];

// The unit and pipeline tiers' coverage together (hundreds of CLI and worker processes) takes
// c8 past Node's default heap of about 4 GB: "JavaScript heap out of memory" in CI.
const c8Run = (args) =>
  spawnSync(process.execPath, ['--max-old-space-size=12288', c8, ...args], { stdio: 'inherit' })
    .status ?? 1;

const args = process.argv.slice(2);
if (args[0] === 'report') {
  if (!args[1]) {
    console.error('coverage: report needs the folder NODE_V8_COVERAGE named');
    process.exit(2);
  }
  process.exit(
    c8Run(['report', ...scope, '--reporter=text-summary', `--temp-directory=${args[1]}`]),
  );
}
const temp = mkdtempSync(path.join(tmpdir(), 'memlens-c8-'));
try {
  const status = c8Run([
    ...scope,
    '--reporter=text',
    '--reporter=text-summary',
    '--reporter=html',
    '--reports-dir=out/coverage',
    `--temp-directory=${temp}`,
    process.execPath,
    'scripts/runUnitTests.mjs',
    ...(args.length > 0 ? args : ['--all']),
  ]);
  process.exitCode = status;
} finally {
  rmSync(temp, { recursive: true, force: true });
}
