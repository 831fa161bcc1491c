import * as fs from 'node:fs';
import { UserError } from '../errors';
import { checkActivationsDescr, checkActivationsShape, unreadable } from './activationsNpy';
import type { NpyLayout } from './npy';
import { npyHeaderEnd, parseNpyLayout } from './npy';
import { bfloat16ToNumber, halfToNumber } from './safetensors';

/** Bytes one read takes at the most (a block of rows, or one row's span). */
const READ_BYTES = 8 * 2 ** 20;

/** A file open to be read by columns: its descriptor, until closed. */
export abstract class FileColumns {
  protected constructor(
    readonly file: string,
    private fd: number | null,
  ) {}

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  protected handle(): number {
    if (this.fd === null) throw new Error(`${this.constructor.name}: ${this.file} is closed`);
    return this.fd;
  }
}

/** `make(fd, size)` on `file` opened for reading (unreadable: a UserError), closed if it throws. */
export function openForColumns<T>(file: string, make: (fd: number, size: number) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw unreadable(file, err);
  }
  try {
    return make(fd, fs.fstatSync(fd).size);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/**
 * An S x N float32 or float64 .npy activation matrix read by columns straight from the file:
 * {@link read} returns the columns asked for, streaming the row-major values a block of rows
 * at a time (or each row's span of the columns, when they are a narrow band) and keeping only
 * those columns. The whole matrix is never held. Refusals are the one-line UserErrors of
 * readActivationsNpy: unreadable, not a .npy or truncated, not float32/float64, not 2-D, N = 0.
 */
export class NpyColumns extends FileColumns {
  private constructor(
    file: string,
    fd: number,
    readonly samples: number,
    readonly neurons: number,
    readonly dtype: 'float32' | 'float64',
    private readonly dataStart: number,
  ) {
    super(file, fd);
  }

  static open(file: string): NpyColumns {
    return openForColumns(file, (fd, size) => {
      const header = readNpyHeader((n, at) => readAt(fd, file, n, at), size, file);
      checkActivationsDescr(header, file);
      const layout = parseNpyLayout(header, file);
      const [samples, neurons] = checkActivationsShape(layout.shape, file);
      checkNpyData(layout, size, file);
      const dtype = layout.dtype === 'f4' ? 'float32' : 'float64';
      return new NpyColumns(file, fd, samples, neurons, dtype, layout.dataStart);
    });
  }

  /**
   * The values of `columns` (ascending neuron indices) as float64, neuron-major: column i's
   * values at [i * R, (i + 1) * R), R the rows `keep` marks (1: kept) or all S rows.
   */
  read(columns: readonly number[], keep?: Uint8Array): Float64Array {
    const kept = keptRows(this.samples, keep);
    const out = new Float64Array(columns.length * kept);
    const dtype = this.dtype === 'float32' ? 'F32' : 'F64';
    const array = { dataStart: this.dataStart, width: this.neurons, dtype } as const;
    readArrayColumns(this.handle(), this.file, this.samples, array, columns, keep, out, 0);
    return out;
  }
}

/**
 * The header of a .npy of `size` bytes that `read` reads by position (from 0): its first 12
 * bytes tell its length. Not a .npy: npyHeaderEnd's one-line UserError naming `name`.
 */
export function readNpyHeader(
  read: (length: number, position: number) => Uint8Array,
  size: number,
  name: string,
): Uint8Array {
  const head = read(Math.min(size, 12), 0);
  return read(Math.min(size, npyHeaderEnd(head, name)), 0);
}

/** Refuses, as parseNpy does, a .npy of `size` bytes too short for the values of its header. */
export function checkNpyData(layout: NpyLayout, size: number, name: string): void {
  if (size - layout.dataStart < layout.dataBytes)
    throw new UserError(
      `${name}: truncated .npy data: shape (${layout.shape.join(', ')}) needs ${layout.dataBytes} bytes, found ${size - layout.dataStart}`,
    );
}

/** The rows `keep` marks (1: kept), or all `samples`. */
export function keptRows(samples: number, keep: Uint8Array | undefined): number {
  return keep === undefined ? samples : keep.reduce((n, x) => n + (x ? 1 : 0), 0);
}

/** An element type read by columns: IEEE float32/float64/float16, or bfloat16. */
export type ColumnDtype = 'F32' | 'F64' | 'F16' | 'BF16';

const ITEM: Record<ColumnDtype, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };

