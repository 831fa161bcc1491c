import type * as H5wasm from 'h5wasm';
import { UserError } from '../../errors';

type H5 = typeof H5wasm;
let h5: Promise<H5> | undefined;
let counter = 0;

/** h5wasm's in-memory build (ESM; the WebAssembly starts once). */
function loadH5(): Promise<H5> {
  h5 ??= import('h5wasm').then(async (m) => {
    await m.ready;
    return m;
  });
  return h5;
}

/**
 * Runs `fn` with standard error muted: libhdf5 prints its error stack there (HDF5-DIAG, some
 * 40 lines per failure, through console.error, which h5wasm bound when it started); the
 * failure itself is reported through the return value or an exception and turned into one
 * line. h5wasm's calls are synchronous, so nothing else writes while it is muted.
 */
function quiet<T>(fn: () => T): T {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof write;
  try {
    return fn();
  } finally {
    process.stderr.write = write;
  }
}

/**
 * {@link quiet}, and any error h5wasm throws on damaged bytes ("error - name not defined!", a
 * WebAssembly trap) as one line naming the source and the object read.
 */
function guarded<T>(label: string, path: string, fn: () => T): T {
  try {
    return quiet(fn);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(
      `${label}: expected an HDF5 file libhdf5 can read, found damaged data reading '${path}' (truncated or corrupt?)`,
    );
  }
}

/** A float dataset: C-order values and shape. */
export interface Hdf5Array {
  shape: number[];
  values: Float32Array;
}

/** Read access to an HDF5 file held in memory. */
export interface Hdf5Reader {
  /** An attribute of the object at `path` ('/' = root), or undefined when absent. */
  attr(path: string, name: string): unknown;
  /** Child names of the group at `path`, or undefined when there is no such group. */
  keys(path: string): string[] | undefined;
  /** The dataset at `path` as float32 (any numeric type converted), or undefined when absent. */
  dataset(path: string): Hdf5Array | undefined;
  close(): void;
}

/**
 * Opens HDF5 bytes (a legacy Keras .h5, or model.weights.h5 from a .keras zip) with h5wasm.
 * `label` names the source in errors: bytes libhdf5 cannot open (truncated, not HDF5) give a
 * one-line UserError.
 */
export async function openHdf5(bytes: Uint8Array, label: string): Promise<Hdf5Reader> {
  const m = await loadH5();
  const { FS } = await m.ready;
  const name = `/memlens-${process.pid}-${++counter}.h5`;
  FS.writeFile(name, bytes);
  const unlink = (): void => {
    try {
      FS.unlink(name);
    } catch {
      // already gone
    }
  };
  let file: InstanceType<H5['File']>;
  try {
    file = guarded(label, '/', () => new m.File(name, 'r'));
  } catch (err) {
    unlink();
    throw err;
  }
  if (file.file_id < 0n) {
    unlink();
    throw new UserError(
      `${label}: expected an HDF5 file, found bytes libhdf5 cannot open (truncated or damaged?)`,
    );
  }
  // Every h5wasm call, getters included, runs muted and guarded: any may meet damaged bytes.
  const entity = (path: string) => (path === '/' ? file : file.get(path));
  return {
    attr(path, attrName) {
      return guarded(label, path, () => {
        const obj = entity(path);
        if (!(obj instanceof m.Group || obj instanceof m.Dataset)) return undefined;
        if (!(attrName in obj.attrs)) return undefined;
        return obj.get_attribute(attrName, true);
      });
    },
    keys(path) {
      return guarded(label, path, () => {
        const obj = entity(path);
        return obj instanceof m.Group ? obj.keys() : undefined;
      });
    },
    dataset(path) {
      return guarded(label, path, () => {
        const obj = entity(path);
        if (!(obj instanceof m.Dataset)) return undefined;
        const value = obj.value;
        const shape = obj.shape ?? [];
        if (value instanceof Float32Array) return { shape, values: value };
        // Integer variables (Normalization's count, a seed state) come as numbers too.
        if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
          return { shape, values: Float32Array.from(value as ArrayLike<number | bigint>, Number) };
        }
        if (typeof value === 'number' || typeof value === 'bigint') {
          return { shape, values: Float32Array.of(Number(value)) };
        }
        throw new UserError(
          `${label}: dataset '${path}' holds ${String(obj.dtype)} values: expected numeric weights`,
        );
      });
    },
    close() {
      try {
        quiet(() => file.close());
      } catch {
        // a damaged file may not close cleanly; its bytes go with the unlink
      }
      unlink();
    },
  };
}
