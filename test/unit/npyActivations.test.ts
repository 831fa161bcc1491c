import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { column } from '../../src/core/activations';
import { UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import {
  activationsFromNpy,
  layersFromSizes,
  readActivationsNpy,
} from '../../src/core/io/activationsNpy';

/** A version-1 .npy with any descr, written by hand (not by encodeNpy). */
function rawNpy(descr: string, shape: string, data: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}

/** Asserts a one-line UserError whose message contains every fragment. */
function refuses(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `not a UserError: ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'multi-line message');
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" lacks "${f}"`);
    return true;
  });
}

void test('reads S x N float32 and float64 row-major data into neuron-major columns', () => {
  // 4 examples x 3 neurons; value = 10 * example + neuron.
  const rows = [0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32];
  for (const make of [Float32Array, Float64Array]) {
    const loaded = activationsFromNpy(encodeNpy(make.from(rows), [4, 3]), 'a.npy');
    assert.equal(loaded.dtype, make === Float32Array ? 'float32' : 'float64');
    assert.equal(loaded.acts.samples, 4);
    assert.equal(loaded.acts.neurons, 3);
    assert.deepEqual(Array.from(column(loaded.acts, 1)), [1, 11, 21, 31]);
    assert.deepEqual(loaded.acts.layers, [{ name: 'all', start: 0, end: 3 }]);
    assert.equal(loaded.droppedRows, 0);
  }
});

void test('reads from a Node Buffer at a nonzero offset (fs.readFile) and from disk', async () => {
  const npy = encodeNpy(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [4, 2]);
  const padded = Buffer.concat([Buffer.from('xyz'), Buffer.from(npy)]).subarray(3);
  assert.deepEqual(Array.from(column(activationsFromNpy(padded, 'b.npy').acts, 1)), [2, 4, 6, 8]);
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-npy-'));
  const file = path.join(dir, 'acts.npy');
  writeFileSync(file, npy);
  const { acts } = await readActivationsNpy(file, { layerSizes: [1, 1] });
  assert.deepEqual(Array.from(column(acts, 0)), [1, 3, 5, 7]);
  assert.deepEqual(
    acts.layers.map((l) => [l.name, l.start, l.end]),
    [
      ['layer1', 0, 1],
      ['layer2', 1, 2],
    ],
  );
  await assert.rejects(readActivationsNpy(path.join(dir, 'missing.npy')), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(err.message, /missing\.npy: cannot read the file \(ENOENT\)/);
    return true;
  });
});

void test('refuses a file that is not .npy, and a truncated one', () => {
  refuses(
    () => activationsFromNpy(new TextEncoder().encode('a,b\n1,2\n'), 'x.csv'),
    'x.csv',
    'expected a .npy file',
  );
  const npy = encodeNpy(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [4, 2]);
  refuses(() => activationsFromNpy(npy.subarray(0, npy.length - 5), 't.npy'), 't.npy', 'truncated');
  refuses(() => activationsFromNpy(npy.subarray(0, 30), 't.npy'), 't.npy', 'truncated');
});

void test('refuses integer, bool, float16, complex and object dtypes', () => {
  const eight = new Uint8Array(32);
  refuses(
    () => activationsFromNpy(rawNpy('<i4', '(4, 2)', eight), 'i.npy'),
    "i.npy: unsupported dtype '<i4' (int32): expected float32 or float64 activations",
  );
  refuses(
    () => activationsFromNpy(rawNpy('|u1', '(4, 2)', eight), 'u.npy'),
    "'|u1' (uint8): expected float32 or float64",
  );
  refuses(() => activationsFromNpy(rawNpy('|b1', '(4, 2)', eight), 'b.npy'), "'|b1' (bool)");
  refuses(
    () => activationsFromNpy(rawNpy('<c16', '(1, 2)', eight), 'c.npy'),
    "c.npy: unsupported dtype '<c16' (complex128)",
  );
  refuses(
    () => activationsFromNpy(rawNpy('|O', '(1, 2)', eight), 'o.npy'),
    "o.npy: unsupported dtype '|O' (object)",
  );
  refuses(
    () => activationsFromNpy(rawNpy('<f2', '(4, 2)', new Uint8Array(16)), 'h.npy'),
    "h.npy: unsupported dtype '<f2' (float16): expected float32 or float64",
  );
});

