import type { RowSink } from '../activations';
import { inMemoryBytes, MatrixBuilder } from '../activations';
import type { NpyRowWriter } from './npyStream';

/**
 * Where a capture puts its rows: the neuron-major matrix in memory (`memory`) while it takes at
 * most `budget` bytes ({@link inMemoryBytes}), else an .npy written batch by batch by the
 * writer `open` starts, so that no S x N matrix is held. `begin` again (a capture restarted on
 * another backend) starts over.
 */
export class BudgetSink implements RowSink {
  readonly memory = new MatrixBuilder();
  private stream: NpyRowWriter | undefined;

  constructor(
    private readonly budget: number,
    private readonly open: (samples: number, neurons: number) => Promise<NpyRowWriter>,
  ) {}

  get streamed(): boolean {
    return this.stream !== undefined;
  }

  async begin(samples: number, neurons: number): Promise<void> {
    await this.abort();
    if (inMemoryBytes(samples, neurons) > this.budget)
      this.stream = await this.open(samples, neurons);
    else this.memory.begin(samples, neurons);
  }

  rows(start: number, count: number, values: Float64Array): void | Promise<void> {
    return this.stream
      ? this.stream.rows(start, count, values)
      : this.memory.rows(start, count, values);
  }

  /** Completes the file, when the rows went to one: its path (undefined: held in memory). */
  async commit(): Promise<string | undefined> {
    return this.stream?.commit();
  }

  async abort(): Promise<void> {
    await this.stream?.abort();
    this.stream = undefined;
  }
}
