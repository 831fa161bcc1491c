import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { RowSink } from '../activations';
import { inMemoryBytes, MatrixBuilder } from '../activations';
import { NpyColumns } from '../io/npyColumns';
import { NpyRowWriter } from '../io/npyStream';

/**
 * A capture's rows streamed to a float64 .npy (the values as captured, bit for bit), so that
 * no S x N matrix is held: `begin` again (a capture restarted on another backend) starts over.
 */
class NpyFileSink implements RowSink {
  private writer: NpyRowWriter | undefined;

  constructor(
    private readonly file: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async begin(samples: number, neurons: number): Promise<void> {
    await this.writer?.abort();
    this.writer = await NpyRowWriter.open(this.file, samples, neurons, {
      dtype: 'f8',
      ...(this.signal === undefined ? {} : { signal: this.signal }),
    });
  }

  rows(start: number, count: number, values: Float64Array): Promise<void> {
    if (this.writer === undefined) throw new Error('NpyFileSink: rows before begin');
    return this.writer.rows(start, count, values);
  }

  async commit(): Promise<void> {
    if (this.writer === undefined) throw new Error('NpyFileSink: commit before begin');
    await this.writer.commit();
  }

  abort(): Promise<void> | undefined {
    return this.writer?.abort();
  }
}

/**
 * A capture's rows held in memory (MatrixBuilder) while the matrix takes at most `budget`
 * bytes ({@link inMemoryBytes}), else streamed to a file as NpyFileSink streams them.
 */
class BudgetSink implements RowSink {
  readonly memory = new MatrixBuilder();
  private file: NpyFileSink | undefined;

  constructor(
    private readonly path: string,
    private readonly budget: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  get streamed(): boolean {
    return this.file !== undefined;
  }

  async begin(samples: number, neurons: number): Promise<void> {
    await this.abort();
    this.file = undefined;
    if (inMemoryBytes(samples, neurons) <= this.budget) return this.memory.begin(samples, neurons);
    this.file = new NpyFileSink(this.path, this.signal);
    await this.file.begin(samples, neurons);
  }

  rows(start: number, count: number, values: Float64Array): void | Promise<void> {
    return this.file
      ? this.file.rows(start, count, values)
      : this.memory.rows(start, count, values);
  }

  async commit(): Promise<void> {
    await this.file?.commit();
  }

  abort(): Promise<void> | undefined {
    return this.file?.abort();
  }
}

/** A capture held in memory when it fits `budget` bytes, and what to do with it then. */
export interface HeldCapture<C, T> {
  budget: number;
  use: (data: Float64Array, captured: C) => Promise<T>;
}

/**
 * Runs `capture` with a sink writing its rows to a float64 .npy in a private temporary folder
 * (under os.tmpdir(): TMPDIR), then `use` on that file read by columns; or, with `held`, keeps
 * a matrix that fits its budget in memory and runs `held.use` on it instead. The file is
 * unlinked as soon as it is open (its reader keeps it readable and the disk space is freed
 * when it closes, even if the process is killed), and the folder is removed on success,
 * failure or cancellation alike.
 */
export async function withCapturedDump<C, T>(
  capture: (sink: RowSink) => Promise<C>,
  use: (dump: NpyColumns, captured: C) => Promise<T>,
  signal?: AbortSignal,
  held?: HeldCapture<C, T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'memlens-capture-'));
  try {
    const file = path.join(dir, 'activations.npy');
    const sink = new BudgetSink(file, held?.budget ?? -Infinity, signal);
    let captured: C;
    try {
      captured = await capture(sink);
      await sink.commit();
    } catch (err) {
      await sink.abort();
      throw err;
    }
    if (held !== undefined && !sink.streamed) return await held.use(sink.memory.data, captured);
    const dump = NpyColumns.open(file);
    try {
      // Where an open file cannot be unlinked (Windows without share-delete), the finally does.
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      return await use(dump, captured);
    } finally {
      dump.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
