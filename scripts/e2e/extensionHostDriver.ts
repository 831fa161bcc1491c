// Runs the extension-host suite (test/vscode/) inside the real VS Code of a running code-server:
// opens the workbench with a payload naming the extension under development and the tests;
// VS Code runs the tests in its extension host and reports through `codeAutomationExit`
// (0 = the suite's run() resolved, 1 = it rejected). Prints the suite's results file and exits
// with that code; a missing report within the time limit is a failure.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { deadline, openSession, workspaceUrl } from './browser';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    workspace: { type: 'string' },
    extension: { type: 'string' },
    tests: { type: 'string' },
    results: { type: 'string' },
    profile: { type: 'string' },
    log: { type: 'string' },
    timeout: { type: 'string', default: '900' },
  },
});
const need = (name: keyof typeof values): string => {
  const v = values[name];
  if (typeof v !== 'string' || v === '')
    throw new Error(`extensionHostDriver: --${name} is required`);
  return v;
};

async function main(): Promise<number> {
  const base = need('base');
  const host = new URL(base).host;
  const remote = (p: string) => `vscode-remote://${host}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(need('extension'))],
    ['extensionTestsPath', remote(need('tests'))],
  ];
  const { browser, page } = await openSession(need('profile'), need('log'));
  try {
    let report: (code: number) => void = () => undefined;
    const exit = new Promise<number>((resolve) => (report = resolve));
    await page.exposeFunction('codeAutomationExit', (code: number) => report(code));
    await page.goto(workspaceUrl(base, need('workspace'), { payload: JSON.stringify(payload) }));
    const seconds = Number(need('timeout'));
    return await Promise.race([exit, deadline(seconds * 1000, 'codeAutomationExit')]);
  } finally {
    await browser.close();
  }
}

void main()
  .catch((e: unknown) => {
    console.error(`extension-host tests: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  })
  .then((code) => {
    const results = need('results');
    const text = existsSync(results) ? readFileSync(results, 'utf8') : '';
    process.stdout.write(text);
    console.log(`extension-host tests: VS Code reported exit code ${code}`);
    // VS Code also reports when the extension host ends early; only a finished suite counts.
    const summary = /^(\d+) passed, (\d+) failed$/m.exec(text);
    if (!summary) console.log('extension-host tests: the suite did not finish');
    const green = code === 0 && summary !== null && summary[2] === '0' && summary[1] !== '0';
    process.exit(green ? 0 : 1);
  });
