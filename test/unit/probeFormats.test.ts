import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { after, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { MAX_IMAGE_PIXELS, decodeImage } from '../../src/core/probe/images';
import { loadProbe } from '../../src/core/probe/loadProbe';
import { tempDir } from '../fixtures/capture/helpers';

const tmp = tempDir();
after(tmp.cleanup);

function write(name: string, contents: string | Uint8Array): string {
  const file = path.join(tmp.dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, contents);
  return file;
}

/** A .npy with an integer dtype, header written by hand (encodeNpy writes floats only). */
function npyU8(values: number[], shape: number[]): Uint8Array {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + values.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(values, 10 + header.length);
  return out;
}

/** PNG of RGB rows (each pixel [r, g, b]), opaque. */
function png(width: number, height: number, rgb: number[][]): Uint8Array {
  const img = new PNG({ width, height });
  rgb.forEach(([r, g, b], i) => img.data.set([r, g, b, 255], i * 4));
  return PNG.sync.write(img);
}

/** A PNG written chunk by hand (valid CRCs), so that its header can declare anything. */
function rawPng(
  width: number,
  height: number,
  idat: Uint8Array,
  opts: { interlaced?: boolean; colorType?: number } = {},
): Uint8Array {
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    out.set(data, 8);
    out.writeUInt32BE(zlib.crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, opts.colorType ?? 2, 0, 0, opts.interlaced ? 1 : 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A baseline JPEG header (SOI, an APP0, SOF0) declaring `width` x `height`, then junk. */
function rawJpegHeader(width: number, height: number): Uint8Array {
  return Uint8Array.from([
    0xff,
    0xd8,
    0xff,
    0xe0,
    0,
    4,
    0,
    0,
    0xff,
    0xc0,
    0,
    17,
    8,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    3,
    1,
    0x11,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
    0xff,
    0xda,
    0,
    2,
  ]);
}

function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

void describe('probe formats', () => {
  void it('.npy float and uint8 arrays, batch first; a 1-D array is a batch of scalars', async () => {
    const f = await loadProbe(
      write('p.npy', encodeNpy(Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2])),
    );
    assert.deepEqual(f.shape, [3, 2]);
    assert.deepEqual(Array.from(f.data), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(f.sampleIndices, [0, 1, 2]);
    const u = await loadProbe(write('u.npy', npyU8([0, 128, 255, 7], [2, 2])));
    assert.deepEqual(Array.from(u.data), [0, 128, 255, 7]); // converted, not rescaled
    const s = await loadProbe(write('s.npy', encodeNpy(Float64Array.from([4, 5]), [2])));
    assert.deepEqual(s.shape, [2, 1]);
  });

  void it('.npz: the only array, the one named x/input, or the one asked for', async () => {
    const one = await loadProbe(
      write('one.npz', zipSync({ 'data.npy': encodeNpy(Float32Array.from([1, 2]), [2, 1]) })),
    );
    assert.deepEqual(Array.from(one.data), [1, 2]);
    const xy = write(
      'xy.npz',
      zipSync({
        'y.npy': encodeNpy(Float32Array.from([9, 9]), [2, 1]),
        'x.npy': encodeNpy(Float32Array.from([3, 4]), [2, 1]),
      }),
    );
    assert.deepEqual(Array.from((await loadProbe(xy)).data), [3, 4]);
    assert.deepEqual(Array.from((await loadProbe(xy, { array: 'y' })).data), [9, 9]);
    const ab = write(
      'ab.npz',
      zipSync({
        'a.npy': encodeNpy(new Float32Array(2), [2, 1]),
        'b.npy': encodeNpy(new Float32Array(2), [2, 1]),
      }),
    );
    await rejectsWith(
      loadProbe(ab),
      /ab\.npz: expected one array, or one named x, input or inputs, found arrays a, b/,
    );
  });

  void it('.csv with or without a header, comma or tab', async () => {
    const a = await loadProbe(write('h.csv', 'f1,f2,f3\n1,2,3\n4.5,-6,7e-1\n'));
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual(Array.from(a.data), [1, 2, 3, 4.5, -6, Math.fround(0.7)]);
    const b = await loadProbe(write('n.csv', '1,2\r\n3,4\r\n\r\n'));
    assert.deepEqual(b.shape, [2, 2]);
    const t = await loadProbe(write('t.tsv', 'a\tb\n1\t2\n'));
    assert.deepEqual(Array.from(t.data), [1, 2]);
    await rejectsWith(
      loadProbe(write('r.csv', '1,2\n3\n')),
      /r\.csv: line 2: expected 2 values like the first row, found 1/,
    );
    await rejectsWith(
      loadProbe(write('w.csv', 'a,b\n1,2\n3,x\n')),
      /w\.csv: line 3: expected numeric cells, found 'x'/,
    );
  });

  void it('.jsonl: arrays or {"input": ...}, nested arrays keep their shape', async () => {
    const a = await loadProbe(
      write('a.jsonl', '[1, 2]\n{"input": [3, 4], "label": 1}\n\n[5, 6]\n'),
    );
    assert.deepEqual(a.shape, [3, 2]);
    assert.deepEqual(Array.from(a.data), [1, 2, 3, 4, 5, 6]);
    const n = await loadProbe(write('n.jsonl', '[[1,2,3],[4,5,6]]\n[[7,8,9],[10,11,12]]\n'));
    assert.deepEqual(n.shape, [2, 2, 3]);
    await rejectsWith(
      loadProbe(write('m.jsonl', '[1,2]\n[1,2,3]\n')),
      /m\.jsonl: line 2: expected an example of shape \[2\] like the first, found \[3\]/,
    );
    await rejectsWith(
      loadProbe(write('o.jsonl', '{"x": [1]}\n')),
      /line 1: expected an array or \{"input": \.\.\.\}/,
    );
  });

  void it('draws a deterministic subset of the requested size', async () => {
    const rows = 50;
    const file = write('big.csv', Array.from({ length: rows }, (_, i) => `${i},${-i}`).join('\n'));
    const a = await loadProbe(file, { samples: 7, seed: 3 });
    const b = await loadProbe(file, { samples: 7, seed: 3 });
    const c = await loadProbe(file, { samples: 7, seed: 4 });
    assert.deepEqual(a.sampleIndices, b.sampleIndices);
    assert.notDeepEqual(a.sampleIndices, c.sampleIndices);
    assert.equal(new Set(a.sampleIndices).size, 7);
    assert.deepEqual(
      [...a.sampleIndices].sort((x, y) => x - y),
      a.sampleIndices,
    );
    assert.deepEqual(a.shape, [7, 2]);
    // Row k of the file is (k, -k): each kept example is the row it claims to be.
    a.sampleIndices.forEach((k, i) =>
      assert.deepEqual(Array.from(a.data.subarray(2 * i, 2 * i + 2)), [k, -k]),
    );
    const warnings: string[] = [];
    const all = await loadProbe(file, { samples: 80, onWarning: (m) => warnings.push(m) });
    assert.equal(all.shape[0], rows);
    assert.match(warnings[0], /80 samples requested, the probe set holds 50/);
  });

  void it('refuses NaN, empty sets and examples that do not fit the model input', async () => {
    await rejectsWith(
      loadProbe(write('nan.csv', '1,2\n3,nan\n')),
      /nan\.csv: expected finite probe values, found NaN in example 1 \(value 1\)/,
    );
    await rejectsWith(
      loadProbe(write('nan.npy', encodeNpy(Float32Array.from([1, NaN]), [2, 1]))),
      /found NaN in example 1/,
    );
    await rejectsWith(
      loadProbe(write('empty.csv', 'a,b\n')),
      /empty\.csv: expected at least one probe example, found an empty probe set/,
    );
    const six = write('six.csv', '1,2,3,4,5,6\n');
    assert.deepEqual((await loadProbe(six, { inputShape: [null, 2, 3] })).shape, [1, 2, 3]);
    await rejectsWith(
      loadProbe(six, { inputShape: [null, 28, 28, 1] }),
      /six\.csv: probe does not fit the model: expected examples of shape \[28, 28, 1\], found \[6\]/,
    );
    await rejectsWith(
      loadProbe(write('p.bin', 'xx')),
      /expected a probe set \(\.npy, \.npz, \.csv, \.jsonl or a folder of PNG\/JPEG images\), found a '\.bin' file/,
    );
  });

  void it('image folders: PNG and JPEG, sorted, resized bilinearly, scaled, gray or RGB, NHWC or NCHW', async () => {
    // A 2 x 1 image black|white resized to 4 x 1 with half-pixel centres samples the source at
    // x = -0.25, 0.25, 0.75, 1.25 (clamped): 0, 63.75, 191.25, 255.
    write(
      'img/b/2.png',
      png(2, 1, [
        [0, 0, 0],
        [255, 255, 255],
      ]),
    );
    write('img/a/1.png', png(1, 1, [[255, 0, 0]]));
    const gray = await loadProbe(path.join(tmp.dir, 'img'), {
      inputShape: [null, 1, 4, 1],
      imageScale: '0-255',
    });
    assert.deepEqual(gray.shape, [2, 1, 4, 1]);
    // a/1.png first: pure red -> luma 0.299 * 255 everywhere.
    gray.data.subarray(0, 4).forEach((v) => assert.ok(Math.abs(v - 0.299 * 255) < 1e-3));
    assert.deepEqual(Array.from(gray.data.subarray(4)), [0, 63.75, 191.25, 255]);
    const rgb = await loadProbe(path.join(tmp.dir, 'img'), { inputShape: [null, 3, 1, 5] });
    assert.deepEqual(rgb.shape, [2, 3, 1, 5]); // channels first: the R plane, then G, then B
    assert.deepEqual(
      Array.from(rgb.data.subarray(0, 15)),
      [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    );
    const neg = await loadProbe(path.join(tmp.dir, 'img'), {
      inputShape: [null, 1, 4, 3],
      imageScale: 'neg1-1',
    });
    assert.deepEqual(Array.from(neg.data.subarray(12, 15)), [-1, -1, -1]);

    const jpg = encodeJpeg({ width: 8, height: 8, data: Buffer.alloc(8 * 8 * 4, 200) }, 100);
    write('jpg/x.jpg', jpg.data);
    const j = await loadProbe(path.join(tmp.dir, 'jpg'), {
      inputShape: [null, 2, 2, 3],
      imageScale: '0-255',
    });
    j.data.forEach((v) => assert.ok(Math.abs(v - 200) <= 2, `jpeg value ${v}`));
  });

  void it('an image declaring more than 100 megapixels is refused from its header', async () => {
    assert.equal(MAX_IMAGE_PIXELS, 100_000_000);
    // 20000 x 20000 RGB would decode to 1.6 GB of RGBA (and pngjs holds it three times).
    const bigPng = rawPng(20000, 20000, zlib.deflateSync(Buffer.alloc(1000)));
    assert.throws(
      () => decodeImage(bigPng, 'big.png'),
      (e: unknown) =>
        e instanceof UserError &&
        /^big\.png: expected an image of at most 100,000,000 pixels, found 20000 x 20000 \(400,000,000 pixels\) in its PNG header$/.test(
          e.message,
        ),
    );
    assert.throws(
      () => decodeImage(rawJpegHeader(20000, 20000), 'big.jpg'),
      /big\.jpg: expected an image of at most 100,000,000 pixels, found 20000 x 20000 \(400,000,000 pixels\) in its JPEG header/,
    );
    // A small header passes: the (fake) data is what fails to decode.
    assert.throws(
      () => decodeImage(rawJpegHeader(100, 100), 'ok.jpg'),
      /ok\.jpg: cannot decode the image: expected a valid JPEG/,
    );
    // In a folder, the image is named and can be skipped like any other that does not decode.
    write('huge/a.png', bigPng);
    write('huge/b.png', png(1, 1, [[1, 2, 3]]));
    await rejectsWith(
      loadProbe(path.join(tmp.dir, 'huge'), { inputShape: [null, 1, 1, 3] }),
      /huge\/a\.png: expected an image of at most 100,000,000 pixels/,
    );
    const skipped = await loadProbe(path.join(tmp.dir, 'huge'), {
      inputShape: [null, 1, 1, 3],
      onBadImage: 'skip',
    });
    assert.deepEqual(skipped.sampleIndices, [1]);
  });

  void it('an interlaced PNG whose data inflates past its size is refused; a real one decodes', () => {
    // Adam7 on 1 x 1: pass 1 holds the only pixel (a filter byte and RGB), the rest are empty.
    const one = decodeImage(
      rawPng(1, 1, zlib.deflateSync(Uint8Array.of(0, 10, 20, 30)), { interlaced: true }),
      'one.png',
    );
    assert.deepEqual(Array.from(one.data), [10, 20, 30, 255]);
    // 100 x 100 RGB needs at most 31,400 bytes; this stream inflates to 4 MiB.
    const bomb = rawPng(100, 100, zlib.deflateSync(Buffer.alloc(4 << 20)), { interlaced: true });
    assert.throws(
      () => decodeImage(bomb, 'bomb.png'),
      /bomb\.png: expected the image data of a 100 x 100 PNG \(at most 31400 bytes inflated\), found more/,
    );
  });

  void it('an image that fails to decode is named; skipped or fatal as asked', async () => {
    write('bad/1.png', png(1, 1, [[10, 20, 30]]));
    write('bad/2.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    write('bad/3.jpg', png(1, 1, [[90, 90, 90]])); // a PNG named .jpg decodes by its bytes
    const dir = path.join(tmp.dir, 'bad');
    await rejectsWith(
      loadProbe(dir, { inputShape: [null, 1, 1, 3] }),
      /bad\/2\.png: cannot decode the image: expected a valid PNG/,
    );
    const warnings: string[] = [];
    const p = await loadProbe(dir, {
      inputShape: [null, 1, 1, 3],
      onBadImage: 'skip',
      onWarning: (m) => warnings.push(m),
    });
    assert.deepEqual(p.sampleIndices, [0, 2]);
    assert.equal(p.shape[0], 2);
    assert.match(warnings[0], /skipped: .*2\.png/);
    mkdirSync(path.join(tmp.dir, 'none'));
    await rejectsWith(
      loadProbe(path.join(tmp.dir, 'none')),
      /expected PNG or JPEG images in the folder, found none/,
    );
  });
});
