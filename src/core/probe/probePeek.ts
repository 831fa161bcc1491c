/**
 * A quick look at a probe file without loading it: its shape and dtype from the .npy header
 * (of the file, or of the chosen member of an .npz), or from the first lines of a CSV, and
 * its first examples for the value checks (probeStats.ts). The same readers and rules as loadProbe
 * (header checks, the .npz array choice, CSV headers), so what the preview says is what an
 * analysis would find; only the amount read is bounded.
 */
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Inflate } from 'fflate';
import { UserError } from '../errors';
import { NPY_DTYPE_NAMES, isNpy, parseNpy, parseNpyHeader, toFloat64 } from '../io/npy';
import { isZip, zipEntries } from '../io/zip';
import { readInput } from '../io/readInput';
import { parseCsv, parseJsonl } from './text';

/** Most examples read for the value checks. */
export const PEEK_ROWS = 1000;
/** Most bytes of example data read (a few large examples: fewer rows). */
const PEEK_DATA_BYTES = 8 * 1024 * 1024;
/** The longest .npy header read (numpy writes 128 bytes or so). */
const NPY_HEADER_BYTES = 64 * 1024;
/** The first bytes of a CSV parsed; its rows are counted by a scan of the rest. */
const CSV_HEAD_BYTES = 1024 * 1024;
/** Larger .npz archives (the zip directory is at their end) and other files are not previewed. */
const WHOLE_FILE_LIMIT = 512 * 1024 * 1024;

/** What a preview found. */
export interface ProbePeek {
  /** Batch first, as an analysis reads it (a 1-D array is a batch of scalars: [n, 1]). */
  shape: number[];
  /** numpy's name of the stored type (`float32`, `uint8`), or `text` for CSV. */
  dtype: string;
  /** False when the row count of a long CSV was not counted in time (shape[0] is a minimum). */
  rowsCounted: boolean;
  /** The first `rows` examples, C order. */
  data: Float64Array;
  rows: number;
}

/**
 * The array loadProbe takes from an .npz with these members: the one named `wanted`, the only
 * one, or one called x, X, input or inputs; none qualifying is a one-line UserError.
 */
export function probeArrayName(file: string, names: readonly string[], wanted?: string): string {
  const chosen =
    wanted !== undefined
      ? names.find((n) => n === wanted)
      : names.length === 1
        ? names[0]
        : names.find((n) => ['x', 'X', 'input', 'inputs'].includes(n));
  if (chosen !== undefined) return chosen;
  const what =
    wanted !== undefined
      ? `an array named '${wanted}'`
      : 'one array, or one named x, input or inputs';
  throw new UserError(`${file}: expected ${what}, found arrays ${names.join(', ')}`);
}

/**
 * Previews a probe file (.npy, .npz, .csv; .jsonl is read whole, when not too large). A folder
 * of images has no shape before it is resized to a model: the caller handles folders.
 * `signal` stops the row count of a long CSV, which then reports what it counted.
 */
export async function peekProbe(
  file: string,
  opts: { array?: string; signal?: AbortSignal } = {},
): Promise<ProbePeek> {
  const stat = await fs.stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`${file}: cannot read the probe (${err.code ?? 'error'})`);
  });
  if (!stat.isFile()) throw new UserError(`${file}: expected a probe file, found a folder`);
  const head = await readStart(file, NPY_HEADER_BYTES + PEEK_DATA_BYTES);
  const ext = path.extname(file).toLowerCase();
  if (isNpy(head)) return peekNpy(head, stat.size, file);
  if (isZip(head) || ext === '.npz') return peekNpz(file, stat.size, opts.array);
  // Not a .npy by its bytes: parseNpy says what it found instead.
  if (ext === '.npy') return peekWhole(head, file);
  if (ext === '.csv' || ext === '.tsv') return peekCsv(file, head, stat.size, opts.signal);
  if (ext !== '.jsonl' && ext !== '.ndjson')
    throw new UserError(
      `${file}: expected a probe set (.npy, .npz, .csv, .jsonl or a folder of PNG/JPEG images), found a '${ext || 'no extension'}' file`,
    );
  if (stat.size > WHOLE_FILE_LIMIT)
    throw new UserError(`${file}: too large to preview (${stat.size} bytes)`);
  const raw = parseJsonl(new TextDecoder().decode(await readInput(file, 'the probe')), file);
  const size = raw.shape.slice(1).reduce((a, b) => a * b, 1);
  const rows = Math.min(raw.shape[0], PEEK_ROWS);
  return {
    shape: raw.shape,
    dtype: 'text',
    rowsCounted: true,
    data: Float64Array.from(Array.prototype.slice.call(raw.data, 0, rows * size) as number[]),
    rows,
  };
}

