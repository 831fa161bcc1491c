// The bounded zip reader (src/core/io/zip.ts) behind .npz and .keras: crafted bombs, lies
// and damage are refused in one line, before or while inflating, without the memory they ask for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { zipSync } from 'fflate';
import { UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { parseNpz } from '../../src/core/io/npz';
import { crc32, readZip } from '../../src/core/io/zip';
import { NUMPY2_SAVEZ } from '../fixtures/savez';

const MIB = 1 << 20;
const GIB = 1 << 30;

/** One member of a hand-made archive: its bytes as stored in the file and what it declares. */
interface RawMember {
  name: string;
  /** The member's data as it lies in the archive (deflated when method is 8). */
  payload: Uint8Array;
  method?: number;
  /** Declared uncompressed size (default: payload length). */
  size?: number;
  /** Declared CRC-32 (default: that of the payload). */
  crc?: number;
  flags?: number;
  /** Central-directory extra field. */
  extra?: Uint8Array;
  /** Local header offset to declare instead of the real one. */
  offset?: number;
}

function cat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A zip archive written by hand, so that every header field can lie. */
function rawZip(members: RawMember[], tail: Uint8Array = new Uint8Array(0)): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const m of members) {
    const name = new TextEncoder().encode(m.name);
    const extra = m.extra ?? new Uint8Array(0);
    const size = m.size ?? m.payload.length;
    const crc = m.crc ?? crc32(m.payload);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, m.flags ?? 0, true);
    lv.setUint16(8, m.method ?? 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, Math.min(m.payload.length, 0xffffffff), true);
    lv.setUint32(22, Math.min(size, 0xffffffff), true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length + extra.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, m.flags ?? 0, true);
    cv.setUint16(10, m.method ?? 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, Math.min(m.payload.length, 0xffffffff), true);
    cv.setUint32(24, Math.min(size, 0xffffffff), true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(42, m.offset ?? offset, true);
    cd.set(name, 46);
    cd.set(extra, 46 + name.length);
    parts.push(local, m.payload);
    central.push(cd);
    offset += local.length + m.payload.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, members.length, true);
  ev.setUint16(10, members.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset + tail.length, true);
  return cat([...parts, tail, ...central, end]);
}

/**
 * A raw deflate stream of `n` zero bytes (n a multiple of 1 MiB), about 1 KB per MiB: one
 * full-flushed block of 1 MiB of zeros (byte-aligned, window reset) repeated, then an empty
 * final block.
 */
function deflatedZeros(n: number): Uint8Array {
  const block = zlib.deflateRawSync(Buffer.alloc(MIB), {
    level: 9,
    finishFlush: zlib.constants.Z_FULL_FLUSH,
  });
  return cat([...Array.from({ length: n / MIB }, () => block), Uint8Array.of(3, 0)]);
}

const npyMember = (name: string, values: number[]): RawMember => ({
  name,
  payload: encodeNpy(Float32Array.from(values), [values.length, 1]),
});

/** Peak resident memory of this process so far, bytes. */
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

/** Runs `f`, which must throw a one-line UserError naming `file` and matching `pattern`. */
function refuses(f: () => unknown, file: string, pattern: RegExp): string {
  let message = '';
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    message = e.message;
    return true;
  });
  assert.ok(message.startsWith(`${file}: `), message);
  assert.ok(!/[\r\n]/.test(message), message);
  assert.match(message, pattern);
  return message;
}

/**
 * Runs `f` and asserts that the peak resident memory of the process grew by less than `bytes`
 * (a 1 GiB bomb inflated would show; the peak is the process's, so earlier peaks only hide).
 */
function withinMemory(bytes: number, f: () => void): void {
  const before = peakRss();
  f();
  const grew = peakRss() - before;
  assert.ok(grew < bytes, `peak RSS grew by ${(grew / MIB).toFixed(0)} MiB`);
}

