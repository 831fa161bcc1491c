import type { ColumnSource } from './dumpShard';

/**
 * Some columns of a dump, in a chosen order (layers asked for out of the file's order), and
 * some of its rows (a seeded subset, ascending), read by columns as the dump itself is: what
 * an analysis selects of a dump, without the whole matrix in memory. Its values are those of
 * the matrix an analysis selects in memory, bit for bit.
 */
export class DumpView implements ColumnSource {
  readonly samples: number;
  readonly neurons: number;

  /**
   * `columns[i]`: the dump's column of the view's column i (distinct); `rows`: the dump's rows
   * kept (1), or undefined for all of them.
   */
  constructor(
    private readonly dump: ColumnSource,
    private readonly columns: readonly number[],
    private readonly rows: Uint8Array | undefined,
  ) {
    this.samples = rows === undefined ? dump.samples : rows.reduce((n, x) => n + x, 0);
    this.neurons = columns.length;
  }

  get file(): string {
    return this.dump.file;
  }

  /** The values of the view's `columns` (ascending), neuron-major, as NpyColumns.read. */
  read(columns: readonly number[], keep?: Uint8Array): Float64Array {
    const file = columns.map((c) => this.columns[c]);
    const order = file.map((_, i) => i).sort((a, b) => file[a] - file[b]);
    const data = this.dump.read(
      order.map((i) => file[i]),
      this.fileRows(keep),
    );
    if (order.every((i, at) => i === at)) return data;
    // Read in the file's column order: each column put back in its place.
    const R = columns.length === 0 ? 0 : data.length / columns.length;
    const out = new Float64Array(data.length);
    order.forEach((i, at) => out.set(data.subarray(at * R, (at + 1) * R), i * R));
    return out;
  }

  /** The dump's rows to read: the view's rows that `keep` marks (of the view's). */
  private fileRows(keep: Uint8Array | undefined): Uint8Array | undefined {
    if (keep === undefined || this.rows === undefined) return keep ?? this.rows;
    const out = new Uint8Array(this.rows.length);
    let v = 0;
    for (let r = 0; r < out.length; r++) if (this.rows[r]) out[r] = keep[v++];
    return out;
  }
}
