// A bounded zip reader for the archives MemLens opens (.npz activations and probe sets, .keras
// models). fflate's unzipSync trusts an archive: it inflates every member whole, sized by what
// the member declares, so a 1 MB file can ask for gigabytes. This reader parses the central
// directory first, inflates only the members asked for, checks each declared size against
// deflate's maximum ratio, a 100:1 ratio and a budget before inflating, stops a stream that
// produces more than it declared, and verifies every member's CRC-32. The directory is parsed
// from a ZipSource, a reader of bytes by position: a buffer held whole (readZip), or a file read
// by bounded reads (an .npz dump read by columns, src/core/io/npz.ts), with the same refusals.
import { Inflate } from 'fflate';
import { UserError, excerpt } from '../errors';

/**
 * Most uncompressed bytes read from one archive (the members asked for, together): 4 GiB.
 * Generous for real files (a float32 activation matrix of 2,500 x 400,000 or a 1-billion-
 * parameter Keras model fits) and also the largest Node buffer (buffer.constants.MAX_LENGTH
 * in Node 20). Deflated members are held to much less by {@link ZIP_MAX_RATIO}.
 */
export const ZIP_INFLATE_LIMIT = 4 * 1024 ** 3;

/**
 * DEFLATE's largest expansion: a 258-byte match coded in 2 bits (a 1-bit length code and a
 * 1-bit distance code), 1,032 output bytes per input byte. A member declaring more is a lie.
 */
export const DEFLATE_MAX_RATIO = 1032;

/**
 * Largest expansion allowed beyond {@link ZIP_RATIO_GRACE}: 100 to 1. Real activations and
 * weights deflate 1.1 to 10 times; a member past this ratio is a bomb or a file of near-
 * constant data, which can be stored uncompressed instead (np.savez rather than
 * savez_compressed). The same ratio and grace as Apache POI's ZipSecureFile.
 */
export const ZIP_MAX_RATIO = 100;

/**
 * Bytes the members read may inflate to beyond {@link ZIP_MAX_RATIO} times their compressed
 * size, shared by the whole archive: 64 MiB, room for a few small, very repetitive arrays
 * (a dead layer of zeros). With it, an archive of C compressed bytes inflates to at most
 * 100 C + 64 MiB.
 */
export const ZIP_RATIO_GRACE = 64 * 1024 ** 2;

/** Compressed bytes handed to the inflater at a time: it then yields at most ~16.5 MB. */
const INFLATE_STEP = 16 * 1024;

/** Bytes of a stored member read at a time to verify its CRC-32 from a file. */
const CRC_STEP = 16 * 2 ** 20;

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const END_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const U32_MAX = 0xffffffff;

/** Compression methods by number, for the message refusing them. */
const METHOD_NAMES: Record<number, string> = {
  1: 'shrink',
  6: 'implode',
  9: 'deflate64',
  12: 'bzip2',
  14: 'LZMA',
  93: 'Zstandard',
  95: 'XZ',
  98: 'PPMd',
  99: 'AES encryption',
};

/** One member of the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated (the only two read). */
  method: number;
  crc32: number;
  compressedSize: number;
  /** The declared uncompressed size. */
  size: number;
  /** Offset of the member's data (after its local header) in the archive. */
  dataStart: number;
}

export interface ZipReadOptions {
  /**
   * What the file should be, for messages about the archive as a whole, e.g. 'a readable .npz
   * zip archive' ("<file>: expected <archive>, found ...").
   */
  archive: string;
  /** Most uncompressed bytes of the members read together (default {@link ZIP_INFLATE_LIMIT}). */
  limit?: number;
}

/**
 * An archive's bytes by position: `read` returns `length` bytes from `position`, both within
 * [0, size) (the parser checks every offset against the end record before reading).
 */
export interface ZipSource {
  readonly size: number;
  read(length: number, position: number): Uint8Array;
}

/** A buffer held whole as a ZipSource (its reads are views, not copies). */
export function bufferSource(bytes: Uint8Array): ZipSource {
  return { size: bytes.length, read: (length, at) => bytes.subarray(at, at + length) };
}

