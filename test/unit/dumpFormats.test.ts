import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { loadActivationDump, sidecarPath } from '../../src/core/dumps/loadDump';
import { UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { parseNpz } from '../../src/core/io/npz';
import { bfloat16ToNumber, halfToNumber, parseSafetensors } from '../../src/core/io/safetensors';
import { tempDir } from '../fixtures/capture/helpers';

const tmp = tempDir();
after(tmp.cleanup);

/** A .safetensors file from (name, dtype, shape, raw little-endian bytes) entries, written by hand. */
function safetensors(
  entries: [string, string, number[], Uint8Array][],
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, dtype, shape, bytes] of entries) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, , , bytes] of entries) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

const u16 = (...v: number[]): Uint8Array => new Uint8Array(Uint16Array.from(v).buffer);
const f32 = (...v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);
const f64 = (...v: number[]): Uint8Array => new Uint8Array(Float64Array.from(v).buffer);

function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  return assert.rejects(p, (e: unknown) => e instanceof UserError && pattern.test(e.message));
}

void describe('half-precision decoding', () => {
  void it('F16 and BF16 bit patterns give their IEEE values', () => {
    assert.equal(halfToNumber(0x3c00), 1);
    assert.equal(halfToNumber(0xc000), -2);
    assert.equal(halfToNumber(0x3555), 0.333251953125);
    assert.equal(halfToNumber(0x7bff), 65504);
    assert.equal(halfToNumber(0x0001), 2 ** -24);
    assert.equal(halfToNumber(0x7c00), Infinity);
    assert.ok(Number.isNaN(halfToNumber(0x7e00)));
    assert.equal(bfloat16ToNumber(0x3f80), 1);
    assert.equal(bfloat16ToNumber(0x4049), 3.140625);
    assert.equal(bfloat16ToNumber(0xc2f7), -123.5);
  });
});

