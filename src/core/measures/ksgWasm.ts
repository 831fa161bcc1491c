// Host side of the WebAssembly KSG-1 kernel (ksgKernel.c, built by the project's build into
// ksgKernel.wasm beside the bundles). Columns are prepared (sorted) by ksgKernel.ts
// prepareColumn, copied once into the module's linear memory, and referred to by handle; the
// module computes the same bit-identical values as ksgPair, about 3 times as fast. A build
// without clang has no .wasm: the MI workers then run the TypeScript kernel (src/core/mi/kernel.ts).
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { KsgEstimator, PreparedColumn } from './ksgKernel';

/** The wasm file's name; the build puts it beside every Node bundle (dist/, out/test/). */
export const KSG_WASM_FILE = 'ksgKernel.wasm';

/** The parts of the WebAssembly JS API used here (the project's TS libs have no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface KsgExports {
  memory: { buffer: ArrayBuffer };
  mem_alloc(bytes: number): number;
  mem_reset(): void;
  scratch_new(n: number, k: number, psi: number, mixed: number): number;
  ksg_pair(x: number, y: number, scratch: number): number;
}

/** Byte size of the C `Col` header and the offsets of its fields (see ksgKernel.c). */
const COL_BYTES = 48;
/** Guard entries on each side of `sorted` in `guarded` (ksgKernel.ts GUARD, ksgKernel.c GUARD). */
const GUARD = 9;

/**
 * One instance of the wasm kernel: its own linear memory holding the columns of one job and a
 * scratch area. Not thread-safe; each MI worker owns one.
 */
export class KsgWasmKernel {
  private readonly ex: KsgExports;

  private constructor(ex: KsgExports) {
    this.ex = ex;
  }

  /** The default kernel file: ksgKernel.wasm beside the running bundle. */
  static readonly defaultFile = path.join(__dirname, KSG_WASM_FILE);

  /** True when the kernel file exists (a build without clang skips it). */
  static available(file: string = KsgWasmKernel.defaultFile): boolean {
    return existsSync(file);
  }

  /**
   * Instantiates the kernel from `file` (default: ksgKernel.wasm beside the running bundle).
   * Throws an Error naming the file when it is missing (callers that can do without it check
   * {@link available} first and run the TypeScript kernel).
   */
  static load(file: string = KsgWasmKernel.defaultFile): KsgWasmKernel {
    if (!existsSync(file)) {
      throw new Error(
        `MI kernel: expected the WebAssembly kernel at ${file}, found no file ` +
          '(it is built from src/core/measures/ksgKernel.c by `npm run build` when clang and lld are installed)',
      );
    }
    const module = new wasmApi.Module(readFileSync(file));
    const instance = new wasmApi.Instance(module, {});
    return new KsgWasmKernel(instance.exports as unknown as KsgExports);
  }

  /** Drops every column and scratch area (the linear memory is reused, not shrunk). */
  reset(): void {
    this.ex.mem_reset();
  }

  private alloc(bytes: number): number {
    const p = this.ex.mem_alloc(bytes);
    if (p === 0) {
      throw new RangeError(
        `MI kernel: WebAssembly memory exhausted (asked for ${bytes} more bytes beyond ${this.ex.memory.buffer.byteLength})`,
      );
    }
    return p;
  }

  private copyF64(src: Float64Array): number {
    const p = this.alloc(src.byteLength);
    new Float64Array(this.ex.memory.buffer, p, src.length).set(src);
    return p;
  }

  private copyI32(src: Int32Array): number {
    const p = this.alloc(src.byteLength);
    new Int32Array(this.ex.memory.buffer, p, src.length).set(src);
    return p;
  }

  /** Copies a prepared column into the module; returns its handle for {@link pair}. */
  addColumn(c: PreparedColumn): number {
    if (c.guarded.length !== c.n + 2 * GUARD) {
      throw new RangeError('MI kernel: prepared column guard width differs from the wasm kernel');
    }
    const header = this.alloc(COL_BYTES);
    // The grid bands (band, bandLo, bandHi) are not copied: ksgKernel.c cuts its own.
    const ptrs = [
      this.copyF64(c.guarded),
      this.copyI32(c.order),
      this.copyI32(c.rank),
      c.groupStart === null ? 0 : this.copyI32(c.groupStart),
      c.groupEnd === null ? 0 : this.copyI32(c.groupEnd),
      this.copyI32(c.bucketStart),
    ];
    const view = new DataView(this.ex.memory.buffer, header, COL_BYTES);
    view.setInt32(0, c.n, true);
    view.setInt32(4, c.maxRun, true);
    view.setFloat64(8, c.min, true);
    view.setFloat64(16, c.scale, true);
    ptrs.forEach((p, i) => view.setInt32(24 + 4 * i, p, true));
    return header;
  }

  /**
   * Scratch buffers for pairs of n samples with k neighbours; psi = digammaTable(>= n). Every
   * pair computed with it uses `estimator` (default `ksg`).
   */
  newScratch(n: number, k: number, psi: Float64Array, estimator: KsgEstimator = 'ksg'): number {
    if (psi.length < n + 1) throw new RangeError('MI kernel: digamma table shorter than n + 1');
    const psiPtr = this.copyF64(psi);
    const sc = this.ex.scratch_new(n, k, psiPtr, estimator === 'mixed' ? 1 : 0);
    if (sc === 0)
      throw new RangeError(`MI kernel: WebAssembly memory exhausted (scratch, S = ${n})`);
    return sc;
  }

  /**
   * KSG-1 (or the scratch's `mixed`) mutual information (nats) of columns x and y (handles from
   * {@link addColumn}, same sample count as the scratch): bit-identical to ksgKernel.ts ksgPair.
   */
  pair(x: number, y: number, scratch: number): number {
    return this.ex.ksg_pair(x, y, scratch);
  }
}