/** The four bytes a zip archive starts with (a local file header, 'PK\3\4'). */
export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    bytes[2] === 0x03 &&
    bytes[3] === 0x04
  );
}

function bytesText(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** A member name for a message: short, printable, quoted. */
function quote(name: string): string {
  return `'${excerpt(name, 40)}'`;
}

/** {@link zipDirectory} of an archive held whole. */
export function zipEntries(bytes: Uint8Array, file: string, archive: string): ZipEntry[] {
  return zipDirectory(bufferSource(bytes), file, archive);
}

/** What a member's local header declares, to check against its central directory entry. */
interface LocalHeader {
  rawName: Uint8Array;
  /** The extra field, where zip64 sizes would be. */
  extra: Uint8Array;
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
}

/**
 * The members of a zip archive, read from its central directory (without inflating anything):
 * the end record from the last 64 KiB, then each directory entry and each member's local
 * header, so only those bytes are read. Refuses, in one line each: no end record (truncated),
 * a zip64 or multi-disk archive, encrypted members, methods other than stored and deflate,
 * duplicate names, members whose data lies outside the archive or overlaps another's (the
 * overlapping-member bomb), declared sizes a stored or deflated member cannot have, and a
 * local header that disagrees with the central directory (name, method, CRC-32 or sizes).
 */
export function zipDirectory(source: ZipSource, file: string, archive: string): ZipEntry[] {
  const damaged = (found: string): UserError =>
    new UserError(`${file}: expected ${archive}, found ${found}`);
  // The end record: 22 bytes plus a comment of at most 65,535, at the end of the file; and the
  // 20 bytes before, where a zip64 locator would be.
  const tailStart = Math.max(0, source.size - END_SIZE - 0xffff - 20);
  const tail = source.read(source.size - tailStart, tailStart);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let e = -1;
  for (let at = tail.length - END_SIZE; at >= 0 && at >= tail.length - END_SIZE - 0xffff; at--) {
    if (
      tv.getUint32(at, true) === SIG_END &&
      at + END_SIZE + tv.getUint16(at + 20, true) <= tail.length
    ) {
      e = at;
      break;
    }
  }
  if (e < 0) throw damaged('no end-of-central-directory record (truncated or not a zip?)');
  const end = tailStart + e;
  if (end >= 20 && tv.getUint32(e - 20, true) === SIG_ZIP64_LOCATOR)
    throw damaged('a zip64 archive (over 65,535 members or 4 GiB), which is not supported');
  const disk = tv.getUint16(e + 4, true);
  const cdDisk = tv.getUint16(e + 6, true);
  const count = tv.getUint16(e + 10, true);
  const cdSize = tv.getUint32(e + 12, true);
  const cdOffset = tv.getUint32(e + 16, true);
  if (disk !== 0 || cdDisk !== 0 || tv.getUint16(e + 8, true) !== count)
    throw damaged('a multi-disk (split) archive, which is not supported');
  if (cdOffset + cdSize > end)
    throw damaged(
      `a central directory (${cdSize} bytes at ${cdOffset}) that runs past its end record at ${end} (truncated?)`,
    );

  const entries: ZipEntry[] = [];
  const locals: LocalHeader[] = [];
  const rawNames: Uint8Array[] = [];
  const seen = new Set<string>();
  const spans: { start: number; end: number; name: string }[] = [];
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_SIZE > cdOffset + cdSize)
      throw damaged(`a central directory holding fewer than the ${count} members it declares`);
    const head = source.read(CENTRAL_SIZE, at);
    const view = new DataView(head.buffer, head.byteOffset, CENTRAL_SIZE);
    if (view.getUint32(0, true) !== SIG_CENTRAL)
      throw damaged(`a central directory holding fewer than the ${count} members it declares`);
    const flags = view.getUint16(8, true);
    const method = view.getUint16(10, true);
    const crc32 = view.getUint32(16, true);
    const nameLen = view.getUint16(28, true);
    const extraLen = view.getUint16(30, true);
    const commentLen = view.getUint16(32, true);
    const next = at + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > cdOffset + cdSize) throw damaged('a central directory entry cut short');
    const rest = source.read(nameLen + extraLen, at + CENTRAL_SIZE);
    const rawName = rest.subarray(0, nameLen);
    const name = memberName(rawName, flags);
    // A zip64 extra field carries the sizes and offset that do not fit in 32 bits.
    const [size, compressedSize, localOffset] = zip64Values(
      rest.subarray(nameLen),
      [view.getUint32(24, true), view.getUint32(20, true), view.getUint32(42, true)],
      () => damaged(`member ${quote(name)} with 32-bit sizes at their maximum and no zip64 sizes`),
    );
    if (flags & 0x41 || method === 99)
      throw new UserError(
        `${file}: member ${quote(name)}: expected an unencrypted zip member, found an encrypted one`,
      );
    if (method !== 0 && method !== 8)
      throw new UserError(
        `${file}: member ${quote(name)}: expected a stored or deflated zip member, found compression method ${method}${METHOD_NAMES[method] ? ` (${METHOD_NAMES[method]})` : ''}`,
      );
    if (seen.has(name))
      throw new UserError(
        `${file}: expected unique member names in the zip archive, found ${quote(name)} twice`,
      );
    seen.add(name);
    const missing = () =>
      damaged(`member ${quote(name)} without its local header at offset ${localOffset}`);
    if (localOffset + LOCAL_SIZE > cdOffset) throw missing();
    const local = readLocalHeader(source, localOffset, cdOffset, missing);
    const dataStart = local.dataStart;
    if (dataStart + compressedSize > cdOffset)
      throw damaged(
        `member ${quote(name)} whose ${compressedSize} compressed bytes run past the archive's data (truncated?)`,
      );
    if (method === 0 && compressedSize !== size)
      throw damaged(
        `stored member ${quote(name)} declaring ${size} bytes in ${compressedSize} stored bytes`,
      );
    if (method === 8 && size > DEFLATE_MAX_RATIO * compressedSize)
      throw new UserError(
        `${file}: member ${quote(name)}: expected at most ${DEFLATE_MAX_RATIO}x its ${compressedSize} deflated bytes, found a declared size of ${size} bytes (${bytesText(size)}; a zip bomb?)`,
      );
    spans.push({ start: localOffset, end: dataStart + compressedSize, name });
    entries.push({ name, method, crc32, compressedSize, size, dataStart });
    locals.push(local);
    rawNames.push(rawName);
    at = next;
  }
  // Members sharing compressed data inflate it many times over (the overlapping-file bomb).
  spans.sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].start < spans[i - 1].end)
      throw new UserError(
        `${file}: expected zip members stored one after another, found ${quote(spans[i].name)} overlapping ${quote(spans[i - 1].name)} (a zip bomb?)`,
      );
  }
  entries.forEach((entry, i) => checkLocalHeader(entry, rawNames[i], locals[i], damaged));
  return entries;
}