async function readStart(file: string, bytes: number): Promise<Uint8Array> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * A .npy from its first bytes (`prefix`) and its full length: the header as parseNpy reads
 * it, and the first examples parsed as a .npy of their own (so the same dtype checks apply).
 */
function peekNpy(prefix: Uint8Array, length: number, name: string): ProbePeek {
  const major = prefix[6];
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const headerStart = major === 1 ? 10 : 12;
  if (prefix.length < headerStart || (major !== 1 && major !== 2 && major !== 3))
    return peekWhole(prefix, name); // parseNpy gives the error
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLen;
  if (dataStart > prefix.length) {
    if (prefix.length === length) return peekWhole(prefix, name);
    throw new UserError(`${name}: .npy header longer than ${NPY_HEADER_BYTES} bytes`);
  }
  const header = parseNpyHeader(
    new TextDecoder('latin1').decode(prefix.subarray(headerStart, dataStart)),
    name,
  );
  const shape = header.shape;
  if (shape.length === 0)
    throw new UserError(`${name}: expected a batch-first array, found a scalar`);
  const itemSize = Number(/(\d+)$/.exec(header.descr)?.[1] ?? 0);
  const rowValues = shape.slice(1).reduce((a, b) => a * b, 1);
  const rowBytes = rowValues * itemSize;
  const needed = shape[0] * rowBytes;
  if (length - dataStart < needed)
    throw new UserError(
      `${name}: truncated .npy data: shape (${shape.join(', ')}) needs ${needed} bytes, found ${length - dataStart}`,
    );
  const available = Math.floor((prefix.length - dataStart) / Math.max(1, rowBytes));
  const rows = Math.min(shape[0], PEEK_ROWS, available);
  const part = parseNpy(
    npyBytes(
      header.descr,
      header.fortranOrder,
      [rows, ...shape.slice(1)],
      prefix.subarray(dataStart, dataStart + rows * rowBytes),
    ),
    name,
  );
  return {
    shape: shape.length === 1 ? [shape[0], 1] : shape,
    dtype: NPY_DTYPE_NAMES[/([a-zA-Z]\d+)$/.exec(header.descr)?.[1] ?? ''] ?? header.descr,
    rowsCounted: true,
    data: toFloat64(part.data),
    rows,
  };
}

/** A whole small .npy, parsed as loadProbe parses it (its errors included). */
function peekWhole(bytes: Uint8Array, name: string): ProbePeek {
  const a = parseNpy(bytes, name);
  const shape = a.shape.length === 1 ? [a.shape[0], 1] : a.shape;
  const rows = Math.min(shape[0], PEEK_ROWS);
  const size = shape.slice(1).reduce((x, y) => x * y, 1);
  return {
    shape,
    dtype: NPY_DTYPE_NAMES[a.dtype],
    rowsCounted: true,
    data: toFloat64(a.data).subarray(0, rows * size),
    rows,
  };
}

/** A version 1.0 .npy of `data` with this header. */
function npyBytes(descr: string, fortran: boolean, shape: number[], data: Uint8Array): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${dims}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}

