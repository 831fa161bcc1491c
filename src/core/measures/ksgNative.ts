// Host side of the native KSG-1 kernel: ksgKernel.c built as a Node addon (native/ksgNative.c,
// N-API) into ksgNative.node beside the bundles by the project's build when it finds a C
// compiler and Node's headers. Same source and same bits as the WebAssembly kernel, about
// twice as fast. Columns are prepared (sorted) by ksgKernel.ts prepareColumn and copied into
// the addon once; pairs refer to them by handle.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { KsgEstimator, PreparedColumn } from './ksgKernel';

/** The addon's file name; the build puts it beside every Node bundle (dist/, out/test/). */
export const KSG_NATIVE_FILE = 'ksgNative.node';

/** What native/ksgNative.c exports. */
interface NativeExports {
  create(): object;
  reset(instance: object): void;
  addColumn(
    instance: object,
    n: number,
    maxRun: number,
    min: number,
    scale: number,
    guarded: Float64Array,
    order: Int32Array,
    rank: Int32Array,
    groupStart: Int32Array | null,
    groupEnd: Int32Array | null,
    bucketStart: Int32Array,
  ): number;
  newScratch(instance: object, n: number, k: number, psi: Float64Array, mixed: number): number;
  pair(instance: object, x: number, y: number, scratch: number): number;
  simd(instance: object, mode: KsgNativeSimd): 'avx2' | 'baseline';
}

/**
 * The vector paths of the native kernel: `auto` takes AVX2 where the processor has it (x86-64),
 * `baseline` the SSE2 one; both give the same bits.
 */
export type KsgNativeSimd = 'auto' | 'baseline';

/** Loaded addons by file: a process loads a shared library once (worker threads share it). */
const loaded = new Map<string, NativeExports>();

function loadAddon(file: string): NativeExports {
  let ex = loaded.get(file);
  if (ex === undefined) {
    const mod = { exports: {} as NativeExports };
    process.dlopen(mod, file);
    ex = mod.exports;
    loaded.set(file, ex);
  }
  return ex;
}

/**
 * One instance of the native kernel: the columns of one job and its scratch areas, in memory
 * the addon owns (freed by reset and when the instance is garbage-collected). Not thread-safe;
 * each MI worker owns one.
 */
export class KsgNativeKernel {
  private constructor(
    private readonly ex: NativeExports,
    private readonly instance: object,
  ) {}

  /** The default addon file: ksgNative.node beside the running bundle. */
  static readonly defaultFile = path.join(__dirname, KSG_NATIVE_FILE);

  /** True when the addon file exists (a build without a C compiler or Node headers skips it). */
  static available(file: string = KsgNativeKernel.defaultFile): boolean {
    return existsSync(file);
  }

  /**
   * Loads the addon from `file` (default: beside the running bundle). Throws an Error naming the
   * file when it is missing or does not load (built for another platform or Node ABI).
   */
  static load(file: string = KsgNativeKernel.defaultFile): KsgNativeKernel {
    if (!existsSync(file)) {
      throw new Error(
        `MI kernel: expected the native kernel at ${file}, found no file ` +
          '(it is built from src/core/measures/native/ksgNative.c by `npm run build` when a C compiler and Node headers are found)',
      );
    }
    let ex: NativeExports;
    try {
      ex = loadAddon(file);
    } catch (err) {
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new Error(`MI kernel: the native kernel ${file} does not load: ${why}`, {
        cause: err,
      });
    }
    return new KsgNativeKernel(ex, ex.create());
  }

  /**
   * Chooses the vector path of this instance's pairs (a new instance starts at `auto`); returns
   * the one taken: `avx2`, or `baseline` where the processor or the build has no AVX2.
   */
  simd(mode: KsgNativeSimd): 'avx2' | 'baseline' {
    return this.ex.simd(this.instance, mode);
  }

  /** Drops every column and scratch area. */
  reset(): void {
    this.ex.reset(this.instance);
  }

  /**
   * Copies a prepared column into the addon (not its grid bands: ksgKernel.c cuts its own);
   * returns its handle for {@link pair}.
   */
  addColumn(c: PreparedColumn): number {
    return this.ex.addColumn(
      this.instance,
      c.n,
      c.maxRun,
      c.min,
      c.scale,
      c.guarded,
      c.order,
      c.rank,
      c.groupStart,
      c.groupEnd,
      c.bucketStart,
    );
  }

  /**
   * Scratch buffers for pairs of n samples with k neighbours; psi = digammaTable(>= n). Every
   * pair computed with it uses `estimator` (default `ksg`).
   */
  newScratch(n: number, k: number, psi: Float64Array, estimator: KsgEstimator = 'ksg'): number {
    if (psi.length < n + 1) throw new RangeError('MI kernel: digamma table shorter than n + 1');
    return this.ex.newScratch(
      this.instance,
      n,
      k,
      psi.subarray(0, n + 1),
      estimator === 'mixed' ? 1 : 0,
    );
  }

  /**
   * KSG-1 (or the scratch's `mixed`) mutual information (nats) of columns x and y (handles from
   * {@link addColumn}): bit-identical to ksgKernel.ts ksgPair.
   */
  pair(x: number, y: number, scratch: number): number {
    return this.ex.pair(this.instance, x, y, scratch);
  }
}