/** A member name: UTF-8 under flag bit 11, else code page 437, read as Latin-1 (ASCII alike). */
function memberName(raw: Uint8Array, flags: number): string {
  return new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(raw);
}

/**
 * `values` (32-bit header fields, in zip64 order) with each one at 0xffffffff replaced by the
 * next 64-bit value of the zip64 extra field in `extra`; none there: `missing()` is thrown.
 */
function zip64Values(extra: Uint8Array, values: number[], missing: () => Error): number[] {
  if (!values.includes(U32_MAX)) return values;
  const view = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
  const zip64 = findExtra(view, 0, extra.length, 0x0001);
  let p = zip64?.start ?? -1;
  return values.map((v) => {
    if (v !== U32_MAX) return v;
    if (zip64 === undefined || p + 8 > zip64.end) throw missing();
    p += 8;
    return Number(view.getBigUint64(p - 8, true));
  });
}

/**
 * The local header at `offset` (its fixed 30 bytes lie before `limit`, the central directory),
 * and where the member's data starts after it; no local header signature there: `missing()`.
 */
function readLocalHeader(
  source: ZipSource,
  offset: number,
  limit: number,
  missing: () => Error,
): LocalHeader & { dataStart: number } {
  const head = source.read(LOCAL_SIZE, offset);
  const view = new DataView(head.buffer, head.byteOffset, LOCAL_SIZE);
  if (view.getUint32(0, true) !== SIG_LOCAL) throw missing();
  const nameLen = view.getUint16(26, true);
  const extraLen = view.getUint16(28, true);
  const dataStart = offset + LOCAL_SIZE + nameLen + extraLen;
  // Past the directory, the member's data would too: refused by the caller, unread.
  const rest =
    dataStart <= limit ? source.read(nameLen + extraLen, offset + LOCAL_SIZE) : new Uint8Array(0);
  return {
    rawName: rest.subarray(0, nameLen),
    extra: rest.subarray(nameLen),
    flags: view.getUint16(6, true),
    method: view.getUint16(8, true),
    crc32: view.getUint32(14, true),
    compressedSize: view.getUint32(18, true),
    size: view.getUint32(22, true),
    dataStart,
  };
}

