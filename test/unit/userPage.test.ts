// The extension's page (README.vsix.md, staged as the .vsix's README.md by scripts/package.mjs)
// is for users: its links, and those of the docs it links to, reach only files that ship
// (.vscodeignore's allowlist), and it names no developer command or source folder.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const USER_PAGE = 'README.vsix.md';

/** The allowlist of .vscodeignore (`!pattern` lines) as regular expressions on repo paths. */
function shippedPatterns(): RegExp[] {
  return readFileSync('.vscodeignore', 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('!'))
    .map((l) => {
      const glob = l.slice(1);
      const re = glob
        .split(/(\*\*|\*)/)
        .map((part) =>
          part === '**'
            ? '.*'
            : part === '*'
              ? '[^/]*'
              : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('');
      return new RegExp(`^${re}$`);
    });
}

/** The relative link targets of a Markdown file, as repo paths (anchors dropped). */
function relativeLinks(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  return targets
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#'))
    .map((t) => path.posix.normalize(path.posix.join(path.posix.dirname(file), t.split('#')[0])));
}

void test('the user page and the docs it links to link only to files that ship', () => {
  const shipped = shippedPatterns();
  // The page itself ships as README.md.
  const ships = (p: string): boolean => p === USER_PAGE || shipped.some((re) => re.test(p));
  const seen = new Set<string>();
  const queue = [USER_PAGE];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const target of relativeLinks(file)) {
      assert.ok(existsSync(target), `${file} links to ${target}, which does not exist`);
      assert.ok(ships(target), `${file} links to ${target}, which the .vsix does not ship`);
      // vsce renames LICENSE to LICENSE.txt inside the .vsix.
      assert.notEqual(target, 'LICENSE', `${file} links to LICENSE, which the .vsix renames`);
      if (target.endsWith('.md')) queue.push(target);
    }
  }
  assert.ok(seen.has('docs/measures.md') && seen.has('docs/extension.md'), [...seen].join(', '));
});

void test('the user page names no developer command or source folder', () => {
  const text = readFileSync(USER_PAGE, 'utf8');
  for (const dev of [/\bnpm (run|ci|test|install)\b/, /\bscripts\//, /\bsrc\//, /\bnode bin\//]) {
    assert.doesNotMatch(text, dev);
  }
});

void test('scripts/package.mjs stages the user page as the README of the .vsix', () => {
  const pkg = readFileSync('scripts/package.mjs', 'utf8');
  assert.match(
    pkg,
    /copyFileSync\(path\.join\(root, 'README\.vsix\.md'\), path\.join\(stage, 'README\.md'\)\)/,
  );
});