void describe('bounded zip reader: bombs', () => {
  const zeros = deflatedZeros(GIB);

  void it('an honest 1 GiB member of zeros in 1 MB (1000:1) is refused before inflating', () => {
    const file = rawZip([{ name: 'x.npy', payload: zeros, method: 8, size: GIB, crc: 0 }]);
    withinMemory(128 * MIB, () =>
      refuses(() => parseNpz(file, 'bomb.npz'), 'bomb.npz', /'x\.npy'.*at most 100x.*1\.0 GiB/),
    );
  });

  void it('a member declaring 1 KiB but inflating to 1 GiB stops at its declared size', () => {
    const file = rawZip([
      npyMember('a.npy', [1, 2, 3]),
      { name: 'x.npy', payload: zeros, method: 8, size: 1024 },
    ]);
    withinMemory(128 * MIB, () =>
      refuses(
        () => parseNpz(file, 'liar.npz'),
        'liar.npz',
        /'x\.npy': expected 1024 bytes as declared, found a deflate stream producing more/,
      ),
    );
  });

  void it('sizes deflate cannot produce (zip64 too), or over the budget, are refused unread', () => {
    refuses(
      () =>
        parseNpz(
          rawZip([{ name: 'x.npy', payload: Uint8Array.of(3, 0), method: 8, size: 3 * GIB }]),
          'huge.npz',
        ),
      'huge.npz',
      /expected at most 1032x its 2 deflated bytes, found a declared size of 3221225472 bytes/,
    );
    // 5 GiB declared through a zip64 extra field (the 32-bit size field says 0xffffffff).
    const zip64 = new Uint8Array(4 + 8);
    const zv = new DataView(zip64.buffer);
    zv.setUint16(0, 0x0001, true);
    zv.setUint16(2, 8, true);
    zv.setBigUint64(4, 5n * BigInt(GIB), true);
    const big = rawZip([
      { name: 'x.npy', payload: zeros.subarray(0, 8), method: 8, size: 5 * GIB, extra: zip64 },
    ]);
    refuses(
      () => parseNpz(big, 'zip64.npz'),
      'zip64.npz',
      /found a declared size of 5368709120 bytes \(5\.0 GiB; a zip bomb\?\)/,
    );
    // The budget on what is read together (4 GiB by default), here lowered to 1 KiB.
    const two = rawZip([
      { name: 'a.bin', payload: new Uint8Array(800) },
      { name: 'b.bin', payload: new Uint8Array(800) },
    ]);
    refuses(
      () => readZip(two, 'two.zip', () => true, { archive: 'a zip', limit: 1024 }),
      'two.zip',
      /expected at most 1\.0 KiB uncompressed in the zip members read, found 1\.6 KiB declared/,
    );
    assert.equal(
      readZip(two, 'two.zip', (n) => n === 'a.bin', { archive: 'a zip', limit: 1024 }).members.size,
      1,
    );
  });

  void it('members sharing compressed data (overlapping files) are refused', () => {
    const a = npyMember('a.npy', [1, 2, 3]);
    const file = rawZip([a, { ...npyMember('b.npy', [1, 2, 3]), offset: 0 }]);
    refuses(() => parseNpz(file, 'overlap.npz'), 'overlap.npz', /overlapping 'a\.npy'/);
  });

  void it('only the members asked for are inflated: a bomb elsewhere is never read', () => {
    const file = rawZip([
      { name: 'config.json', payload: new TextEncoder().encode('{}') },
      { name: 'assets/bomb.bin', payload: zeros, method: 8, size: 1024 },
    ]);
    withinMemory(64 * MIB, () => {
      const { entries, members } = readZip(file, 'model.keras', (n) => n === 'config.json', {
        archive: 'a .keras zip archive',
      });
      assert.deepEqual(
        entries.map((e) => e.name),
        ['config.json', 'assets/bomb.bin'],
      );
      assert.deepEqual([...members.keys()], ['config.json']);
    });
    // In an .npz every member must be an array: a bomb named otherwise is refused by name.
    refuses(
      () =>
        parseNpz(rawZip([{ name: 'readme.txt', payload: zeros, method: 8, size: 1024 }]), 'r.npz'),
      'r.npz',
      /expected only \.npy members in the \.npz archive, found 'readme\.txt'/,
    );
  });
});