/**
 * Refuses a local header that disagrees with the member's central directory entry: another
 * name or method (another reader would see another archive), or another CRC-32 or sizes
 * unless they follow the data (flag bit 3: the local header then holds zeros).
 */
function checkLocalHeader(
  entry: ZipEntry,
  rawName: Uint8Array,
  local: LocalHeader,
  damaged: (found: string) => UserError,
): void {
  const differs = (what: string, found: string, expected: string): UserError =>
    damaged(
      `member ${quote(entry.name)} whose local header declares ${what} ${found}, not the ${expected} of the central directory`,
    );
  if (local.rawName.length !== rawName.length || local.rawName.some((b, i) => b !== rawName[i]))
    throw differs('the name', quote(memberName(local.rawName, local.flags)), 'name');
  if (local.method !== entry.method)
    throw differs('compression method', String(local.method), `method ${entry.method}`);
  if (local.flags & 0x8) return;
  if (local.crc32 !== entry.crc32)
    throw differs('CRC-32', hex(local.crc32), `CRC-32 ${hex(entry.crc32)}`);
  const [size, compressedSize] = zip64Values(local.extra, [local.size, local.compressedSize], () =>
    differs('32-bit sizes at their maximum', 'without zip64 sizes', 'sizes'),
  );
  if (size !== entry.size || compressedSize !== entry.compressedSize)
    throw differs(
      'sizes',
      `${size} (${compressedSize} compressed)`,
      `sizes ${entry.size} (${entry.compressedSize} compressed)`,
    );
}

/** The extra field `id` within [start, start + length), as a byte range of its data. */
function findExtra(
  view: DataView,
  start: number,
  length: number,
  id: number,
): { start: number; end: number } | undefined {
  let p = start;
  while (p + 4 <= start + length) {
    const size = view.getUint16(p + 2, true);
    if (view.getUint16(p, true) === id)
      return { start: p + 4, end: Math.min(p + 4 + size, start + length) };
    p += 4 + size;
  }
  return undefined;
}

let crcTable: Int32Array | undefined;