/** A row-major S x `width` little-endian array stored from byte `dataStart` of a file. */
export interface ArrayAt {
  dataStart: number;
  width: number;
  dtype: ColumnDtype;
}

/**
 * Reads `columns` (ascending, of the array) of the rows `keep` marks (or all `samples`) into
 * `out`, neuron-major from column `at` of it (R values a column, R the rows kept): a block of
 * whole rows at a time when the columns spread over most of a row, else each row's span.
 */
export function readArrayColumns(
  fd: number,
  file: string,
  samples: number,
  array: ArrayAt,
  columns: readonly number[],
  keep: Uint8Array | undefined,
  out: Float64Array,
  at: number,
): void {
  const kept = keptRows(samples, keep);
  if (columns.length === 0 || kept === 0) return;
  const { width, dtype } = array;
  const item = ITEM[dtype];
  const lo = columns[0];
  const span = columns[columns.length - 1] + 1 - lo;
  const whole = 2 * span >= width;
  const rowValues = whole ? width : span;
  const first = whole ? 0 : lo;
  const blockRows = Math.max(1, Math.min(samples, Math.floor(READ_BYTES / (rowValues * item))));
  const buffer = new ArrayBuffer(blockRows * rowValues * item);
  const bytes = new Uint8Array(buffer);
  const halves = new Uint16Array(dtype === 'F16' || dtype === 'BF16' ? buffer : new ArrayBuffer(0));
  const values =
    dtype === 'F32'
      ? new Float32Array(buffer)
      : dtype === 'F64'
        ? new Float64Array(buffer)
        : new Float64Array(halves.length);
  const half = dtype === 'F16' ? halfToNumber : bfloat16ToNumber;
  let r = 0;
  for (let r0 = 0; r0 < samples; r0 += blockRows) {
    const rows = Math.min(blockRows, samples - r0);
    if (whole) {
      readInto(fd, file, bytes, rows * width * item, array.dataStart + r0 * width * item);
    } else {
      for (let i = 0; i < rows; i++) {
        if (keep !== undefined && !keep[r0 + i]) continue;
        const from = array.dataStart + ((r0 + i) * width + lo) * item;
        readInto(fd, file, bytes.subarray(i * span * item), span * item, from);
      }
    }
    // Half precision decoded as loadDump decodes it (safetensors.ts).
    if (halves.length > 0) for (let v = 0; v < rows * rowValues; v++) values[v] = half(halves[v]);
    for (let i = 0; i < rows; i++) {
      if (keep !== undefined && !keep[r0 + i]) continue;
      const base = i * rowValues - first;
      for (let c = 0; c < columns.length; c++) out[(at + c) * kept + r] = values[base + columns[c]];
      r++;
    }
  }
}

/** `length` bytes at `position`, or a one-line UserError when the file ends before them. */
export function readAt(fd: number, file: string, length: number, position: number): Uint8Array {
  const out = new Uint8Array(length);
  readInto(fd, file, out, length, position);
  return out;
}

function readInto(
  fd: number,
  file: string,
  into: Uint8Array,
  length: number,
  position: number,
): void {
  for (let done = 0; done < length;) {
    const n = fs.readSync(fd, into, done, length - done, position + done);
    if (n === 0)
      throw new UserError(
        `${file}: expected ${length} bytes at offset ${position}, found the end of the file (was it cut while being read?)`,
      );
    done += n;
  }
}
