// Format-aware mutations for the fuzzer: they reach past a container's own checks (a zip
// member's CRC, a PNG chunk's CRC, a .npy header's padding, a safetensors header length) so the
// reader behind it sees the damage. Each takes a FuzzRng and returns the new bytes and a
// description; test/fuzz/cases.ts chooses among them per reader.
import * as zlib from 'node:zlib';
import { unzipSync, zipSync } from 'fflate';
import type { FuzzRng, Mutated } from './mutate';
import { jsonText, mutateBytes, mutateBytesStacked, mutateJson } from './mutate';

// ---- zip (.npz, .keras) ----

export type ZipMembers = Record<string, Uint8Array>;

export function unzip(bytes: Uint8Array): ZipMembers {
  return unzipSync(bytes);
}

/** A zip of `members` in the given order, stored (level 0) or deflated. */
export function zip(members: ZipMembers, level: 0 | 6 = 0): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(members).map(([k, v]) => [k, [v, { level }]])), {
    mtime: new Date('1980-01-01T00:00:00Z'),
  });
}

const MIB = 1 << 20;
let zeroBlock: Buffer | undefined;

/**
 * A raw deflate stream of `n` zero bytes, a few KB per GiB: one full-flushed block of 1 MiB of
 * zeros (a full flush resets the window and ends byte-aligned, so the block can be repeated),
 * repeated, then the rest and an empty final block.
 */
export function deflatedZeros(n: number): Uint8Array {
  const flush = { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH };
  zeroBlock ??= zlib.deflateRawSync(Buffer.alloc(MIB), flush);
  const block = zeroBlock;
  const rest = zlib.deflateRawSync(Buffer.alloc(n % MIB), flush);
  return cat([
    ...Array.from({ length: Math.floor(n / MIB) }, () => block),
    rest,
    Uint8Array.of(3, 0),
  ]);
}

/** CRC-32 of `n` zero bytes. */
function zeroCrc(n: number): number {
  const block = Buffer.alloc(MIB);
  let c = 0;
  for (let done = 0; done < n; done += MIB)
    c = zlib.crc32(block.subarray(0, Math.min(MIB, n - done)), c);
  return c >>> 0;
}

/** The size a zip bomb member inflates to: 3 GiB, more than the fuzzer's memory cap. */
const BOMB_SIZE = 3 * 1024 * MIB;
let bombCache: { data: Uint8Array; crc: number } | undefined;

/**
 * A zip bomb: the archive with one member replaced by 3 GiB of deflated zeros (3 MB), its size
 * declared truthfully or (`lying`) as 1 KiB. Built by hand (fflate cannot store pre-compressed
 * data): the member's local and central headers get method 8, the sizes and the CRC.
 */
export function zipBomb(members: ZipMembers, victim: string, lying = false): Uint8Array {
  bombCache ??= { data: deflatedZeros(BOMB_SIZE), crc: zeroCrc(BOMB_SIZE) };
  const data = bombCache.data;
  const crc = bombCache.crc;
  const size = lying ? 1024 : BOMB_SIZE;
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, body] of Object.entries(members)) {
    const isVictim = name === victim;
    const nameBytes = new TextEncoder().encode(name);
    const payload = isVictim ? data : body;
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, isVictim ? 8 : 0, true);
    lv.setUint32(14, isVictim ? crc : crc32(body), true);
    lv.setUint32(18, payload.length, true);
    lv.setUint32(22, isVictim ? size : body.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const cd = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, isVictim ? 8 : 0, true);
    cv.setUint32(16, isVictim ? crc : crc32(body), true);
    cv.setUint32(20, payload.length, true);
    cv.setUint32(24, isVictim ? size : body.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    cd.set(nameBytes, 46);
    parts.push(local, payload);
    central.push(cd);
    offset += local.length + payload.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, central.length, true);
  ev.setUint16(10, central.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  return cat([...parts, ...central, end]);
}

/**
 * A structural mutation of a zip archive: a member removed, duplicated under another name,
 * renamed (also to '../name' or an absolute path), reordered, emptied, or a zip bomb.
 */