void describe('bounded zip reader: damage and unsupported archives', () => {
  void it('a CRC-32 that does not match the data is refused, stored or deflated', () => {
    const npy = encodeNpy(Float32Array.from([1, 2, 3, 4]), [4, 1]);
    refuses(
      () => parseNpz(rawZip([{ name: 'a.npy', payload: npy, crc: 0x12345678 }]), 'crc.npz'),
      'crc.npz',
      /'a\.npy': expected CRC-32 12345678 as declared, found [0-9a-f]{8} \(damaged data\)/,
    );
    const deflated = zlib.deflateRawSync(npy);
    refuses(
      () =>
        parseNpz(
          rawZip([{ name: 'a.npy', payload: deflated, method: 8, size: npy.length, crc: 1 }]),
          'crc8.npz',
        ),
      'crc8.npz',
      /expected CRC-32 00000001 as declared/,
    );
    // A flipped byte inside a zipSync archive's stored member.
    const good = zipSync({ 'a.npy': [npy, { level: 0 }] });
    const bad = good.slice();
    bad[bad.indexOf(0x93) + 40] ^= 0xff;
    assert.equal(parseNpz(good, 'good.npz')[0].array.shape.join(), '4,1');
    refuses(() => parseNpz(bad, 'flip.npz'), 'flip.npz', /expected CRC-32/);
  });

  void it('crc32 agrees with zlib', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
    assert.equal(crc32(data), zlib.crc32(data));
    assert.equal(crc32(new Uint8Array(0)), 0);
  });

  void it('encrypted members, other methods, zip64 and split archives are refused in one line', () => {
    const npy = encodeNpy(Float32Array.from([1, 2]), [2, 1]);
    refuses(
      () => parseNpz(rawZip([{ name: 'a.npy', payload: npy, flags: 1 }]), 'enc.npz'),
      'enc.npz',
      /'a\.npy': expected an unencrypted zip member, found an encrypted one/,
    );
    refuses(
      () => parseNpz(rawZip([{ name: 'a.npy', payload: npy, method: 12 }]), 'bz.npz'),
      'bz.npz',
      /expected a stored or deflated zip member, found compression method 12 \(bzip2\)/,
    );
    // A zip64 end-of-central-directory locator right before the end record.
    const withLocator = rawZip([{ name: 'a.npy', payload: npy }]);
    const locator = new Uint8Array(20);
    new DataView(locator.buffer).setUint32(0, 0x07064b50, true);
    const z64 = cat([
      withLocator.subarray(0, withLocator.length - 22),
      locator,
      withLocator.subarray(-22),
    ]);
    refuses(() => parseNpz(z64, 'z64.npz'), 'z64.npz', /found a zip64 archive/);
    const split = rawZip([{ name: 'a.npy', payload: npy }]);
    new DataView(split.buffer).setUint16(split.length - 22 + 4, 1, true);
    refuses(() => parseNpz(split, 'split.npz'), 'split.npz', /multi-disk/);
    refuses(
      () => parseNpz(rawZip([npyMember('a.npy', [1]), npyMember('a.npy', [2])]), 'dup.npz'),
      'dup.npz',
      /expected unique member names in the zip archive, found 'a\.npy' twice/,
    );
  });

  void it('a truncated archive names the missing end record', () => {
    const good = zipSync({ 'a.npy': encodeNpy(Float32Array.from([1, 2]), [2, 1]) });
    refuses(
      () => parseNpz(good.subarray(0, good.length - 10), 'cut.npz'),
      'cut.npz',
      /expected a readable \.npz zip archive, found no end-of-central-directory record/,
    );
    // The central directory of a member cut off mid-data.
    refuses(
      () => parseNpz(good.subarray(0, 40), 'cut2.npz'),
      'cut2.npz',
      /expected a readable \.npz zip archive/,
    );
  });

  void it('a hostile member name is quoted short and printable', () => {
    const name = `\x1b[31m${'x'.repeat(500)}.txt`;
    const message = refuses(
      () => parseNpz(rawZip([{ name, payload: new Uint8Array(4) }]), 'names.npz'),
      'names.npz',
      /expected only \.npy members/,
    );
    assert.ok(!message.includes('\x1b'), message);
    assert.ok(message.length < 160, message);
  });
});

void describe('bounded zip reader: real numpy archives', () => {
  // np.savez (NUMPY2_SAVEZ) and np.savez_compressed of numpy 2.4, with zip64 local headers.
  const SAVEZ_COMPRESSED =
    'UEsDBC0AAAAIAAAAIQAtbyIm//////////8FABQAYS5ucHkBABAAsAAAAAAAAABmAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loG6TZqKuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GsY6CiaaOgq1CmQDLgYwaLAHEg5ABMQNQLwAiA8A8QMgZnBkYBAAYgUgNnAEAFBLAwQtAAAACAAAACEAnsiZ0f//////////BQAUAGIubnB5AQAQALAAAAAAAAAATQAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2ahrqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RrGOgpGmjoKtQpkAy4GMPhgTywNAFBLAQItAy0AAAAIAAAAIQAtbyImZgAAALAAAAAFAAAAAAAAAAAAAACAAQAAAABhLm5weVBLAQItAy0AAAAIAAAAIQCeyJnRTQAAALAAAAAFAAAAAAAAAAAAAACAAZ0AAABiLm5weVBLBQYAAAAAAgACAGYAAAAhAQAAAAA=';
  for (const [label, text] of [
    ['stored (np.savez)', NUMPY2_SAVEZ],
    ['deflated (np.savez_compressed)', SAVEZ_COMPRESSED],
  ]) {
    void it(`${label}, with zip64 local headers`, () => {
      const arrays = parseNpz(Buffer.from(text, 'base64'), 'numpy.npz');
      assert.deepEqual(
        arrays.map((a) => [
          a.name,
          a.array.shape,
          Array.from(a.array.data as ArrayLike<number>).slice(0, 4),
        ]),
        [
          ['a', [3, 4], [0, 1, 2, 3]],
          ['b', [3, 2], [1, 1, 1, 1]],
        ],
      );
    });
  }
});
