// The KSG-1 pair kernel an MI worker runs: the WebAssembly build of ksgKernel.c (ksgWasm.ts)
// when its .wasm sits beside the bundle, else the TypeScript kernel (ksgKernel.ts), which
// gives the same bits (test/unit/ksgWasm.test.ts holds them to each other) about 2.5 times as
// slowly. The .wasm is missing when the build found no clang (macOS and Windows without LLVM).
import type { KsgEstimator, PreparedColumn } from '../measures/ksgKernel';
import { KsgScratch, ksgPair } from '../measures/ksgKernel';
import { KsgWasmKernel } from '../measures/ksgWasm';

/** Which kernel computed the pairs. */
export type KsgKernelName = 'wasm' | 'ts';

/**
 * Which kernel to run: `auto` is the WebAssembly kernel when built, else the TypeScript one;
 * `ts` forces the TypeScript kernel (tests, and MEMLENS_MI_KERNEL=ts to compare speeds).
 */
export type KsgKernelChoice = 'auto' | 'ts';

/** The environment variable that forces the TypeScript kernel (`MEMLENS_MI_KERNEL=ts`). */
export const KERNEL_ENV = 'MEMLENS_MI_KERNEL';

/** The kernel choice of the environment: `ts` when MEMLENS_MI_KERNEL=ts, else `auto`. */
export function kernelChoiceFromEnv(env: NodeJS.ProcessEnv = process.env): KsgKernelChoice {
  return env[KERNEL_ENV]?.trim().toLowerCase() === 'ts' ? 'ts' : 'auto';
}

/** The operations a worker needs, on columns and scratch areas referred to by handle. */
export interface PairKernel {
  readonly name: KsgKernelName;
  /** Drops every column and scratch area. */
  reset(): void;
  addColumn(c: PreparedColumn): number;
  /** Every pair computed with the scratch uses `estimator`. */
  newScratch(n: number, k: number, psi: Float64Array, estimator: KsgEstimator): number;
  pair(x: number, y: number, scratch: number): number;
}

/** The TypeScript kernel behind the same handle-based interface as the WebAssembly one. */
export class TsPairKernel implements PairKernel {
  readonly name = 'ts';
  private columns: PreparedColumn[] = [];
  private scratches: KsgScratch[] = [];

  reset(): void {
    this.columns = [];
    this.scratches = [];
  }

  addColumn(c: PreparedColumn): number {
    return this.columns.push(c) - 1;
  }

  newScratch(n: number, k: number, psi: Float64Array, estimator: KsgEstimator): number {
    return this.scratches.push(new KsgScratch(n, k, psi, estimator)) - 1;
  }

  pair(x: number, y: number, scratch: number): number {
    return ksgPair(this.columns[x], this.columns[y], this.scratches[scratch]);
  }
}

class WasmPairKernel implements PairKernel {
  readonly name = 'wasm';
  constructor(private readonly wasm: KsgWasmKernel) {}
  reset(): void {
    this.wasm.reset();
  }
  addColumn(c: PreparedColumn): number {
    return this.wasm.addColumn(c);
  }
  newScratch(n: number, k: number, psi: Float64Array, estimator: KsgEstimator): number {
    return this.wasm.newScratch(n, k, psi, estimator);
  }
  pair(x: number, y: number, scratch: number): number {
    return this.wasm.pair(x, y, scratch);
  }
}

export interface LoadedKernel {
  kernel: PairKernel;
  /** Set when `auto` fell back to the TypeScript kernel: why, in one line. */
  fallback?: string;
}

/** The kernel for `choice`; `wasmFile` defaults to ksgKernel.wasm beside the running bundle. */
export function loadPairKernel(
  choice: KsgKernelChoice,
  wasmFile: string = KsgWasmKernel.defaultFile,
): LoadedKernel {
  if (choice === 'ts') return { kernel: new TsPairKernel() };
  if (!KsgWasmKernel.available(wasmFile)) {
    return {
      kernel: new TsPairKernel(),
      fallback:
        `the WebAssembly MI kernel (${wasmFile}) was not built (no clang); ` +
        'running the TypeScript kernel: same values, about 2.5x slower',
    };
  }
  return { kernel: new WasmPairKernel(KsgWasmKernel.load(wasmFile)) };
}
