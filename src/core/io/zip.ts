// A bounded zip reader for the archives MemLens opens (.npz activations and probe sets, .keras
// models). fflate's unzipSync trusts an archive: it inflates every member whole, sized by what
// the member declares, so a 1 MB file can ask for gigabytes. This reader parses the central
// directory first, inflates only the members asked for, checks each declared size against
// deflate's maximum ratio, a 100:1 ratio and a budget before inflating, stops a stream that
// produces more than it declared, and verifies every member's CRC-32.
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

/**
 * The members of a zip archive, read from its central directory (without inflating anything).
 * Refuses, in one line each: no end record (truncated), a zip64 or multi-disk archive,
 * encrypted members, methods other than stored and deflate, duplicate names, members whose
 * data lies outside the archive or overlaps another's (the overlapping-member bomb), and
 * declared sizes a stored or deflated member cannot have.
 */
export function zipEntries(bytes: Uint8Array, file: string, archive: string): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const damaged = (found: string): UserError =>
    new UserError(`${file}: expected ${archive}, found ${found}`);
  // The end record: 22 bytes plus a comment of at most 65,535, at the end of the file.
  let end = -1;
  for (let at = bytes.length - END_SIZE; at >= 0 && at >= bytes.length - END_SIZE - 0xffff; at--) {
    if (
      view.getUint32(at, true) === SIG_END &&
      at + END_SIZE + view.getUint16(at + 20, true) <= bytes.length
    ) {
      end = at;
      break;
    }
  }
  if (end < 0) throw damaged('no end-of-central-directory record (truncated or not a zip?)');
  if (end >= 20 && view.getUint32(end - 20, true) === SIG_ZIP64_LOCATOR)
    throw damaged('a zip64 archive (over 65,535 members or 4 GiB), which is not supported');
  const disk = view.getUint16(end + 4, true);
  const cdDisk = view.getUint16(end + 6, true);
  const count = view.getUint16(end + 10, true);
  const cdSize = view.getUint32(end + 12, true);
  const cdOffset = view.getUint32(end + 16, true);
  if (disk !== 0 || cdDisk !== 0 || view.getUint16(end + 8, true) !== count)
    throw damaged('a multi-disk (split) archive, which is not supported');
  if (cdOffset + cdSize > end)
    throw damaged(
      `a central directory (${cdSize} bytes at ${cdOffset}) that runs past its end record at ${end} (truncated?)`,
    );

  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  const spans: { start: number; end: number; name: string }[] = [];
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_SIZE > cdOffset + cdSize || view.getUint32(at, true) !== SIG_CENTRAL)
      throw damaged(`a central directory holding fewer than the ${count} members it declares`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc32 = view.getUint32(at + 16, true);
    let compressedSize = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    let localOffset = view.getUint32(at + 42, true);
    const next = at + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > cdOffset + cdSize) throw damaged('a central directory entry cut short');
    const rawName = bytes.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLen);
    // Bit 11: the name is UTF-8; otherwise code page 437, read as Latin-1 (ASCII either way).
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(rawName);
    // A zip64 extra field carries the sizes and offset that do not fit in 32 bits.
    if (size === U32_MAX || compressedSize === U32_MAX || localOffset === U32_MAX) {
      const zip64 = findExtra(view, at + CENTRAL_SIZE + nameLen, extraLen, 0x0001);
      let p = zip64?.start ?? -1;
      const take = (): number => {
        if (zip64 === undefined || p + 8 > zip64.end)
          throw damaged(
            `member ${quote(name)} with 32-bit sizes at their maximum and no zip64 sizes`,
          );
        const v = Number(view.getBigUint64(p, true));
        p += 8;
        return v;
      };
      if (size === U32_MAX) size = take();
      if (compressedSize === U32_MAX) compressedSize = take();
      if (localOffset === U32_MAX) localOffset = take();
    }
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
    if (localOffset + LOCAL_SIZE > cdOffset || view.getUint32(localOffset, true) !== SIG_LOCAL)
      throw damaged(`member ${quote(name)} without its local header at offset ${localOffset}`);
    const dataStart =
      localOffset +
      LOCAL_SIZE +
      view.getUint16(localOffset + 26, true) +
      view.getUint16(localOffset + 28, true);
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
  return entries;
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

/** CRC-32 (ISO-HDLC, the zip and gzip one) of `data`. */
export function crc32(data: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  const table = crcTable;
  let c = -1;
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
  const crc = crc32(data);
  if (crc !== entry.crc32)
    throw new UserError(
      `${where}: expected CRC-32 ${hex(entry.crc32)} as declared, found ${hex(crc)} (damaged data)`,
    );
  return data;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * The members of a zip archive that `wanted` selects (by name, in archive order), within a
 * budget checked before anything is inflated: their declared sizes together must not exceed
 * `limit` (default 4 GiB), and each deflated member may declare at most 100 times its
 * compressed size, but for 64 MiB shared by the archive ({@link ZIP_MAX_RATIO}). Members not selected are listed but never inflated.
 * Every problem is a one-line UserError naming the file (see {@link zipEntries} and
 * {@link readZipEntry}).
 */
export function readZip(
  bytes: Uint8Array,
  file: string,
  wanted: (name: string) => boolean,
  opts: ZipReadOptions,
): { entries: ZipEntry[]; members: Map<string, Uint8Array> } {
  const entries = zipEntries(bytes, file, opts.archive);
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
  const members = new Map<string, Uint8Array>();
  for (const e of chosen) members.set(e.name, readZipEntry(bytes, e, file));
  return { entries, members };
}
