// The packaged extension activates in the real extension host and contributes its commands
// and its explorer menu entry. Needs nothing set up.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS, EXTENSION_ID } from './workspace';

interface MenuEntry {
  command: string;
  when?: string;
  group?: string;
}

describe('activation', () => {
  it('the extension is installed and activates', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not installed`);
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('registers every command it contributes, each titled "MemLens: ..."', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const contributed = (
      ext.packageJSON as { contributes: { commands: { command: string; title: string }[] } }
    ).contributes.commands;
    assert.ok(COMMANDS.every((c) => contributed.some((x) => x.command === c)));
    assert.deepEqual(
      contributed.filter((c) => !all.has(c.command)).map((c) => c.command),
      [],
    );
    assert.deepEqual(
      contributed.filter((c) => !c.title.startsWith('MemLens: ')).map((c) => c.command),
      [],
    );
  });

  it('offers Analyze Memorization in the explorer context menu, gated on model files', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const pkg = ext.packageJSON as {
      contributes: {
        commands: { command: string; title: string }[];
        menus: Record<string, MenuEntry[]>;
      };
    };
    const command = pkg.contributes.commands.find((c) => c.command === 'memlens.analyze');
    assert.ok(command);
    assert.equal(command.title.replace(/^MemLens: /, ''), 'Analyze Memorization');
    const entry = pkg.contributes.menus['explorer/context']?.find(
      (m) => m.command === 'memlens.analyze',
    );
    assert.ok(entry, 'memlens.analyze is not in explorer/context');
    assert.match(entry.when ?? '', /model\\?\.json/);
  });
});
