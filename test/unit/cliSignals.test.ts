// Ctrl-C, a second Ctrl-C and SIGTERM on the real `memlens` process (bundled beside the MI
// worker, as cliMeasureProcess.test.ts does). No wall-clock bounds: each test waits for a line
// on stderr, sends the signal, and checks the outcome (exit code or signal, files left).
// A preload (written below) makes stderr count as a terminal, so the progress lines appear,
// and can hold the first write in flight or busy-loop, for a controlled point to signal at.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeNpy } from '../../src/core/io/npy';
import { Rng } from '../../src/core/random';
import { bundleCli } from '../fixtures/cliBundle';

const cli = path.join(__dirname, 'memlensCliSignals.js');
const examples = path.join(__dirname, '../../examples');
const dir = mkdtempSync(path.join(tmpdir(), 'memlens-signals-'));
const preload = path.join(dir, 'preload.cjs');
after(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(
  preload,
  `// stderr counts as a terminal: the CLI prints its progress lines and the Ctrl-C hint.
process.stderr.isTTY = true;
const fs = require('node:fs');
if (process.env.HOLD_WRITE === '1') {
  // The first fs.write never calls back: the write stays in flight (its temporary file on disk).
  const write = fs.write;
  fs.write = function () {
    fs.write = write;
    setInterval(() => undefined, 1 << 30); // keep the process alive while held
    fs.writeSync(2, 'WRITE-HELD\\n');
  };
}
if (process.env.BUSY_AFTER_CTRL_C === '1') {
  // After the first Ctrl-C (its hint on stderr), synchronous work that never ends.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk, ...rest) => {
    if (String(chunk).includes('Ctrl-C again')) {
      setImmediate(() => {
        fs.writeSync(2, 'BUSY\\n');
        for (;;);
      });
    }
    return write(chunk, ...rest);
  };
}
`,
);

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs the CLI; each time stderr matches the next step's pattern (counted from the end of the
 * previous match), sends that step's signal. Resolves when the process ends.
 */
function runWithSignals(
  args: string[],
  steps: { when: RegExp; send: NodeJS.Signals }[],
  env: Record<string, string> = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', preload, cli, ...args], {
      cwd: dir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let from = 0;
    let step = 0;
    // Only against a hang: a process that outlives this is a failure, not a timing result.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr += text;
      while (step < steps.length) {
        const m = steps[step].when.exec(stderr.slice(from));
        if (m === null) break;
        from += m.index + m[0].length;
        child.kill(steps[step].send);
        step++;
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (step < steps.length) {
        reject(
          new Error(`exited (${code ?? signal}) before signal ${step + 1} was sent: ${stderr}`),
        );
      } else resolve({ code, signal, stderr });
    });
  });
}

/** The probe of the example models, repeated: 60,000 examples, many batches of 16. */
function bigProbe(): string {
  const file = path.join(dir, 'big.npy');
  if (existsSync(file)) return file;
  const bytes = readFileSync(path.join(examples, 'probe.npy'));
  const headerLength = bytes.readUInt16LE(8);
  const body = bytes.subarray(10 + headerLength);
  const rows = body.length / (128 * 4);
  const copies = Math.ceil(60_000 / rows);
  const data = new Float32Array(copies * rows * 128);
  const one = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  for (let c = 0; c < copies; c++) data.set(one, c * one.length);
  writeFileSync(file, encodeNpy(data, [copies * rows, 128]));
  return file;
}

function activations(name: string, samples: number, neurons: number): string {
  const file = path.join(dir, name);
  const rng = new Rng(5);
  writeFileSync(
    file,
    encodeNpy(
      Float32Array.from({ length: samples * neurons }, () => rng.normal()),
      [samples, neurons],
    ),
  );
  return file;
}

/** The files of `dir` that are temporary files of an atomic write. */
const tempFiles = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