export function mutateZipStructure(
  rng: FuzzRng,
  members: ZipMembers,
  level: 0 | 6,
): Mutated<Uint8Array> {
  const names = Object.keys(members);
  const victim = rng.pick(names);
  const op = rng.weighted<string>([
    [2, 'remove'],
    [1, 'duplicate'],
    [2, 'rename'],
    [1, 'reorder'],
    [1, 'empty'],
    [1, 'bomb'],
  ]);
  const copy: ZipMembers = { ...members };
  switch (op) {
    case 'remove':
      delete copy[victim];
      return { value: zip(copy, level), desc: `zip: remove member ${victim}` };
    case 'duplicate': {
      const to = rng.pick([`${victim}.copy`, `x/${victim}`, victim.toUpperCase()]);
      copy[to] = members[victim];
      return { value: zip(copy, level), desc: `zip: duplicate ${victim} as ${to}` };
    }
    case 'rename': {
      const to = rng.pick([
        `../${victim}`,
        `/${victim}`,
        `${victim}/`,
        `${victim}.bak`,
        'x',
        `sub/${victim}`,
      ]);
      const renamed: ZipMembers = {};
      for (const n of names) renamed[n === victim ? to : n] = members[n];
      return { value: zip(renamed, level), desc: `zip: rename ${victim} -> ${to}` };
    }
    case 'reorder': {
      const reordered: ZipMembers = {};
      for (const n of [...names].reverse()) reordered[n] = members[n];
      return { value: zip(reordered, level), desc: 'zip: members in reverse order' };
    }
    case 'empty':
      copy[victim] = new Uint8Array(0);
      return { value: zip(copy, level), desc: `zip: empty member ${victim}` };
    default: {
      const lying = rng.chance(0.5);
      return {
        value: zipBomb(members, victim, lying),
        desc: `zip bomb: ${victim} inflates to 3 GiB${lying ? ' (declared 1 KiB)' : ''}`,
      };
    }
  }
}

// ---- CRC-32 (zip, PNG) ----

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(bytes: Uint8Array, start = 0xffffffff): number {
  let c = start;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function cat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- .npy ----

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** The header text and data of a version 1-3 .npy (as written by numpy or encodeNpy). */
export function splitNpy(bytes: Uint8Array): { header: string; data: Uint8Array } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const len = major === 1 ? v.getUint16(8, true) : v.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  return {
    header: new TextDecoder('latin1').decode(bytes.subarray(start, start + len)),
    data: bytes.subarray(start + len),
  };
}

