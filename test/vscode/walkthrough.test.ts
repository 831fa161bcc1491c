// The walkthrough "Get started with MemLens" and the welcome views, as the installed extension
// contributes them: every step's page ships, every link and completion event names a command or
// setting that exists, and VS Code opens the walkthrough. Needs nothing set up.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, activated, waitFor } from './workspace';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string | Record<string, string>; svg?: string };
  completionEvents?: string[];
}

interface Manifest {
  contributes: {
    walkthroughs?: { id: string; title: string; steps: Step[] }[];
    viewsWelcome?: { view: string; contents: string; when?: string }[];
    configuration: { properties: Record<string, unknown> };
  };
}

const WALKTHROUGH = 'getStarted';

/** The command ids of the `command:` links in a text (Markdown or a welcome's contents). */
function commandLinks(text: string): string[] {
  return [...text.matchAll(/\(command:([\w.-]+)/g)].map((m) => m[1]);
}

describe('walkthrough', () => {
  let ext: vscode.Extension<unknown>;
  let manifest: Manifest;
  let steps: Step[];

  before(async () => {
    ext = await activated();
    manifest = ext.packageJSON as Manifest;
    const walkthrough = manifest.contributes.walkthroughs?.find((w) => w.id === WALKTHROUGH);
    assert.ok(walkthrough, `no walkthrough ${WALKTHROUGH}`);
    assert.equal(walkthrough.title, 'Get started with MemLens');
    steps = walkthrough.steps;
  });

  it('has the five steps, each with its page shipped in the extension', () => {
    assert.deepEqual(
      steps.map((s) => s.id),
      ['probeData', 'analyze', 'reference', 'compare', 'pytorch'],
    );
    for (const s of steps) {
      assert.ok(s.media.markdown, `${s.id}: no markdown page`);
      const file = path.join(ext.extensionPath, s.media.markdown);
      assert.ok(existsSync(file), `${s.id}: ${s.media.markdown} is not in the extension`);
      assert.match(readFileSync(file, 'utf8'), /^# /, `${s.id}: the page has no title`);
    }
  });

  it('links and completion events name registered commands and contributed settings', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const settings = manifest.contributes.configuration.properties;
    const missing: string[] = [];
    const texts: [string, string][] = steps.flatMap((s): [string, string][] => [
      [`step ${s.id}`, s.description],
      [
        s.media.markdown ?? '',
        readFileSync(path.join(ext.extensionPath, s.media.markdown ?? ''), 'utf8'),
      ],
    ]);
    for (const w of manifest.contributes.viewsWelcome ?? [])
      texts.push([`welcome of ${w.view} (${w.when ?? 'always'})`, w.contents]);
    for (const [where, text] of texts)
      for (const id of commandLinks(text)) if (!registered.has(id)) missing.push(`${where}: ${id}`);
    let events = 0;
    for (const s of steps) {
      assert.ok(s.completionEvents?.length, `${s.id}: no completion event`);
      for (const e of s.completionEvents) {
        events++;
        const [kind, name] = e.split(/:(.*)/s);
        if (kind === 'onCommand' && !registered.has(name)) missing.push(`${s.id}: ${e}`);
        else if (kind === 'onSettingChanged' && !(name in settings)) missing.push(`${s.id}: ${e}`);
        else if (kind !== 'onCommand' && kind !== 'onSettingChanged')
          missing.push(`${s.id}: unexpected event ${e}`);
      }
    }
    assert.deepEqual(missing, []);
    assert.ok(events >= steps.length);
    // Every step offers its action as a button (its last line holds only a link).
    assert.deepEqual(
      steps.filter((s) => !/\n\[[^\]]+\]\(command:[^)]+\)$/.test(s.description)).map((s) => s.id),
      [],
    );
  });

  it('the welcome of Analysed Models opens the walkthrough, trusted or not', () => {
    const welcomes = (manifest.contributes.viewsWelcome ?? []).filter(
      (w) => w.view === 'memlens.models',
    );
    assert.deepEqual(welcomes.map((w) => w.when).sort(), [
      '!isWorkspaceTrusted',
      'isWorkspaceTrusted',
    ]);
    const link = `command:workbench.action.openWalkthrough?${encodeURIComponent(
      JSON.stringify([`${EXTENSION_ID}#${WALKTHROUGH}`, false]),
    )}`;
    for (const w of welcomes)
      assert.ok(w.contents.includes(`(${link})`), `${w.when}: ${w.contents}`);
    const trusted = welcomes.find((w) => w.when === 'isWorkspaceTrusted')!;
    assert.match(trusted.contents, /\.safetensors/);
    assert.match(trusted.contents, /\.pt\b/);
    assert.deepEqual(commandLinks(trusted.contents), [
      'memlens.analyze',
      'memlens.selectProbe',
      'workbench.action.openWalkthrough',
    ]);
  });

  it('opens with workbench.action.openWalkthrough', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand(
      'workbench.action.openWalkthrough',
      `${EXTENSION_ID}#${WALKTHROUGH}`,
      false,
    );
    // The Welcome editor opens. Which walkthrough it shows is not readable through the API: its
    // tab keeps the label it opened with ("Welcome") until the page sets its title.
    const tab = await waitFor(
      'the Welcome editor',
      () =>
        vscode.window.tabGroups.all
          .flatMap((g) => g.tabs.map((t) => t.label))
          .find((label) => label === 'Welcome' || label.startsWith('Walkthrough: ')),
      [vscode.window.tabGroups.onDidChangeTabs],
    );
    assert.ok(tab);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
