// An .npz dump read by columns (openDumpColumns, src/core/dumps/dumpColumns.ts, over the zip
// directory read from the file, src/core/io/zip.ts and npz.ts): an np.savez archive opens by
// its directory and .npy headers, its members' CRC-32 streamed once in bounded reads, and only
// the columns asked for are read, with the values loadActivationDump reads whole; an archive
// with deflated members (np.savez_compressed) is left to the whole read. A hostile or damaged
// archive is refused in one line naming the file, with the whole read's message.
import { after, mock, test } from 'node:test';
import { zipSync } from 'fflate';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { ActivationMatrix } from '../../src/core/activations';
import { openDumpColumns } from '../../src/core/dumps/dumpColumns';
import { loadActivationDump } from '../../src/core/dumps/loadDump';
import { UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { Rng } from '../../src/core/random';
import { joinNpy, mutateNpy, zip } from '../fuzz/formats';
import { caseSeed, FuzzRng, mutateBytes } from '../fuzz/mutate';
import { NUMPY2_SAVEZ, savez } from '../fixtures/savez';

const dir = mkdtempSync(path.join(tmpdir(), 'memlens-npz-columns-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** Every column of the dump open by columns, neuron-major, as loadActivationDump's data. */
async function readByColumns(file: string) {
  const opened = await openDumpColumns(file);
  assert.ok(opened !== undefined, `${file} is read by columns`);
  try {
    const { dump, layers } = opened;
    const all = Array.from({ length: dump.neurons }, (_, c) => c);
    return { samples: dump.samples, layers, data: dump.read(all) };
  } finally {
    opened.dump.close();
  }
}

/** Asserts that `file` read by columns gives the samples, layers and values read whole. */
async function readsAsWhole(file: string): Promise<ActivationMatrix> {
  const whole = await loadActivationDump(file);
  const got = await readByColumns(file);
  assert.equal(got.samples, whole.samples);
  assert.deepEqual(got.layers, whole.layers);
  assert.deepEqual(got.data, whole.data);
  return whole;
}

/**
 * Asserts that openDumpColumns refuses `file` with a one-line UserError naming it and matching
 * `pattern`, and that the whole read refuses it with the same message.
 */
async function refusedAlike(file: string, pattern: RegExp): Promise<void> {
  let message = '';
  await assert.rejects(openDumpColumns(file), (err: unknown) => {
    assert.ok(err instanceof UserError, String(err));
    message = err.message;
    return true;
  });
  assert.ok(message.startsWith(`${file}:`) && !/[\r\n]/.test(message), message);
  assert.match(message, pattern);
  await assert.rejects(loadActivationDump(file), (err: Error) => err.message === message);
}

/** Rows x columns float32 values, seeded. */
function normals(rows: number, cols: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: rows * cols }, () => rng.normal());
}

/** A .npy header of `descr` and `shape` (C order unless `fortran`). */
const header = (descr: string, shape: string, fortran = false) =>
  `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;

/** The numpy archive of the hostile cases: a (4 x 3 float32) and b (4 x 2 float64). */
function numpyArchive(name: string): { file: string; bytes: Buffer } {
  const file = path.join(dir, name);
  savez(file, {
    a: { data: normals(4, 3, 1), shape: [4, 3] },
    b: { data: Float64Array.from(normals(4, 2, 2)), shape: [4, 2] },
  });
  return { file, bytes: readFileSync(file) };
}

void test('np.savez arrays read by columns are those read whole: layers by key in archive order, float32, float64 and 1-D; any columns, any rows', async () => {
  const file = path.join(dir, 'acts.npz');
  savez(file, {
    z: { data: normals(7, 3, 3), shape: [7, 3] },
    b: { data: Float64Array.from(normals(7, 1, 4)), shape: [7] },
    a: { data: normals(7, 2, 5), shape: [7, 2] },
  });
  const whole = await readsAsWhole(file);
  assert.deepEqual(whole.layers, [
    { name: 'z', start: 0, end: 3 },
    { name: 'b', start: 3, end: 4 },
    { name: 'a', start: 4, end: 6 },
  ]);
  const opened = (await openDumpColumns(file))!;
  const keep = Uint8Array.from([1, 0, 0, 1, 1, 0, 1]);
  const got = opened.dump.read([1, 3, 5], keep);
  opened.dump.close();
  const rows = [0, 3, 4, 6];
  const want = [1, 3, 5].flatMap((c) => rows.map((s) => whole.data[c * 7 + s]));
  assert.deepEqual(got, Float64Array.from(want));
  // A zip stored by another writer (fflate: no zip64 local headers) alike.
  const members = {
    'h.npy': encodeNpy(normals(5, 4, 6), [5, 4]),
    'g.npy': encodeNpy(Float64Array.from(normals(5, 2, 7)), [5, 2]),
  };
  await readsAsWhole(write('fflate.npz', zip(members, 0)));
  // numpy 2's, with zip64 local headers.
  const numpy2 = await readsAsWhole(write('numpy2.npz', Buffer.from(NUMPY2_SAVEZ, 'base64')));
  assert.deepEqual([...numpy2.data.subarray(0, 4)], [0, 4, 8, 1]);
});

void test('np.savez_compressed, integer arrays and an .npz that is no zip are left to the whole read', async () => {
  const deflated = path.join(dir, 'deflated.npz');
  savez(deflated, { a: { data: normals(6, 2, 8), shape: [6, 2] } }, 'savez_compressed');
  assert.equal(await openDumpColumns(deflated), undefined);
  assert.equal((await loadActivationDump(deflated)).neurons, 2);
  // One member deflated of two: the archive is read whole.
  const a = encodeNpy(normals(6, 2, 8), [6, 2]);
  const mixed = write(
    'mixed.npz',
    zipSync({ 'a.npy': [a, { level: 0 }], 'b.npy': [a, { level: 6 }] }),
  );
  assert.equal(await openDumpColumns(mixed), undefined);
  assert.equal((await loadActivationDump(mixed)).neurons, 4);
  const ints = joinNpy(header('<i4', '(2, 2)'), new Uint8Array(Int32Array.of(1, 2, 3, 4).buffer));
  const intFile = write('ints.npz', zip({ 'a.npy': ints }, 0));
  assert.equal(await openDumpColumns(intFile), undefined);
  assert.deepEqual([...(await loadActivationDump(intFile)).data], [1, 3, 2, 4]);
  // An .npy named .npz: loadActivationDump reads it as an .npy.
  const npy = write('npy.npz', encodeNpy(normals(4, 2, 9), [4, 2]));
  assert.equal(await openDumpColumns(npy), undefined);
  assert.equal((await loadActivationDump(npy)).neurons, 2);
});

void test('opening streams each member once in reads of at most 16 MiB (the CRC-32); two columns then read only their span of each row', async () => {
  const S = 1100;
  const wide = 4000; // 17.6 MB of float32: past one 16 MiB read
  const big = Float32Array.from({ length: S * wide }, (_, i) => (i % 977) - 488);
  const small = normals(S, 4, 10);
  const file = path.join(dir, 'big.npz');
  savez(file, { big: { data: big, shape: [S, wide] }, small: { data: small, shape: [S, 4] } });
  const size = statSync(file).size;
  const lengths: number[] = [];
  const readSync = fs.readSync;
  const spy = mock.method(fs, 'readSync', (...args: unknown[]) => {
    lengths.push(args[3] as number);
    return (readSync as (...a: unknown[]) => number)(...args);
  });
  try {
    const opened = (await openDumpColumns(file))!;
    const opening = [...lengths];
    const total = opening.reduce((n, x) => n + x, 0);
    assert.ok(Math.max(...opening) <= 16 * 2 ** 20, `a read of ${Math.max(...opening)} bytes`);
    assert.ok(opening.filter((n) => n === 16 * 2 ** 20).length >= 1, 'the big member in chunks');
    // Every member's bytes once, the directory and headers, and no more.
    assert.ok(total >= big.byteLength + small.byteLength && total < size + 70_000, `${total}`);
    lengths.length = 0;
    const got = opened.dump.read([5, 9, wide + 1]);
    opened.dump.close();
    assert.ok(Math.max(...lengths) <= 5 * 4, `a read of ${Math.max(...lengths)} bytes`);
    assert.equal(
      lengths.reduce((n, x) => n + x, 0),
      S * (5 * 4 + 4),
      'each row: columns 5 to 9 of big, 1 of small',
    );
    for (let s = 0; s < S; s += 97) {
      assert.equal(got[s], big[s * wide + 5]);
      assert.equal(got[S + s], big[s * wide + 9]);
      assert.equal(got[2 * S + s], small[s * 4 + 1]);
    }
  } finally {
    spy.mock.restore();
  }
  // A byte damaged past the first 16 MiB of the member: refused at open.
  const bytes = readFileSync(file);
  bytes[16.5 * 2 ** 20] ^= 0x40;
  await refusedAlike(
    write('big-damaged.npz', bytes),
    /: member 'big\.npy': expected CRC-32 [0-9a-f]{8} as declared, found [0-9a-f]{8} \(damaged data\)$/,
  );
});

void test('a truncated archive, a local header unlike the central directory, a bad CRC-32: one line naming the file, before any column', async () => {
  const { bytes } = numpyArchive('good.npz');
  const ends = /no end-of-central-directory record \(truncated or not a zip\?\)$/;
  for (const cut of [bytes.length - 10, bytes.length >> 1, 40])
    await refusedAlike(write(`cut${cut}.npz`, bytes.subarray(0, cut)), ends);
  // The end record's directory offset past the end.
  const past = Buffer.from(bytes);
  past.writeUInt32LE(bytes.length, bytes.length - 22 + 16);
  await refusedAlike(
    write('past.npz', past),
    /a central directory \(\d+ bytes at \d+\) that runs past/,
  );
  // The local headers (the first 'a.npy' and 'b.npy' in the file) changed one field at a time.
  const local = (member: string) => bytes.indexOf(member) - 30;
  const changed = (name: string, edit: (b: Buffer, at: number) => void) => {
    const b = Buffer.from(bytes);
    edit(b, local('b.npy'));
    return write(name, b);
  };
  await refusedAlike(
    changed('name.npz', (b, at) => b.write('x', at + 30, 'latin1')),
    /expected a readable \.npz zip archive, found member 'b\.npy' whose local header declares the name 'x\.npy', not the name of the central directory$/,
  );
  await refusedAlike(
    changed('method.npz', (b, at) => b.writeUInt16LE(8, at + 8)),
    /member 'b\.npy' whose local header declares compression method 8, not the method 0 of the central directory$/,
  );
  await refusedAlike(
    changed('crc.npz', (b, at) => b.writeUInt32LE(0x12345678, at + 14)),
    /member 'b\.npy' whose local header declares CRC-32 12345678, not the CRC-32 [0-9a-f]{8} of the central directory$/,
  );
  // The size, or where numpy 2's local header says 0xffffffff, its zip64 extra field's.
  for (const [name, archive] of [
    ['size.npz', bytes],
    ['size2.npz', Buffer.from(NUMPY2_SAVEZ, 'base64')],
  ] as const) {
    const b = Buffer.from(archive);
    const at = b.indexOf('b.npy') - 30;
    b.writeUInt32LE(7, b.readUInt32LE(at + 22) === 0xffffffff ? at + 30 + 5 + 4 : at + 22);
    await refusedAlike(
      write(name, b),
      /member 'b\.npy' whose local header declares sizes 7 \(\d+ compressed\), not the sizes \d+ \(\d+ compressed\) of the central directory$/,
    );
  }
  // A value of a stored member damaged.
  const flipped = Buffer.from(bytes);
  flipped[local('b.npy') - 3] ^= 0x01;
  await refusedAlike(
    write('flip.npz', flipped),
    /: member 'a\.npy': expected CRC-32 [0-9a-f]{8} as declared, found [0-9a-f]{8} \(damaged data\)$/,
  );
});

void test('members that are not S x n arrays: one line naming the file and the member or array', async () => {
  const data = new Uint8Array(64);
  const npy = (descr: string, shape: string, bytes = data, fortran = false) =>
    joinNpy(header(descr, shape, fortran), bytes);
  const a = npy('<f4', '(4, 4)');
  for (const [name, members, message] of [
    [
      'cube',
      { 'a.npy': a, 'h.npy': npy('<f4', '(2, 2, 4)') },
      /array 'h' has shape \[2, 2, 4\]: expected samples x neurons \(2-D\)$/,
    ],
    [
      'scalar',
      { 'h.npy': npy('<f8', '()', data.subarray(0, 8)) },
      /array 'h' has shape \[\]: expected samples x neurons/,
    ],
    [
      'rows',
      { 'a.npy': a, 'b.npy': npy('<f4', '(2, 8)') },
      /array 'b' has 2 samples: expected 4 like 'a'$/,
    ],
    [
      'fortran',
      { 'a.npy': npy('<f4', '(4, 4)', data, true) },
      /:a\.npy: expected C-order data, found fortran_order=True/,
    ],
    [
      'short',
      { 'a.npy': npy('<f4', '(4, 8)') },
      /:a\.npy: truncated \.npy data: shape \(4, 8\) needs 128 bytes, found 64$/,
    ],
    [
      'huge',
      { 'a.npy': npy('<f4', '(1000000000000, 1000000)') },
      /:a\.npy: truncated \.npy data: shape \(1000000000000, 1000000\) needs/,
    ],
    ['dtype', { 'a.npy': npy('<c8', '(4, 2)') }, /:a\.npy: unsupported dtype '<c8'/],
    [
      'header',
      { 'a.npy': new TextEncoder().encode('not a numpy file') },
      /:a\.npy: expected a \.npy file \(magic \\x93NUMPY\)/,
    ],
    [
      'empty',
      { 'a.npy': npy('<f4', '(0, 4)', new Uint8Array(0)) },
      /expected at least one sample and one neuron, found 0 x 4$/,
    ],
    [
      'other',
      { 'a.npy': a, 'notes.txt': new Uint8Array(3) },
      /expected only \.npy members in the \.npz archive, found 'notes\.txt'$/,
    ],
    [
      'none',
      { 'dir/': new Uint8Array(0) },
      /expected at least one array in the \.npz archive, found none$/,
    ],
  ] as const)
    await refusedAlike(write(`${name}.npz`, zip(members, 0)), message);
});

void test('mutated np.savez archives: a refusal by columns is the whole read’s, one line; an archive opened reads as the whole read', async () => {
  const { bytes } = numpyArchive('seed.npz');
  const a = encodeNpy(normals(4, 3, 1), [4, 3]);
  const b = encodeNpy(Float64Array.from(normals(4, 2, 2)), [4, 2]);
  // Most byte mutations on the local headers, the central directory and the end record.
  const cd = bytes.lastIndexOf('PK\x01\x02', bytes.lastIndexOf('PK\x01\x02') - 1);
  let opened = 0;
  let refused = 0;
  for (let i = 0; i < 300; i++) {
    const rng = new FuzzRng(caseSeed(7, 'npzColumns', i));
    const { value, desc } =
      i % 3 === 2
        ? { value: zip({ 'a.npy': mutateNpy(rng, a).value, 'b.npy': b }, 0), desc: 'npy' }
        : mutateBytes(rng, bytes, { hot: i % 3 === 0 ? [cd, bytes.length] : [0, 100] });
    const file = write(`m${i}.npz`, value);
    let columns: Awaited<ReturnType<typeof openDumpColumns>>;
    try {
      columns = await openDumpColumns(file);
    } catch (err) {
      const message = (err as Error).message;
      assert.ok(err instanceof UserError, `${desc}: ${String(err)}`);
      assert.ok(message.startsWith(`${file}:`) && !/[\r\n]/.test(message), `${desc}: ${message}`);
      await assert.rejects(
        loadActivationDump(file),
        (e: Error) => e.message === message,
        `${desc}: ${message}`,
      );
      refused++;
      continue;
    }
    if (columns === undefined) continue;
    columns.dump.close();
    opened++;
    // NaN or Inf (a damaged value) the whole read refuses; the scan of a shard refuses too.
    const whole = await loadActivationDump(file).catch((e: Error) => e);
    if (whole instanceof Error) assert.match(whole.message, /expected finite activations/, desc);
    else await readsAsWhole(file);
  }
  assert.ok(opened > 20 && refused > 50, `${opened} opened, ${refused} refused`);
});