/** A .npy with the given header text (padded to 64 bytes and ended with \n) and data bytes. */
export function joinNpy(header: string, data: Uint8Array, major: 1 | 2 | 3 = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  let h = header.replace(/\s*$/, '');
  h += ' '.repeat((64 - ((pre + h.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + h.length + data.length);
  out.set(NPY_MAGIC, 0);
  out[6] = major;
  const v = new DataView(out.buffer);
  if (major === 1) v.setUint16(8, Math.min(h.length, 0xffff), true);
  else v.setUint32(8, h.length, true);
  for (let i = 0; i < h.length; i++) out[pre + i] = h.charCodeAt(i) & 0xff;
  out.set(data, pre + h.length);
  return out;
}

const DESCRS = [
  '<f4',
  '<f8',
  '>f4',
  '>f8',
  '<f2',
  '<f16',
  '<c8',
  '|b1',
  '|u1',
  '<i8',
  '<u8',
  '<i4',
  '|O',
  '<U8',
  '|S4',
  '|V8',
  '<M8[s]',
  'f4',
  '',
  "[('a', '<f4')]",
];
const SHAPE_DIMS = [
  '0',
  '1',
  '-1',
  '2',
  '3',
  '65536',
  '2147483648',
  '9007199254740993',
  '1e3',
  '3L',
];

/**
 * A mutation of a .npy header dict (the data bytes stay): another descr, fortran_order,
 * shape (dims replaced, added or dropped; a huge count), a key missing, repeated or added, a
 * broken literal, the header length field off, another format version, or a byte-level
 * mutation of the header.
 */
export function mutateNpy(rng: FuzzRng, bytes: Uint8Array): Mutated<Uint8Array> {
  const { header, data } = splitNpy(bytes);
  const m = /\{'descr': '([^']*)', 'fortran_order': (\w+), 'shape': \(([^)]*)\), \}/.exec(header);
  if (m === null) return mutateBytesStacked(rng, bytes, { hot: [0, 128] });
  const [, descr, fortran, shapeText] = m;
  const dims = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const build = (d: string, f: string, s: string, extra = ''): string =>
    `{'descr': ${d}, 'fortran_order': ${f}, 'shape': ${s}, ${extra}}`;
  const tuple = (ds: string[]): string => (ds.length === 1 ? `(${ds[0]},)` : `(${ds.join(', ')})`);
  const q = (s: string): string => `'${s}'`;
  const op = rng.weighted<string>([
    [3, 'descr'],
    [1, 'fortran'],
    [4, 'shape'],
    [2, 'keys'],
    [1, 'literal'],
    [1, 'length'],
    [1, 'version'],
    [3, 'bytes'],
  ]);
  switch (op) {
    case 'descr': {
      const d = rng.pick(DESCRS);
      const text = d.startsWith('[') ? d : q(d);
      return {
        value: joinNpy(build(text, fortran, tuple(dims)), data),
        desc: `npy header: descr ${text}`,
      };
    }
    case 'fortran': {
      const f = rng.pick(['True', '1', "'False'", 'None', 'false']);
      return {
        value: joinNpy(build(q(descr), f, tuple(dims)), data),
        desc: `npy header: fortran_order ${f}`,
      };
    }
    case 'shape': {
      const ds = [...dims];
      const kind = rng.pick(['dim', 'add', 'drop', 'empty', 'many', 'huge']);
      if (kind === 'dim' && ds.length > 0) ds[rng.int(ds.length)] = rng.pick(SHAPE_DIMS);
      else if (kind === 'add') ds.splice(rng.int(ds.length + 1), 0, rng.pick(SHAPE_DIMS));
      else if (kind === 'drop') ds.splice(rng.int(ds.length), 1);
      else if (kind === 'empty') ds.length = 0;
      else if (kind === 'many') for (let i = 0; i < 40; i++) ds.push('2');
      else ds.splice(0, ds.length, '4294967296', '4294967296');
      return {
        value: joinNpy(build(q(descr), fortran, tuple(ds)), data),
        desc: `npy header: shape ${tuple(ds)}`,
      };
    }
    case 'keys': {
      const variants: [string, string][] = [
        [`{'descr': ${q(descr)}, 'shape': ${tuple(dims)}, }`, 'no fortran_order'],
        [`{'fortran_order': ${fortran}, 'shape': ${tuple(dims)}, }`, 'no descr'],
        [`{'descr': ${q(descr)}, 'fortran_order': ${fortran}, }`, 'no shape'],
        [build(q(descr), fortran, tuple(dims), "'descr': '<f8', "), 'descr twice'],
        [build(q(descr), fortran, tuple(dims), "'extra': 1, "), 'an extra key'],
        [build(q(descr), fortran, `[${dims.join(', ')}]`), 'shape as a list'],
        [build(q(descr), fortran, q(dims.join(','))), 'shape as a string'],
      ];
      const [h, what] = rng.pick(variants);
      return { value: joinNpy(h, data), desc: `npy header: ${what}` };
    }
    case 'literal': {
      const variants = [
        header.replace('}', ''),
        header.replace('{', '{{'),
        header.replace(/'/g, '"'),
        `${header.trim()} trailing`,
        header.replace("'descr'", "'de\\x73cr'"),
        `__import__('os').system('true') or ${header.trim()}`,
        header.replace(/\(/, '(0x10, '),
        header.replace(/ /g, '\u00a0'),
      ];
      const h = rng.pick(variants);
      return {
        value: joinNpy(h, data),
        desc: `npy header: literal ${JSON.stringify(h.slice(0, 60))}`,
      };
    }
    case 'length': {
      const out = new Uint8Array(bytes);
      const v = new DataView(out.buffer);
      const to = rng.pick([0, 1, 0xffff, v.getUint16(8, true) - 1, v.getUint16(8, true) + 64]);
      v.setUint16(8, to & 0xffff, true);
      return { value: out, desc: `npy: header length field -> ${to & 0xffff}` };
    }
    case 'version': {
      const major = rng.pick([0, 2, 3, 4, 0xff]);
      if (major === 2 || major === 3) {
        return { value: joinNpy(header, data, major), desc: `npy: version ${major}.0` };
      }
      const out = new Uint8Array(bytes);
      out[6] = major;
      return { value: out, desc: `npy: version byte ${major}` };
    }
    default:
      return mutateBytesStacked(rng, bytes, { hot: [0, 10 + header.length + 16] });
  }
}

// ---- .safetensors ----

export function encodeSafetensors(header: unknown, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(jsonText(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function splitSafetensors(bytes: Uint8Array): { header: unknown; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return {
    header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))),
    data: bytes.subarray(8 + n),
  };
}

/**
 * A mutation of a .safetensors file: a structural mutation of its JSON header (the length field
 * kept right), the header length field set to an interesting value, the data truncated, or a
 * byte-level mutation (mostly in the header).
 */
export function mutateSafetensors(rng: FuzzRng, bytes: Uint8Array): Mutated<Uint8Array> {
  const { header, data } = splitSafetensors(bytes);
  const op = rng.weighted<string>([
    [6, 'json'],
    [1, 'length'],
    [1, 'data'],
    [2, 'bytes'],
  ]);
  if (op === 'json') {
    const m = mutateJson(rng, header, /dtype|shape|data_offsets|order|__metadata__/);
    return { value: encodeSafetensors(m.value, data), desc: `safetensors header: ${m.desc}` };
  }
  if (op === 'length') {
    const out = new Uint8Array(bytes);
    const len = rng.pick([
      0n,
      1n,
      2n,
      0xffffffffn,
      2n ** 53n,
      2n ** 64n - 1n,
      BigInt(bytes.length),
    ]);
    new DataView(out.buffer).setBigUint64(0, len, true);
    return { value: out, desc: `safetensors: header length ${len}` };
  }
  if (op === 'data') {
    const m = mutateBytes(rng, data);
    return { value: encodeSafetensors(header, m.value), desc: `safetensors data: ${m.desc}` };
  }
  const headerEnd = bytes.length - data.length;
  return mutateBytesStacked(rng, bytes, { hot: [0, headerEnd] });
}

// ---- PNG ----

interface PngChunk {
  type: string;
  data: Uint8Array;
}

export function pngChunks(bytes: Uint8Array): PngChunk[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: PngChunk[] = [];
  for (let at = 8; at + 12 <= bytes.length;) {
    const len = v.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    out.push({ type, data: bytes.slice(at + 8, at + 8 + len) });
    at += 12 + len;
  }
  return out;
}

/** A PNG of the given chunks, each with a correct CRC (unless `badLength` names one to lie in). */
export function pngFrom(chunks: PngChunk[]): Uint8Array {
  const sig = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
  const parts: Uint8Array[] = [sig];
  for (const c of chunks) {
    const head = new Uint8Array(8);
    new DataView(head.buffer).setUint32(0, c.data.length);
    for (let i = 0; i < 4; i++) head[4 + i] = c.type.charCodeAt(i);
    const crc = new Uint8Array(4);
    new DataView(crc.buffer).setUint32(0, crc32(cat([head.subarray(4), c.data])));
    parts.push(head, c.data, crc);
  }
  return cat(parts);
}

const PNG_BOMB_SIDE = 32768;
let pngBombCache: Uint8Array | undefined;
/** IDAT data (a zlib stream) of a 32768 x 32768 8-bit grey image of zeros: 1 GiB inflated. */
function pngBombIdat(): Uint8Array {
  if (pngBombCache === undefined) {
    const n = PNG_BOMB_SIDE * (PNG_BOMB_SIDE + 1);
    // Adler-32 of n zeros: a = 1, b = n mod 65521.
    const adler = new Uint8Array(4);
    new DataView(adler.buffer).setUint32(0, (((n % 65521) << 16) | 1) >>> 0);
    pngBombCache = cat([Uint8Array.of(0x78, 0xda), deflatedZeros(n), adler]);
  }
  return pngBombCache;
}

/**
 * A mutation of a PNG that keeps every chunk's CRC right: an IHDR field (width, height, bit
 * depth, colour type, interlace) set to an interesting value, a chunk's data mutated, a chunk
 * removed, duplicated or moved, an unknown or oversized chunk added, a decompression bomb
 * (32768 x 32768 zeros); or a byte-level mutation that breaks a CRC.
 */
export function mutatePng(rng: FuzzRng, bytes: Uint8Array): Mutated<Uint8Array> {
  const chunks = pngChunks(bytes);
  const op = rng.weighted<string>([
    [4, 'ihdr'],
    [3, 'chunk-data'],
    [2, 'chunks'],
    [1, 'bomb'],
    [2, 'bytes'],
  ]);
  if (op === 'ihdr') {
    const ihdr = chunks.find((c) => c.type === 'IHDR');
    if (ihdr !== undefined && ihdr.data.length >= 13) {
      const d = new Uint8Array(ihdr.data);
      const v = new DataView(d.buffer);
      const field = rng.pick(['width', 'height', 'both', 'depth', 'colour', 'interlace', 'filter']);
      const big = rng.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 65535, 1 << 20, 100000]);
      if (field === 'width') v.setUint32(0, big);
      else if (field === 'height') v.setUint32(4, big);
      else if (field === 'both') {
        v.setUint32(0, big);
        v.setUint32(4, big);
      } else if (field === 'depth') d[8] = rng.pick([0, 1, 2, 4, 16, 3, 255]);
      else if (field === 'colour') d[9] = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 255]);
      else if (field === 'interlace') d[12] = rng.pick([1, 2, 255]);
      else d[11] = rng.pick([1, 255]);
      ihdr.data = d;
      return {
        value: pngFrom(chunks),
        desc: `png IHDR ${field} -> ${field === 'width' || field === 'height' || field === 'both' ? big : 'another value'} (CRC fixed)`,
      };
    }
  }
  if (op === 'chunk-data') {
    const i = rng.int(chunks.length);
    const m = mutateBytes(rng, chunks[i].data);
    chunks[i] = { ...chunks[i], data: m.value };
    return { value: pngFrom(chunks), desc: `png ${chunks[i].type} data: ${m.desc} (CRC fixed)` };
  }
  if (op === 'chunks') {
    const i = rng.int(chunks.length);
    const what = rng.pick(['remove', 'duplicate', 'move-first', 'unknown', 'text']);
    if (what === 'remove') chunks.splice(i, 1);
    else if (what === 'duplicate') chunks.splice(i, 0, chunks[i]);
    else if (what === 'move-first') chunks.unshift(...chunks.splice(i, 1));
    else if (what === 'unknown') chunks.splice(i, 0, { type: 'ZZZZ', data: new Uint8Array(64) });
    else
      chunks.splice(1, 0, {
        type: 'zTXt',
        data: cat([
          new TextEncoder().encode('k\0\0'),
          Uint8Array.of(0x78, 0xda),
          deflatedZeros(1 << 30),
        ]),
      });
    return { value: pngFrom(chunks), desc: `png chunks: ${what} ${chunks[i]?.type ?? ''}` };
  }
  if (op === 'bomb') {
    const ihdr = new Uint8Array(13);
    const v = new DataView(ihdr.buffer);
    v.setUint32(0, PNG_BOMB_SIDE);
    v.setUint32(4, PNG_BOMB_SIDE);
    ihdr[8] = 8;
    ihdr[9] = 0;
    return {
      value: pngFrom([
        { type: 'IHDR', data: ihdr },
        { type: 'IDAT', data: pngBombIdat() },
        { type: 'IEND', data: new Uint8Array(0) },
      ]),
      desc: `png bomb: ${PNG_BOMB_SIDE} x ${PNG_BOMB_SIDE} grey zeros (1 GiB inflated)`,
    };
  }
  return mutateBytesStacked(rng, bytes, { hot: [0, 64] });
}