const captureArgs = (out: string): string[] => [
  'capture',
  path.join(examples, 'shortcut'),
  '--probe',
  bigProbe(),
  '--out',
  out,
  '--backend',
  'cpu',
  '--batch',
  '16',
];

void test('Ctrl-C during a TF.js capture stops it: exit 130, one line, no output file', async () => {
  await bundleCli(cli);
  const out = path.join(dir, 'cancelled.npy');
  const r = await runWithSignals(captureArgs(out), [
    { when: /capture \d+\/\d+ examples/, send: 'SIGINT' },
  ]);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /\nmemlens: cancelled\n$/);
  assert.doesNotMatch(r.stderr, /captured|wrote/);
  assert.equal(existsSync(out), false);
  assert.equal(existsSync(path.join(dir, 'cancelled.layers.json')), false);
  assert.deepEqual(tempFiles(), []);
});

void test('a second Ctrl-C ends the process at once, also in synchronous work', async () => {
  await bundleCli(cli);
  const out = path.join(dir, 'busy.npy');
  const r = await runWithSignals(
    captureArgs(out),
    [
      { when: /capture \d+\/\d+ examples/, send: 'SIGINT' },
      { when: /BUSY\n/, send: 'SIGINT' },
    ],
    { BUSY_AFTER_CTRL_C: '1' },
  );
  // No handler is left to run: the default action of SIGINT ends the busy process.
  assert.equal(r.signal, 'SIGINT', `${r.code}: ${r.stderr}`);
  assert.equal(existsSync(out), false);
  assert.deepEqual(tempFiles(), []);
});

void test('a second Ctrl-C during a write exits 130 and removes the temporary file', async () => {
  await bundleCli(cli);
  const acts = activations('held.npy', 200, 6);
  const out = path.join(dir, 'held.json');
  writeFileSync(out, 'previous report\n');
  const r = await runWithSignals(
    ['measure', acts, '--out', out],
    [
      { when: /WRITE-HELD\n/, send: 'SIGINT' },
      { when: /Ctrl-C again/, send: 'SIGINT' },
    ],
    { HOLD_WRITE: '1' },
  );
  assert.equal(r.code, 130, r.stderr);
  assert.equal(readFileSync(out, 'utf8'), 'previous report\n');
  assert.deepEqual(tempFiles(), []);
});

void test('SIGTERM during a write leaves no temporary file and the old output as it was', async () => {
  await bundleCli(cli);
  const acts = activations('term.npy', 200, 6);
  const out = path.join(dir, 'term.json');
  writeFileSync(out, 'previous report\n');
  const r = await runWithSignals(
    ['measure', acts, '--out', out],
    [{ when: /WRITE-HELD\n/, send: 'SIGTERM' }],
    { HOLD_WRITE: '1' },
  );
  assert.equal(r.code, 143, r.stderr);
  assert.equal(readFileSync(out, 'utf8'), 'previous report\n');
  assert.deepEqual(tempFiles(), []);
});

void test('SIGTERM outside a write ends the process at once (its default action)', async () => {
  await bundleCli(cli);
  const out = path.join(dir, 'terminated.npy');
  const r = await runWithSignals(captureArgs(out), [
    { when: /capture \d+\/\d+ examples/, send: 'SIGTERM' },
  ]);
  assert.equal(r.signal, 'SIGTERM', `${r.code}: ${r.stderr}`);
  assert.equal(existsSync(out), false);
  assert.deepEqual(tempFiles(), []);
});

void test('Ctrl-C during MI stops the worker pool: exit 130, no output', async () => {
  await bundleCli(cli);
  const acts = activations('mi.npy', 3000, 120);
  const out = path.join(dir, 'mi.json');
  const r = await runWithSignals(
    ['measure', acts, '--out', out, '--threads', '2'],
    [{ when: /memlens: mi \d+\/\d+/, send: 'SIGINT' }],
  );
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /memlens: cancelled\n$/);
  assert.equal(existsSync(out), false);
  assert.deepEqual(tempFiles(), []);
});
