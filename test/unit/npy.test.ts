import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeNpy, parseNpy } from '../../src/core/io/npy';
import { UserError } from '../../src/core/errors';

/** A version-1.0 .npy built byte by byte, independent of encodeNpy. */
function handMadeNpy(descr: string, shape: string, payload: number[]): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(payload)]);
}

void test('parseNpy reads a hand-made float32 file passed as a Node Buffer inside a larger pool', () => {
  // 1.0f = 00 00 80 3f, -2.5f = 00 00 20 c0 (IEEE 754 little-endian).
  const file = handMadeNpy('<f4', '(1, 2)', [0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0]);
  // Place it at an offset in a bigger buffer, as fs.readFile's pooled Buffers may be.
  const pool = Buffer.alloc(file.length + 7);
  file.copy(pool, 7);
  const arr = parseNpy(pool.subarray(7), 'a.npy');
  assert.deepEqual(arr.shape, [1, 2]);
  assert.equal(arr.dtype, 'f4');
  assert.deepEqual(Array.from(arr.data as Float32Array), [1, -2.5]);
});

void test('encodeNpy round-trips through parseNpy with a 64-byte aligned header', () => {
  const data = new Float64Array([0.5, -1, 3, 1e-300, 7, 8]);
  const bytes = encodeNpy(data, [3, 2]);
  assert.equal((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64, 0);
  const arr = parseNpy(bytes, 'b.npy');
  assert.deepEqual(arr.shape, [3, 2]);
  assert.deepEqual(Array.from(arr.data as Float64Array), Array.from(data));
});

void test('parseNpy refuses truncated data, naming the file and the sizes', () => {
  const file = handMadeNpy('<f8', '(2,)', [0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  assert.throws(
    () => parseNpy(file, 'short.npy'),
    (e: unknown) =>
      e instanceof UserError &&
      /^short\.npy: truncated \.npy data: shape \(2\) needs 16 bytes, found 8$/.test(e.message),
  );
  assert.throws(
    () => parseNpy(Buffer.from('PK\x03\x04'), 'z.npy'),
    /z\.npy: expected a \.npy file/,
  );
});