// ---- JPEG ----

/** Offsets of the JPEG markers before the scan data (SOI, APPn, DQT, SOF, DHT, SOS). */
function jpegSegments(bytes: Uint8Array): { marker: number; at: number; len: number }[] {
  const out: { marker: number; at: number; len: number }[] = [];
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    const len = (bytes[at + 2] << 8) | bytes[at + 3];
    out.push({ marker, at, len });
    if (marker === 0xda) break;
    at += 2 + len;
  }
  return out;
}

/**
 * A mutation of a JPEG: the frame's height, width, precision or component count set to an
 * interesting value, a segment's length field changed, a segment duplicated or removed, bytes
 * mutated inside a table, or a byte-level mutation anywhere.
 */
export function mutateJpeg(rng: FuzzRng, bytes: Uint8Array): Mutated<Uint8Array> {
  const segs = jpegSegments(bytes);
  const sof = segs.find((s) => s.marker === 0xc0 || s.marker === 0xc2);
  const op = rng.weighted<string>([
    [4, 'sof'],
    [2, 'length'],
    [2, 'segment'],
    [3, 'table'],
    [3, 'bytes'],
  ]);
  const out = new Uint8Array(bytes);
  const v = new DataView(out.buffer);
  if (op === 'sof' && sof !== undefined) {
    const field = rng.pick(['height', 'width', 'both', 'precision', 'components']);
    const val = rng.pick([0, 1, 0xffff, 0x8000, 20000, 65500]);
    if (field === 'height') v.setUint16(sof.at + 5, val);
    else if (field === 'width') v.setUint16(sof.at + 7, val);
    else if (field === 'both') {
      v.setUint16(sof.at + 5, val);
      v.setUint16(sof.at + 7, val);
    } else if (field === 'precision') out[sof.at + 4] = rng.pick([0, 12, 16, 255]);
    else out[sof.at + 9] = rng.pick([0, 2, 4, 255]);
    return { value: out, desc: `jpeg SOF ${field} -> ${val}` };
  }
  if (op === 'length' && segs.length > 0) {
    const s = rng.pick(segs);
    const len = rng.pick([0, 1, 2, 0xffff, s.len - 1, s.len + 1]);
    v.setUint16(s.at + 2, len & 0xffff);
    return { value: out, desc: `jpeg segment 0x${s.marker.toString(16)} length -> ${len}` };
  }
  if (op === 'segment' && segs.length > 1) {
    const s = rng.pick(segs.filter((x) => x.marker !== 0xda));
    const seg = bytes.subarray(s.at, s.at + 2 + s.len);
    const dup = rng.chance(0.5);
    const value = dup
      ? cat([bytes.subarray(0, s.at), seg, seg, bytes.subarray(s.at)])
      : cat([bytes.subarray(0, s.at), bytes.subarray(s.at + 2 + s.len)]);
    return {
      value,
      desc: `jpeg segment 0x${s.marker.toString(16)} ${dup ? 'duplicated' : 'removed'}`,
    };
  }
  if (op === 'table' && segs.length > 0) {
    const s = rng.pick(segs);
    return mutateBytesStacked(rng, bytes, { hot: [s.at + 4, s.at + 2 + s.len], noTruncate: true });
  }
  const scan = segs.find((s) => s.marker === 0xda);
  return mutateBytesStacked(rng, bytes, { hot: [0, scan?.at ?? 64] });
}

