import type { WriteOptions } from './atomicWrite';
import { AtomicFile } from './atomicWrite';
import { npyHeader } from './npy';

/**
 * An S x N float32 (or, asked, float64) .npy written row batch by row batch as a capture
 * yields them: the header with the final shape first, then the rows in order, through a
 * temporary file renamed over the target at {@link commit} (nothing is left of it on a failure
 * or {@link abort}). Only the batch being written is held. The bytes are those of `encodeNpy`
 * on the whole matrix.
 */
export class NpyRowWriter {
  private written = 0;

  private constructor(
    private readonly file: AtomicFile,
    readonly samples: number,
    readonly neurons: number,
    private readonly dtype: 'f4' | 'f8',
  ) {}

  static async open(
    file: string,
    samples: number,
    neurons: number,
    opts: WriteOptions & { dtype?: 'f4' | 'f8' } = {},
  ): Promise<NpyRowWriter> {
    const dtype = opts.dtype ?? 'f4';
    const out = await AtomicFile.open(file, opts);
    await out.append(npyHeader(dtype, [samples, neurons]));
    return new NpyRowWriter(out, samples, neurons, dtype);
  }

  /** Appends `count` rows from row `start` (the next one), row-major (float32: rounded). */
  async rows(start: number, count: number, values: Float64Array): Promise<void> {
    if (
      start !== this.written ||
      start + count > this.samples ||
      values.length < count * this.neurons
    )
      throw new RangeError(
        `NpyRowWriter: expected rows from ${this.written} (of ${this.samples}), found ${count} from ${start}`,
      );
    const batch = values.subarray(0, count * this.neurons);
    const rows = this.dtype === 'f4' ? new Float32Array(batch) : batch.slice();
    await this.file.append(new Uint8Array(rows.buffer));
    this.written += count;
  }

  /** Renames the file into place once every row is written; returns the path written. */
  async commit(): Promise<string> {
    if (this.written !== this.samples) {
      await this.abort();
      throw new RangeError(`NpyRowWriter: ${this.written} of ${this.samples} rows written`);
    }
    return this.file.commit();
  }

  abort(): Promise<void> {
    return this.file.abort();
  }
}
