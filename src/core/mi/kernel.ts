// The KSG-1 pair kernel an MI worker runs. `auto` takes the fastest that is there and works:
// the native addon (ksgNative.ts, ksgKernel.c built with node-gyp) when it loads and passes a
// self-check against the TypeScript kernel, else the WebAssembly build of the same C
// (ksgWasm.ts), else the TypeScript kernel (ksgKernel.ts). All three give the same bits
// (test/unit/ksgNative.test.ts and ksgWasm.test.ts hold them to the TypeScript reference).
// The addon is missing where the build found no C compiler or Node headers, or where the .vsix
// carries no binary for the platform; the .wasm where the build found no clang.
import type { KsgEstimator, PreparedColumn } from '../measures/ksgKernel';
import { KsgScratch, ksgPair, prepareColumn } from '../measures/ksgKernel';
import { digammaTable } from '../measures/digamma';
import { KsgNativeKernel } from '../measures/ksgNative';
import { KsgWasmKernel } from '../measures/ksgWasm';

/** Which kernel computed the pairs, fastest first. */
export type KsgKernelName = 'native' | 'wasm' | 'ts';

/** The kernels, fastest first. */
export const KSG_KERNELS: readonly KsgKernelName[] = ['native', 'wasm', 'ts'];

/**
 * Which kernel to run: `auto` is the fastest available one (see above); a name forces that
 * kernel, and loading it fails with an Error when it is not there (tests, speed comparisons).
 */
export type KsgKernelChoice = 'auto' | KsgKernelName;

/** The environment variable that forces a kernel (`MEMLENS_MI_KERNEL=ts|wasm|native`). */
export const KERNEL_ENV = 'MEMLENS_MI_KERNEL';