// ---- JSON embedded in a binary (the model_config of a Keras .h5) ----

/** The [start, end) range of the JSON object that starts with `prefix` in `bytes`. */
export function findJson(bytes: Uint8Array, prefix: string): [number, number] | undefined {
  const text = new TextDecoder('latin1').decode(bytes);
  const start = text.indexOf(prefix);
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return [start, i + 1];
  }
  return undefined;
}

/**
 * A structural mutation of JSON stored in place inside a binary file (the HDF5 attribute of a
 * Keras .h5): the mutated value is written compactly and padded with spaces to the same byte
 * length, so the container stays valid; undefined when it does not fit.
 */
export function mutateEmbeddedJson(
  rng: FuzzRng,
  bytes: Uint8Array,
  range: [number, number],
  focus?: RegExp,
): Mutated<Uint8Array> | undefined {
  const [start, end] = range;
  const value: unknown = JSON.parse(new TextDecoder().decode(bytes.subarray(start, end)));
  for (let tries = 0; tries < 5; tries++) {
    const m = mutateJson(rng, value, focus);
    const text = new TextEncoder().encode(jsonText(m.value));
    if (text.length > end - start) continue;
    const out = new Uint8Array(bytes);
    out.fill(0x20, start, end);
    out.set(text, start);
    return { value: out, desc: `embedded JSON: ${m.desc}` };
  }
  return undefined;
}
