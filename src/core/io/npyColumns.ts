import * as fs from 'node:fs';
import { UserError } from '../errors';
import { checkActivationsDescr, checkActivationsShape, unreadable } from './activationsNpy';
import { npyHeaderEnd, parseNpyLayout } from './npy';

/** Bytes one read takes at the most (a block of rows, or one row's span). */
const READ_BYTES = 8 * 2 ** 20;

/**
 * An S x N float32 or float64 .npy activation matrix read by columns straight from the file:
 * {@link read} returns the columns asked for, streaming the row-major values a block of rows
 * at a time (or each row's span of the columns, when they are a narrow band) and keeping only
 * those columns. The whole matrix is never held. Refusals are the one-line UserErrors of
 * readActivationsNpy: unreadable, not a .npy or truncated, not float32/float64, not 2-D, N = 0.
 */
export class NpyColumns {
  private constructor(
    readonly file: string,
    private fd: number | null,
    readonly samples: number,
    readonly neurons: number,
    readonly dtype: 'float32' | 'float64',
    private readonly dataStart: number,
  ) {}

  static open(file: string): NpyColumns {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (err) {
      throw unreadable(file, err);
    }
    try {
      const size = fs.fstatSync(fd).size;
      const head = readAt(fd, file, Math.min(size, 12), 0);
      const header = readAt(fd, file, Math.min(size, npyHeaderEnd(head, file)), 0);
      checkActivationsDescr(header, file);
      const layout = parseNpyLayout(header, file);
      const [samples, neurons] = checkActivationsShape(layout.shape, file);
      if (size - layout.dataStart < layout.dataBytes)
        throw new UserError(
          `${file}: truncated .npy data: shape (${layout.shape.join(', ')}) needs ${layout.dataBytes} bytes, found ${size - layout.dataStart}`,
        );
      const dtype = layout.dtype === 'f4' ? 'float32' : 'float64';
      return new NpyColumns(file, fd, samples, neurons, dtype, layout.dataStart);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /**
   * The values of `columns` (ascending neuron indices) as float64, neuron-major: column i's
   * values at [i * R, (i + 1) * R), R the rows `keep` marks (1: kept) or all S rows.
   */
  read(columns: readonly number[], keep?: Uint8Array): Float64Array {
    const { samples, neurons } = this;
    const item = this.dtype === 'float32' ? 4 : 8;
    let kept = samples;
    if (keep !== undefined) kept = keep.reduce((n, x) => n + (x ? 1 : 0), 0);
    const out = new Float64Array(columns.length * kept);
    if (columns.length === 0 || kept === 0) return out;
    const lo = columns[0];
    const span = columns[columns.length - 1] + 1 - lo;
    // Columns spread over most of a row: whole rows, a block at a time; else each row's span.
    const whole = 2 * span >= neurons;
    const rowValues = whole ? neurons : span;
    const first = whole ? 0 : lo;
    const blockRows = Math.max(1, Math.min(samples, Math.floor(READ_BYTES / (rowValues * item))));
    const buffer = new ArrayBuffer(blockRows * rowValues * item);
    const bytes = new Uint8Array(buffer);
    const values = item === 4 ? new Float32Array(buffer) : new Float64Array(buffer);
    const fd = this.handle();
    let r = 0;
    for (let r0 = 0; r0 < samples; r0 += blockRows) {
      const rows = Math.min(blockRows, samples - r0);
      if (whole) {
        readInto(fd, this.file, bytes, rows * neurons * item, this.dataStart + r0 * neurons * item);
      } else {
        for (let i = 0; i < rows; i++) {
          if (keep !== undefined && !keep[r0 + i]) continue;
          const at = this.dataStart + ((r0 + i) * neurons + lo) * item;
          readInto(fd, this.file, bytes.subarray(i * span * item), span * item, at);
        }
      }
      for (let i = 0; i < rows; i++) {
        if (keep !== undefined && !keep[r0 + i]) continue;
        const base = i * rowValues - first;
        for (let c = 0; c < columns.length; c++) out[c * kept + r] = values[base + columns[c]];
        r++;
      }
    }
    return out;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private handle(): number {
    if (this.fd === null) throw new Error(`NpyColumns: ${this.file} is closed`);
    return this.fd;
  }
}

/** `length` bytes at `position`, or a one-line UserError when the file ends before them. */
function readAt(fd: number, file: string, length: number, position: number): Uint8Array {
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
