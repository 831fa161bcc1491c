import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { RowSink } from '../activations';
import { BudgetSink } from '../io/budgetSink';
import { NpyColumns } from '../io/npyColumns';
import { NpyRowWriter } from '../io/npyStream';

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
    // The values as captured, bit for bit: float64.
    const sink = new BudgetSink(held?.budget ?? -Infinity, (samples, neurons) =>
      NpyRowWriter.open(file, samples, neurons, {
        dtype: 'f8',
        ...(signal === undefined ? {} : { signal }),
      }),
    );
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