/** CRC-32 (ISO-HDLC, the zip and gzip one) of `data`, continuing `crc` (of the bytes before). */
export function crc32(data: Uint8Array, crc = 0): number {
  if (crcTable === undefined) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  const table = crcTable;
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Thrown from the inflater's callback to stop a stream that outgrows its declared size. */
class Overflow extends Error {}

/**
 * One member's bytes: stored data as a view into `bytes`, deflated data inflated into a
 * buffer of its declared size, refused as soon as the stream produces more, and refused if it
 * produces less or its CRC-32 differs from the declared one.
 */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, file: string): Uint8Array {
  const where = `${file}: member ${quote(entry.name)}`;
  const raw = bytes.subarray(entry.dataStart, entry.dataStart + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else {
    data = new Uint8Array(entry.size);
    let filled = 0;
    const inflater = new Inflate((chunk) => {
      if (filled + chunk.length > entry.size) throw new Overflow();
      data.set(chunk, filled);
      filled += chunk.length;
    });
    try {
      for (let p = 0; p < raw.length || p === 0; p += INFLATE_STEP) {
        inflater.push(raw.subarray(p, p + INFLATE_STEP), p + INFLATE_STEP >= raw.length);
      }
    } catch (err) {
      if (err instanceof Overflow)
        throw new UserError(
          `${where}: expected ${entry.size} bytes as declared, found a deflate stream producing more (a zip bomb?)`,
        );
      throw new UserError(
        `${where}: expected valid deflate data, found damaged data (${(err as Error).message})`,
      );
    }
    if (filled !== entry.size)
      throw new UserError(
        `${where}: expected ${entry.size} bytes as declared, found ${filled} after inflating`,
      );
  }
  checkCrc(crc32(data), entry, file);
  return data;
}

/** Refuses a member whose data's CRC-32, `crc`, is not the one its directory entry declares. */
function checkCrc(crc: number, entry: ZipEntry, file: string): void {
  if (crc !== entry.crc32)
    throw new UserError(
      `${file}: member ${quote(entry.name)}: expected CRC-32 ${hex(entry.crc32)} as declared, found ${hex(crc)} (damaged data)`,
    );
}

/**
 * Verifies a stored member's CRC-32 from `source`, reading its data 16 MiB at a time: what
 * readZipEntry checks of a member held whole, for one read by position.
 */
export function checkStoredCrc(source: ZipSource, entry: ZipEntry, file: string): void {
  let crc = 0;
  for (let p = 0; p < entry.compressedSize; p += CRC_STEP)
    crc = crc32(
      source.read(Math.min(CRC_STEP, entry.compressedSize - p), entry.dataStart + p),
      crc,
    );
  checkCrc(crc, entry, file);
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * The members of a zip archive that `wanted` selects (by name, in archive order), within a
 * budget checked before anything is inflated: their declared sizes together must not exceed
 * `limit` (default 4 GiB), and each deflated member may declare at most 100 times its
 * compressed size, but for 64 MiB shared by the archive ({@link ZIP_MAX_RATIO}). Members not selected are listed but never inflated.
 * Every problem is a one-line UserError naming the file (see {@link zipDirectory} and
 * {@link readZipEntry}).
 */
export function readZip(
  bytes: Uint8Array,
  file: string,
  wanted: (name: string) => boolean,
  opts: ZipReadOptions,
): { entries: ZipEntry[]; members: Map<string, Uint8Array> } {
  const { entries, chosen } = selectZip(bufferSource(bytes), file, wanted, opts);
  const members = new Map<string, Uint8Array>();
  for (const e of chosen) members.set(e.name, readZipEntry(bytes, e, file));
  return { entries, members };
}

/**
 * The directory of the archive in `source` and the members `wanted` selects, refused as
 * {@link readZip} refuses them before reading any: over the budget, or a bomb by ratio.
 */
export function selectZip(
  source: ZipSource,
  file: string,
  wanted: (name: string) => boolean,
  opts: ZipReadOptions,
): { entries: ZipEntry[]; chosen: ZipEntry[] } {
  const entries = zipDirectory(source, file, opts.archive);
  const chosen = entries.filter((e) => wanted(e.name));
  const limit = opts.limit ?? ZIP_INFLATE_LIMIT;
  const total = chosen.reduce((sum, e) => sum + e.size, 0);
  if (total > limit) {
    const largest = chosen.reduce((a, b) => (b.size > a.size ? b : a));
    throw new UserError(
      `${file}: expected at most ${bytesText(limit)} uncompressed in the zip members read, found ${bytesText(total)} declared (${quote(largest.name)}: ${bytesText(largest.size)})`,
    );
  }
  let excess = 0;
  for (const e of chosen) {
    if (e.method !== 8) continue;
    excess += Math.max(0, e.size - ZIP_MAX_RATIO * e.compressedSize);
    if (excess > ZIP_RATIO_GRACE)
      throw new UserError(
        `${file}: member ${quote(e.name)}: expected at most ${ZIP_MAX_RATIO}x its ${e.compressedSize} deflated bytes (beyond ${bytesText(ZIP_RATIO_GRACE)} per archive), found a declared size of ${bytesText(e.size)} (a zip bomb? data this repetitive can be stored uncompressed)`,
      );
  }
  return { entries, chosen };
}
