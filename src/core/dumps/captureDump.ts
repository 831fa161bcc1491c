import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { RowSink } from '../activations';
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
 * Runs `capture` with a sink writing its rows to a float64 .npy in a private temporary folder
 * (under os.tmpdir(): TMPDIR), then `use` on that file read by columns. The file is unlinked
 * as soon as it is open (its reader keeps it readable and the disk space is freed when it
 * closes, even if the process is killed), and the folder is removed on success, failure or
 * cancellation alike.
 */
export async function withCapturedDump<C, T>(
  capture: (sink: RowSink) => Promise<C>,
  use: (dump: NpyColumns, captured: C) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'memlens-capture-'));
  try {
    const file = path.join(dir, 'activations.npy');
    const sink = new NpyFileSink(file, signal);
    let captured: C;
    try {
      captured = await capture(sink);
      await sink.commit();
    } catch (err) {
      await sink.abort();
      throw err;
    }
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