/** The kernel choice of the environment: a kernel named by MEMLENS_MI_KERNEL, else `auto`. */
export function kernelChoiceFromEnv(env: NodeJS.ProcessEnv = process.env): KsgKernelChoice {
  const v = env[KERNEL_ENV]?.trim().toLowerCase();
  return (KSG_KERNELS as readonly string[]).includes(v ?? '') ? (v as KsgKernelName) : 'auto';
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

/** The TypeScript kernel behind the same handle-based interface as the compiled ones. */
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

/** ksgNative.ts and ksgWasm.ts have the same handle-based methods. */
interface CompiledKernel {
  reset(): void;
  addColumn(c: PreparedColumn): number;
  newScratch(n: number, k: number, psi: Float64Array, estimator: KsgEstimator): number;
  pair(x: number, y: number, scratch: number): number;
}

class CompiledPairKernel implements PairKernel {
  constructor(
    readonly name: KsgKernelName,
    private readonly impl: CompiledKernel,
  ) {}
  reset(): void {
    this.impl.reset();
  }
  addColumn(c: PreparedColumn): number {
    return this.impl.addColumn(c);
  }
  newScratch(n: number, k: number, psi: Float64Array, estimator: KsgEstimator): number {
    return this.impl.newScratch(n, k, psi, estimator);
  }
  pair(x: number, y: number, scratch: number): number {
    return this.impl.pair(x, y, scratch);
  }
}

/**
 * Self-check of a freshly loaded compiled kernel: a few pairs of S = 64 columns that take its
 * main paths (the rank grid, the sweeps with and without x ties, eps = 0), both estimators,
 * against the TypeScript kernel, bit for bit. Returns why it failed, or null. Leaves the kernel
 * reset.
 */
export function selfCheck(kernel: PairKernel): string | null {
  const S = 64;
  const cols: Float64Array[] = [
    Float64Array.from({ length: S }, (_, s) => Math.sin(s * 1.7) * 3 + s / 40),
    Float64Array.from({ length: S }, (_, s) => Math.cos(s * 0.9) + Math.sin(s * 2.3) / 2),
    Float64Array.from({ length: S }, (_, s) => Math.max(0, Math.sin(s * 1.3))),
    Float64Array.from({ length: S }, (_, s) => Math.round(Math.cos(s * 0.7) * 2)),
  ];
  const prepared = cols.map((c) => prepareColumn(c));
  const psi = digammaTable(S);
  try {
    kernel.reset();
    const handles = prepared.map((c) => kernel.addColumn(c));
    for (const estimator of ['ksg', 'mixed'] as const) {
      const scratch = kernel.newScratch(S, 3, psi, estimator);
      const ts = new KsgScratch(S, 3, psi, estimator);
      for (let a = 0; a < cols.length; a++) {
        for (let b = 0; b < cols.length; b++) {
          const want = ksgPair(prepared[a], prepared[b], ts);
          const got = kernel.pair(handles[a], handles[b], scratch);
          if (!Object.is(got, want)) {
            return `pair ${a} x ${b} (${estimator}) gave ${got}, the TypeScript kernel ${want}`;
          }
        }
      }
    }
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    kernel.reset();
  }
}

export interface LoadedKernel {
  kernel: PairKernel;
  /** Set when `auto` did not get the native kernel: why, and what runs instead, in one line. */
  fallback?: string;
}

/** Where the compiled kernels are (default: beside the running bundle); tests point elsewhere. */
export interface KernelFiles {
  native?: string;
  wasm?: string;
}

/** Loads and self-checks one compiled kernel; an Error says why it cannot run. */
function loadCompiled(name: 'native' | 'wasm', files: KernelFiles): PairKernel {
  const kernel =
    name === 'native'
      ? new CompiledPairKernel('native', KsgNativeKernel.load(files.native))
      : new CompiledPairKernel('wasm', KsgWasmKernel.load(files.wasm));
  const failed = selfCheck(kernel);
  if (failed !== null) throw new Error(`the ${name} MI kernel failed its self-check: ${failed}`);
  return kernel;
}

const SPEED: Record<KsgKernelName, string> = {
  native: 'the native MI kernel',
  wasm: 'the WebAssembly MI kernel',
  ts: 'the TypeScript MI kernel',
};

/**
 * The kernel for `choice`. A forced kernel that is missing, does not load or fails its
 * self-check throws; `auto` falls back to the next one and says why in `fallback`.
 */
export function loadPairKernel(choice: KsgKernelChoice, files: KernelFiles = {}): LoadedKernel {
  if (choice === 'ts') return { kernel: new TsPairKernel() };
  if (choice !== 'auto') return { kernel: loadCompiled(choice, files) };
  const why: string[] = [];
  for (const name of ['native', 'wasm'] as const) {
    const file = name === 'native' ? files.native : files.wasm;
    const present =
      name === 'native' ? KsgNativeKernel.available(file) : KsgWasmKernel.available(file);
    if (!present) {
      why.push(
        name === 'native'
          ? `${SPEED.native} (${file ?? KsgNativeKernel.defaultFile}) was not built (no C compiler or Node headers)`
          : `${SPEED.wasm} (${file ?? KsgWasmKernel.defaultFile}) was not built (no clang)`,
      );
      continue;
    }
    try {
      const kernel = loadCompiled(name, files);
      return why.length === 0 ? { kernel } : { kernel, fallback: fallbackLine(why, name) };
    } catch (err) {
      why.push(err instanceof Error ? err.message : String(err));
    }
  }
  return { kernel: new TsPairKernel(), fallback: fallbackLine(why, 'ts') };
}

function fallbackLine(why: string[], running: KsgKernelName): string {
  return `${why.join('; ')}; running ${SPEED[running]}: same values, slower`;
}

/**
 * The kernel `choice` runs in this process; for `auto` found by loading (and self-checking)
 * the compiled ones, as a worker does. What `memlens --version` and jobs without pairs name.
 */
export function availableKernel(choice: KsgKernelChoice = 'auto'): KsgKernelName {
  return choice === 'auto' ? loadPairKernel('auto').kernel.name : choice;
}

/** The slower of two kernels (what a job reports when its workers ran different ones). */
export function slowerKernel(a: KsgKernelName, b: KsgKernelName): KsgKernelName {
  return KSG_KERNELS.indexOf(a) > KSG_KERNELS.indexOf(b) ? a : b;
}
