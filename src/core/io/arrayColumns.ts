import * as fs from 'node:fs';
import type { ArrayAt } from './npyColumns';
import { FileColumns, keptRows, openForColumns, readArrayColumns, readAt } from './npyColumns';

/** What a file's header declares: S rows, and its arrays side by side, in column order. */
export interface ArraysLayout {
  samples: number;
  arrays: readonly ArrayAt[];
}

/**
 * The S x N matrix of several S x n arrays of one file (a layer each, at their byte offsets),
 * read by columns as NpyColumns reads an .npy: only the columns asked for, never the whole
 * file. Where the arrays are and that they fit the file is the header parser's to check.
 */
export class ArrayColumns extends FileColumns {
  readonly neurons: number;
  /** The first column of each array. */
  private readonly starts: number[];

  private constructor(
    file: string,
    fd: number,
    readonly samples: number,
    private readonly arrays: readonly ArrayAt[],
  ) {
    super(file, fd);
    let n = 0;
    this.starts = arrays.map((a) => ((n += a.width), n - a.width));
    this.neurons = n;
  }

  /**
   * Opens `file` and reads its layout with `parse` (given a reader of bytes and the size); a
   * file `parse` finds no layout in (undefined: one to read otherwise) is closed again.
   */
  static open(
    file: string,
    parse: (
      read: (length: number, position: number) => Uint8Array,
      size: number,
    ) => ArraysLayout | undefined,
  ): ArrayColumns | undefined {
    return openForColumns(file, (fd, size) => {
      const layout = parse((n, at) => readAt(fd, file, n, at), size);
      if (layout === undefined) {
        fs.closeSync(fd);
        return undefined;
      }
      return new ArrayColumns(file, fd, layout.samples, layout.arrays);
    });
  }

  /** The values of `columns` (ascending), neuron-major, as NpyColumns.read. */
  read(columns: readonly number[], keep?: Uint8Array): Float64Array {
    const kept = keptRows(this.samples, keep);
    const out = new Float64Array(columns.length * kept);
    const fd = this.handle();
    let c = 0;
    this.arrays.forEach((array, i) => {
      const start = this.starts[i];
      const local: number[] = [];
      const at = c;
      for (; c < columns.length && columns[c] < start + array.width; c++)
        local.push(columns[c] - start);
      readArrayColumns(fd, this.file, this.samples, array, local, keep, out, at);
    });
    return out;
  }
}