void test('refuses arrays that are not 2-D, N = 0 and S < k + 1', () => {
  refuses(
    () => activationsFromNpy(encodeNpy(new Float32Array(6), [6]), 'v.npy'),
    'v.npy',
    'expected a 2-D',
    '1-D shape (6,)',
  );
  refuses(
    () => activationsFromNpy(encodeNpy(new Float32Array(8), [2, 2, 2]), 'c.npy'),
    '3-D shape (2, 2, 2)',
  );
  refuses(
    () => activationsFromNpy(encodeNpy(new Float32Array(0), [5, 0]), 'z.npy'),
    'z.npy',
    'at least one neuron',
    '(5, 0)',
  );
  refuses(
    () => activationsFromNpy(encodeNpy(new Float32Array(6), [3, 2]), 's.npy'),
    's.npy',
    'k + 1 = 4',
    'found 3',
  );
  refuses(
    () => activationsFromNpy(encodeNpy(new Float32Array(10), [5, 2]), 's.npy', { k: 5 }),
    'k + 1 = 6',
    'found 5',
  );
  assert.equal(
    activationsFromNpy(encodeNpy(new Float32Array(8), [4, 2]), 'ok.npy').acts.samples,
    4,
  );
});

void test('NaN/Inf: the error names the neuron and the count; drop-nonfinite drops those examples', () => {
  // 6 examples x 3 neurons: neuron 1 has NaN in examples 1 and 4, neuron 2 has Inf in 4.
  const rows = Float64Array.from([
    0,
    1,
    2,
    3,
    NaN,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    NaN,
    Infinity,
    15,
    16,
    17,
  ]);
  const npy = encodeNpy(rows, [6, 3]);
  refuses(
    () => activationsFromNpy(npy, 'n.npy'),
    'n.npy',
    '2 NaN/Inf in neuron (column) 1',
    '3 in 2 neurons',
    'drop-nonfinite',
  );
  const loaded = activationsFromNpy(npy, 'n.npy', { dropNonfinite: true });
  assert.equal(loaded.droppedRows, 2);
  assert.equal(loaded.acts.samples, 4);
  assert.deepEqual(Array.from(column(loaded.acts, 2)), [2, 8, 11, 17]);
  // Dropping can leave too few examples.
  refuses(
    () => activationsFromNpy(npy, 'n.npy', { dropNonfinite: true, k: 4 }),
    'k + 1 = 5',
    'found 4 after dropping 2',
  );
  const one = encodeNpy(Float32Array.from([0, Infinity, 2, 3, 4, 5, 6, 7]), [4, 2]);
  refuses(() => activationsFromNpy(one, 'o.npy'), '1 NaN/Inf in neuron (column) 1;');
});

void test('layer sizes must be positive integers summing to N', () => {
  assert.deepEqual(layersFromSizes([2, 3], 5, 'f.npy'), [
    { name: 'layer1', start: 0, end: 2 },
    { name: 'layer2', start: 2, end: 5 },
  ]);
  refuses(
    () => layersFromSizes([64, 64], 192, 'f.npy'),
    'f.npy',
    '64,64',
    '192 neurons',
    'found sum 128',
  );
  refuses(() => layersFromSizes([3, 0, 2], 5, 'f.npy'), 'positive integers');
  refuses(
    () => activationsFromNpy(encodeNpy(new Float32Array(8), [4, 2]), 'g.npy', { layerSizes: [1] }),
    'g.npy',
    'found sum 1',
  );
});