/** The probe array of an .npz: its directory read, only the start of its member inflated. */
async function peekNpz(file: string, size: number, array: string | undefined): Promise<ProbePeek> {
  if (size > WHOLE_FILE_LIMIT) throw new UserError(`${file}: too large to preview (${size} bytes)`);
  const bytes = new Uint8Array(await fs.readFile(file));
  const archive = 'a readable .npz zip archive';
  const entries = zipEntries(bytes, file, archive).filter((e) => e.name.endsWith('.npy'));
  const names = entries.map((e) => e.name.slice(0, -4));
  const chosen = probeArrayName(file, names, array);
  const entry = entries[names.indexOf(chosen)];
  const raw = bytes.subarray(entry.dataStart, entry.dataStart + entry.compressedSize);
  const want = Math.min(entry.size, NPY_HEADER_BYTES + PEEK_DATA_BYTES);
  let prefix: Uint8Array;
  if (entry.method === 0) prefix = raw.subarray(0, want);
  else {
    prefix = new Uint8Array(want);
    let filled = 0;
    const inflater = new Inflate((chunk) => {
      const take = Math.min(chunk.length, want - filled);
      prefix.set(chunk.subarray(0, take), filled);
      filled += take;
    });
    for (let p = 0; p < raw.length && filled < want; p += 16 * 1024)
      inflater.push(raw.subarray(p, p + 16 * 1024), p + 16 * 1024 >= raw.length);
    prefix = prefix.subarray(0, filled);
  }
  const name = `${file}:${chosen}.npy`;
  if (!isNpy(prefix)) return peekWhole(prefix, name);
  return peekNpy(prefix, entry.size, name);
}

/**
 * A CSV: its first lines parsed as loadProbe parses them (header, separators, numeric cells),
 * the rest only counted, line by line, until `signal` stops the count.
 */
async function peekCsv(
  file: string,
  head: Uint8Array,
  size: number,
  signal: AbortSignal | undefined,
): Promise<ProbePeek> {
  let text = new TextDecoder().decode(head.subarray(0, CSV_HEAD_BYTES));
  const whole = size <= CSV_HEAD_BYTES;
  if (!whole) text = text.slice(0, Math.max(0, text.lastIndexOf('\n')));
  let header = false;
  const parsed = parseCsv(text, file, () => (header = true));
  const width = parsed.shape[1];
  if (parsed.shape[0] === 0)
    throw new UserError(`${file}: expected at least one probe example, found an empty probe set`);
  let total = parsed.shape[0];
  let counted = true;
  if (!whole) {
    const lines = await countLines(file, signal);
    counted = lines.complete;
    total = Math.max(total, lines.count - (header ? 1 : 0));
  }
  const rows = Math.min(parsed.shape[0], PEEK_ROWS);
  return {
    shape: [total, width],
    dtype: 'text',
    rowsCounted: counted,
    data: Float64Array.from(parsed.data as ArrayLike<number>).subarray(0, rows * width),
    rows,
  };
}

/** The lines of a file that hold something other than white space. */
function countLines(
  file: string,
  signal: AbortSignal | undefined,
): Promise<{ count: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    let count = 0;
    let content = false;
    const stream = createReadStream(file);
    const stop = (): void => {
      stream.destroy();
      resolve({ count: count + (content ? 1 : 0), complete: false });
    };
    if (signal?.aborted) return stop();
    signal?.addEventListener('abort', stop, { once: true });
    stream.on('data', (chunk: Buffer | string) => {
      for (const b of typeof chunk === 'string' ? Buffer.from(chunk) : chunk) {
        if (b === 0x0a) {
          if (content) count++;
          content = false;
        } else if (b !== 0x0d && b !== 0x20 && b !== 0x09) content = true;
      }
    });
    stream.on('end', () => {
      signal?.removeEventListener('abort', stop);
      resolve({ count: count + (content ? 1 : 0), complete: true });
    });
    stream.on('error', reject);
  });
}
