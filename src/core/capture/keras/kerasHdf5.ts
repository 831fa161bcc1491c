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
 * Runs `fn` with standard error muted: libhdf5 prints its error stack there (many lines per
 * failure); the failure itself is reported through the return value and turned into one line.
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
  const file = quiet(() => new m.File(name, 'r'));
  const unlink = (): void => {
    try {
      FS.unlink(name);
    } catch {
      // already gone
    }
  };
  if (file.file_id < 0n) {
    unlink();
    throw new UserError(
      `${label}: expected an HDF5 file, found bytes libhdf5 cannot open (truncated or damaged?)`,
    );
  }
  const entity = (path: string) => quiet(() => (path === '/' ? file : file.get(path)));
  return {
    attr(path, attrName) {
      const obj = entity(path);
      if (!(obj instanceof m.Group || obj instanceof m.Dataset)) return undefined;
      if (!(attrName in obj.attrs)) return undefined;
      return quiet(() => obj.get_attribute(attrName, true));
    },
    keys(path) {
      const obj = entity(path);
      return obj instanceof m.Group ? quiet(() => obj.keys()) : undefined;
    },
    dataset(path) {
      const obj = entity(path);
      if (!(obj instanceof m.Dataset)) return undefined;
      const value = quiet(() => obj.value);
      const shape = quiet(() => obj.shape) ?? [];
      if (value instanceof Float32Array) return { shape, values: value };
      // Integer variables (Normalization's count, a seed state) come as numbers too.
      if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        return { shape, values: Float32Array.from(value as ArrayLike<number | bigint>, Number) };
      }
      if (typeof value === 'number' || typeof value === 'bigint') {
        return { shape, values: Float32Array.of(Number(value)) };
      }
      throw new UserError(
        `${label}: dataset '${path}' holds ${quiet(() => String(obj.dtype))} values: expected numeric weights`,
      );
    },
    close() {
      quiet(() => file.close());
      unlink();
    },
  };
}
