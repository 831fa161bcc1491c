// Entry point of the extension-host suite (the payload's extensionTestsPath). VS Code calls
// run() inside its extension host; a rejection makes it report exit code 1. The results go to
// the file named by MEMLENS_E2E_RESULTS (set on the server, whose extension host inherits it),
// ending with the line `N passed, N failed`, because the host's stdout reaches no terminal.
import { appendFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
// mocha 12 is ESM-only: the bundle's require() of it loads the ES module (Node >= 20.19), whose
// namespace carries __esModule, so the default import is the Mocha class.
import Mocha from 'mocha';

/**
 * The suites (test/vscode/<name>.test.ts), in the order a full run takes them. Each sets up in
 * its before() what it needs (workspace.ts), so any one runs alone or after any other.
 */
export const SUITES = [
  'activation',
  'trainingScript',
  'analyze',
  'panel',
  'reportColumn',
  'export',
  'compare',
  'results',
  'formats',
  'torch',
  'probes',
  'walkthrough',
  'slurm',
];

/**
 * The suites to run: those named in MEMLENS_E2E_SUITES (comma-separated, in that order), else
 * all. MEMLENS_E2E_GREP, when set, keeps only the tests whose full title matches it (a regular
 * expression). scripts/e2e/run.sh sets both on the server from its arguments.
 */
function chosenSuites(): string[] {
  const named = (process.env.MEMLENS_E2E_SUITES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = named.filter((s) => !SUITES.includes(s));
  if (unknown.length > 0)
    throw new Error(
      `MEMLENS_E2E_SUITES: no suite ${unknown.join(', ')}; the suites: ${SUITES.join(', ')}`,
    );
  return named.length > 0 ? named : SUITES;
}

export async function run(): Promise<void> {
  const resultsFile = process.env.MEMLENS_E2E_RESULTS;
  if (!resultsFile) throw new Error('MEMLENS_E2E_RESULTS is not set on the server');
  writeFileSync(resultsFile, '');
  const out = (line: string) => {
    appendFileSync(resultsFile, `${line}\n`);
    console.log(line);
  };
  const grep = process.env.MEMLENS_E2E_GREP;
  const mocha = new Mocha({
    ui: 'bdd',
    timeout: 300_000,
    color: false,
    reporter: 'spec',
    ...(grep ? { grep: new RegExp(grep) } : {}),
  });
  const suites = chosenSuites();
  out(`suites: ${suites.join(', ')}${grep ? ` (tests matching /${grep}/)` : ''}`);
  for (const s of suites) mocha.addFile(path.join(__dirname, `${s}.test.js`));
  await mocha.loadFilesAsync();
  let passed = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', (t) => {
      passed++;
      out(`  ok   ${t.fullTitle()} (${t.duration ?? 0} ms)`);
    });
    runner.on('fail', (t, err: Error) => {
      failed++;
      out(`  FAIL ${t.fullTitle()}: ${err.message.split('\n').join('\n       ')}`);
    });
  });
  out(`${passed} passed, ${failed} failed`);
  if (failed > 0 || passed === 0) throw new Error(`${failed} extension-host tests failed`);
}
