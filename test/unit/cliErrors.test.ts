// The CLI's top-level error printing: a UserError is one line `memlens: <message>`, whatever
// the file held (line breaks, escape sequences, a huge header), exit status 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MAX_MESSAGE } from '../../src/core/errors';
import { bundleCli } from '../fixtures/cliBundle';

const cli = path.join(__dirname, 'memlensCliErrors.js');

/** A version-1 .npy whose header text is given as is. */
function npy(header: string): Uint8Array {
  const out = new Uint8Array(10 + header.length + 16);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

void test('memlens prints a UserError as one printable line, exit 1', async () => {
  await bundleCli(cli);
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-cli-errors-'));
  try {
    const cases: [string, Uint8Array | string, RegExp][] = [
      [
        'hdr.npy',
        npy(
          `{'descr': '<f4',\n'fortran_order': False, 'shape': 4, 'x': '${'\x1b[2J\r\n'.repeat(6000)}'}\n`,
        ),
        /^memlens: .*hdr\.npy: malformed \.npy header: expected a string, True, False or a tuple of integers at character 50, found '4, 'x': '\?\[2J.*\.\.\.'$/,
      ],
      [
        'null.safetensors',
        (() => {
          const b = new Uint8Array(12);
          new DataView(b.buffer).setBigUint64(0, 4n, true);
          b.set([0x6e, 0x75, 0x6c, 0x6c], 8);
          return b;
        })(),
        /^memlens: .*null\.safetensors: expected the \.safetensors header to be a JSON object, found null$/,
      ],
    ];
    for (const [name, content, pattern] of cases) {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      const r = spawnSync(process.execPath, [cli, 'analyze', file, '--threads', '1'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stderr.split('\n');
      assert.equal(lines.length, 2, `stderr: ${JSON.stringify(r.stderr)}`);
      assert.equal(lines[1], '');
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u0000-\u001f\u007f]/.test(lines[0]), lines[0]);
      assert.ok(lines[0].length <= 'memlens: '.length + MAX_MESSAGE);
      assert.match(lines[0], pattern);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