void describe('activation dumps', () => {
  void it('.npz: one array per layer, named, in archive order, stored or deflated', async () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]); // 3 x 2
    const b = Float64Array.from([0.5, -1.5, 2.5]); // 3 (one neuron)
    for (const level of [0, 6] as const) {
      const file = path.join(tmp.dir, `acts${level}.npz`);
      writeFileSync(
        file,
        zipSync({ 'block.2.npy': encodeNpy(a, [3, 2]), 'cls.npy': encodeNpy(b, [3]) }, { level }),
      );
      const acts = await loadActivationDump(file);
      assert.equal(acts.samples, 3);
      assert.equal(acts.neurons, 3);
      assert.deepEqual(acts.layers, [
        { name: 'block.2', start: 0, end: 2 },
        { name: 'cls', start: 2, end: 3 },
      ]);
      // Neuron-major: column 0 is (1, 3, 5), column 1 (2, 4, 6), column 2 the 1-D array.
      assert.deepEqual(Array.from(acts.data), [1, 3, 5, 2, 4, 6, 0.5, -1.5, 2.5]);
    }
  });

  void it('.safetensors: F32, F64, F16, BF16 tensors, ordered by __metadata__.order', async () => {
    const bytes = safetensors(
      [
        ['z_first', 'F16', [2, 1], u16(0x3c00, 0xc000)],
        ['a_second', 'BF16', [2, 1], u16(0x4049, 0xc2f7)],
        ['m', 'F32', [2, 2], f32(0.25, 1.5, -3, 8)],
        ['d', 'F64', [2], f64(1e-300, -7)],
      ],
      { order: 'm, z_first, a_second, d' },
    );
    const file = path.join(tmp.dir, 'acts.safetensors');
    writeFileSync(file, bytes);
    const acts = await loadActivationDump(file);
    assert.deepEqual(
      acts.layers.map((l) => [l.name, l.start, l.end]),
      [
        ['m', 0, 2],
        ['z_first', 2, 3],
        ['a_second', 3, 4],
        ['d', 4, 5],
      ],
    );
    assert.deepEqual(
      Array.from(acts.data),
      [0.25, -3, 1.5, 8, 1, -2, 3.140625, -123.5, 1e-300, -7],
    );
    // Without an order: header order.
    assert.deepEqual(
      parseSafetensors(
        safetensors([
          ['q', 'F32', [1], f32(2)],
          ['p', 'F32', [1], f32(3)],
        ]),
        'x',
      ).map((t) => t.name),
      ['q', 'p'],
    );
  });

  void it('.npy: one S x N matrix, with layer ranges from the capture sidecar when present', async () => {
    const file = path.join(tmp.dir, 'dump.npy');
    writeFileSync(
      file,
      encodeNpy(
        Float32Array.from({ length: 15 }, (_, i) => i),
        [5, 3],
      ),
    );
    const plain = await loadActivationDump(file);
    assert.deepEqual(plain.layers, [{ name: 'all', start: 0, end: 3 }]);
    assert.deepEqual(Array.from(plain.data.subarray(0, 5)), [0, 3, 6, 9, 12]);
    writeFileSync(
      sidecarPath(file),
      JSON.stringify({
        layers: [
          { name: 'a', start: 0, end: 1 },
          { name: 'b', start: 1, end: 3 },
        ],
      }),
    );
    assert.equal(sidecarPath(file), path.join(tmp.dir, 'dump.layers.json'));
    const named = await loadActivationDump(file);
    assert.deepEqual(named.layers, [
      { name: 'a', start: 0, end: 1 },
      { name: 'b', start: 1, end: 3 },
    ]);
    writeFileSync(sidecarPath(file), JSON.stringify({ layers: [{ name: 'a', start: 0, end: 2 }] }));
    await rejectsWith(
      loadActivationDump(file),
      /dump\.layers\.json: expected layers with contiguous column ranges covering 3 columns/,
    );
  });

  void it('refuses bad dumps with one-line errors', async () => {
    const bad = (name: string, bytes: Uint8Array): string => {
      const file = path.join(tmp.dir, name);
      writeFileSync(file, bytes);
      return file;
    };
    await rejectsWith(
      loadActivationDump(bad('i32.safetensors', safetensors([['x', 'I32', [1], f32(1)]]))),
      /tensor 'x' has dtype I32: expected F32, F64, F16 or BF16/,
    );
    await rejectsWith(
      loadActivationDump(bad('short.safetensors', safetensors([['x', 'F32', [4], f32(1)]]))),
      /tensor 'x' F32\[4\] needs 16 bytes/,
    );
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1000n, true);
    await rejectsWith(
      loadActivationDump(bad('hdr.safetensors', huge)),
      /expected a \.safetensors header of at most 8 bytes, found a length of 1000/,
    );
    await rejectsWith(
      loadActivationDump(
        bad(
          'ragged.npz',
          zipSync({
            'a.npy': encodeNpy(new Float32Array(4), [4, 1]),
            'b.npy': encodeNpy(new Float32Array(3), [3, 1]),
          }),
        ),
      ),
      /array 'b' has 3 samples: expected 4 like 'a'/,
    );
    await rejectsWith(
      loadActivationDump(
        bad('cube.npz', zipSync({ 'a.npy': encodeNpy(new Float32Array(8), [2, 2, 2]) })),
      ),
      /array 'a' has shape \[2, 2, 2\]: expected samples x neurons/,
    );
    await rejectsWith(
      loadActivationDump(
        bad('nan.npz', zipSync({ 'a.npy': encodeNpy(Float32Array.from([1, NaN]), [2, 1]) })),
      ),
      /found NaN in 'a' at sample 1, neuron 0/,
    );
    await rejectsWith(
      loadActivationDump(bad('junk.npz', new Uint8Array([0x50, 0x4b, 3, 4, 9, 9]))),
      /junk\.npz: expected a readable \.npz zip archive/,
    );
    await rejectsWith(
      loadActivationDump(bad('notes.txt', new Uint8Array([104, 105]))),
      /expected activations in \.npy, \.npz or \.safetensors, found a '\.txt' file/,
    );
    assert.throws(
      () => parseNpz(zipSync({ 'readme.txt': new Uint8Array(1) }), 'r.npz'),
      /expected only \.npy members in the \.npz archive, found 'readme\.txt'/,
    );
  });
});
