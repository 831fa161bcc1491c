// Outputs never destroy anything: the real `memlens` process (bundled as in
// cliMeasureProcess.test.ts) refuses an output that is an input of the run or inside an input
// folder, two outputs on one file, and special files, with one line and a non-zero exit,
// leaving every input as it was; a symbolic link is written through. Then the output guard
// itself (src/core/io/outputGuard.ts) on links, hard links and loops.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../src/core/errors';
import { writeFileAtomic } from '../../src/core/io/atomicWrite';
import { encodeNpy } from '../../src/core/io/npy';
import { guardOutputs } from '../../src/core/io/outputGuard';
import { Rng } from '../../src/core/random';
import { bundleCli } from '../fixtures/cliBundle';

const cli = path.join(__dirname, 'memlensCliOutputs.js');
const examples = path.join(__dirname, '../../examples');
const dir = mkdtempSync(path.join(tmpdir(), 'memlens-outputs-'));
const f = (name: string): string => path.join(dir, name);
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every file under `root` (recursively) with its hash. */
function hashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else out[path.relative(root, p)] = st.isFile() ? sha(p) : `(${st.mode.toString(8)})`;
    }
  };
  walk(root);
  return out;
}

/** The run failed with exit code 1 and one line naming `file` and matching `message`. */
function assertRefused(r: ReturnType<typeof run>, file: string, message: RegExp): void {
  assert.equal(r.status, 1, `expected a refusal, found exit ${r.status}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 2, `expected one line, found: ${r.stderr}`);
  assert.ok(lines[0].startsWith(`memlens: ${file}: cannot write output`), lines[0]);
  assert.match(lines[0], message);
}

function setUp(): void {
  const rng = new Rng(3);
  const S = 200;
  writeFileSync(
    f('acts.npy'),
    encodeNpy(
      Float32Array.from({ length: S * 6 }, () => rng.normal()),
      [S, 6],
    ),
  );
  writeFileSync(
    f('acts.layers.json'),
    JSON.stringify({
      layers: [
        { name: 'a', start: 0, end: 3 },
        { name: 'b', start: 3, end: 6 },
      ],
    }),
  );
  // Copies: a guard that failed would damage these, never the repository's examples.
  cpSync(path.join(examples, 'shortcut'), f('model'), { recursive: true });
  cpSync(path.join(examples, 'probe.npy'), f('probe.npy'));
}

void test('an output onto an input of the same run is refused; the input stays as it was', async () => {
  await bundleCli(cli);
  setUp();
  const before = hashes(dir);
  const cases: [string[], string, RegExp][] = [
    [
      ['measure', 'acts.npy', '--out', 'acts.npy'],
      'acts.npy',
      /expected a path that is not an input of this run, found the activation dump 'acts\.npy'/,
    ],
    [
      ['measure', 'acts.npy', '--out', 'acts.layers.json'],
      'acts.layers.json',
      /found the dump file '.*acts\.layers\.json'/,
    ],
    [
      ['capture', 'model', '--probe', 'probe.npy', '--out', 'probe.npy'],
      'probe.npy',
      /found the probe 'probe\.npy'/,
    ],
    [
      ['capture', 'model', '--probe', 'probe.npy', '--out', 'model/acts.npy'],
      'model/acts.npy',
      /expected a path outside the inputs of this run, found it inside the model 'model'/,
    ],
    [
      ['analyze', 'model', '--probe', 'probe.npy', '--html', 'model/model.json'],
      'model/model.json',
      /found the model file 'model\/model\.json'/,
    ],
    [
      ['analyze', 'model/model.json', '--probe', 'probe.npy', '--csv', 'model/weights.bin'],
      'model/weights.bin',
      /not an input of this run, found the model file '.*weights\.bin'/,
    ],
    [
      ['analyze', 'model/model.json', '--probe', 'probe.npy', '--out', 'model/r.json'],
      'model/r.json',
      /found it inside the model folder '.*model'/,
    ],
    [
      ['analyze', 'acts.npy', '--out', './acts.npy'],
      './acts.npy',
      /found the activation dump 'acts\.npy'/,
    ],
    [
      ['compare', 'model', 'acts.npy', '--probe', 'probe.npy', '--out', 'probe.npy'],
      'probe.npy',
      /found the probe 'probe\.npy'/,
    ],
    [
      ['demo', '--examples', dir, '--out-dir', 'model'],
      path.join('model', 'generalising.json'),
      /\(--out-dir\): expected a path outside the inputs of this run, found it inside the model '/,
    ],
  ];
  // demo needs the four example models and the probe in --examples.
  for (const name of ['generalising', 'random-labels', 'shortcut', 'shortcut-baseline'])
    symlinkSync(f('model'), f(name));
  for (const [args, file, message] of cases) assertRefused(run(args), file, message);
  assert.deepEqual(hashes(dir), { ...before, ...linkEntries() });
});

/** The hash entries of the four demo links made above (links count by their mode). */
function linkEntries(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['generalising', 'random-labels', 'shortcut', 'shortcut-baseline'])
    out[name] = `(${lstatSync(f(name)).mode.toString(8)})`;
  return out;
}

void test('two outputs naming one file are refused, also through a link; nothing is written', async () => {
  await bundleCli(cli);
  symlinkSync('r.json', f('alias.json'));
  assertRefused(
    run(['analyze', 'acts.npy', '--out', 'r.json', '--html', 'r.json']),
    'r.json',
    /\(--html\): expected one file per output, found --out naming the same file/,
  );
  assertRefused(
    run(['analyze', 'acts.npy', '--out', 'r.json', '--csv', 'alias.json']),
    'alias.json',
    /\(--csv\): expected one file per output, found --out naming the same file/,
  );
  assert.equal(existsSync(f('r.json')), false);
});

void test('special files are refused (FIFO, device, folder); a link is written through', async (t) => {
  await bundleCli(cli);
  const mkfifo = spawnSync('mkfifo', [f('pipe')]);
  if (mkfifo.status !== 0) t.skip('mkfifo is not available');
  else {
    assertRefused(
      run(['measure', 'acts.npy', '--out', 'pipe']),
      'pipe',
      /expected a regular file or a new path, found a FIFO \(named pipe\)/,
    );
    assert.ok(statSync(f('pipe')).isFIFO(), 'the FIFO was replaced');
  }
  if (existsSync('/dev/null')) {
    symlinkSync('/dev/null', f('null-link'));
    assertRefused(
      run(['measure', 'acts.npy', '--out', 'null-link']),
      'null-link',
      /found a character device \('\/dev\/null', through a symbolic link\)/,
    );
    assert.ok(lstatSync(f('null-link')).isSymbolicLink());
    assert.ok(statSync('/dev/null').isCharacterDevice());
  }
  assertRefused(
    run(['measure', 'acts.npy', '--out', '.']),
    '.',
    /expected a file path, found a folder/,
  );

  // Through a link: the target gets the report, the link stays a link.
  writeFileSync(f('target.json'), 'old\n');
  symlinkSync('target.json', f('link.json'));
  const ok = run(['measure', 'acts.npy', '--out', 'link.json', '--pairs', '3']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(lstatSync(f('link.json')).isSymbolicLink());
  assert.equal(
    (JSON.parse(readFileSync(f('target.json'), 'utf8')) as { entropy: number[] }).entropy.length,
    6,
  );
  // A dangling link: the file it names is created.
  symlinkSync('created.json', f('dangling.json'));
  const created = run(['measure', 'acts.npy', '--out', 'dangling.json', '--pairs', '3']);
  assert.equal(created.status, 0, created.stderr);
  assert.ok(lstatSync(f('dangling.json')).isSymbolicLink());
  assert.ok(statSync(f('created.json')).isFile());
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.endsWith('.tmp')),
    [],
  );
});

const rejectsWith = async (p: Promise<unknown>, message: RegExp): Promise<void> => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof UserError, String(err));
    assert.match(err.message, message);
    return true;
  });
};

void test('the guard: hard links, links to inputs, link loops, missing folders', async () => {
  const g = mkdtempSync(path.join(tmpdir(), 'memlens-guard-'));
  after(() => rmSync(g, { recursive: true, force: true }));
  const p = (n: string): string => path.join(g, n);
  writeFileSync(p('in.npy'), 'input');
  linkSync(p('in.npy'), p('hard.npy'));
  symlinkSync(p('in.npy'), p('soft.npy'));
  symlinkSync('loop-b', p('loop-a'));
  symlinkSync('loop-a', p('loop-b'));
  const input = [{ file: p('in.npy'), role: 'probe' }];
  await rejectsWith(
    guardOutputs([{ file: p('hard.npy'), role: '--out' }], input),
    /hard\.npy: cannot write output \(--out\): expected a path that is not an input of this run, found the probe/,
  );
  await rejectsWith(
    guardOutputs([{ file: p('soft.npy'), role: '--out' }], input),
    /soft\.npy: .*found the probe/,
  );
  await rejectsWith(
    guardOutputs([{ file: p('loop-a'), role: '--out' }], []),
    /loop-a: cannot write output \(ELOOP\)/,
  );
  await rejectsWith(
    guardOutputs([{ file: p('no/such/out.json'), role: '--out' }], []),
    /cannot write output \(ENOENT\): expected an existing, writable folder/,
  );
  // '-' is standard output; a new file beside the input is fine; folders made on request.
  await guardOutputs(
    [
      { file: '-', role: '--out' },
      { file: p('new.json'), role: '--html' },
      { file: p('made/here.json'), role: '--csv' },
    ],
    input,
    { createFolders: true },
  );
  assert.ok(statSync(p('made')).isDirectory());
  assert.equal(readFileSync(p('in.npy'), 'utf8'), 'input');

  // writeFileAtomic at write time: through the link, keeping the target's permissions.
  writeFileSync(p('t.txt'), 'old', { mode: 0o640 });
  symlinkSync('t.txt', p('l.txt'));
  assert.equal(await writeFileAtomic(p('l.txt'), 'new'), p('t.txt'));
  assert.equal(readFileSync(p('t.txt'), 'utf8'), 'new');
  assert.equal(statSync(p('t.txt')).mode & 0o777, 0o640);
  assert.ok(lstatSync(p('l.txt')).isSymbolicLink());
  await rejectsWith(writeFileAtomic(g, 'x'), /expected a file path, found a folder/);
  // A cancelled write leaves the old file and no temporary file.
  const abort = new AbortController();
  abort.abort();
  await assert.rejects(writeFileAtomic(p('t.txt'), 'newer', { signal: abort.signal }), {
    name: 'CancelledError',
  });
  assert.equal(readFileSync(p('t.txt'), 'utf8'), 'new');
  assert.deepEqual(
    readdirSync(g).filter((n) => n.endsWith('.tmp')),
    [],
  );
});
