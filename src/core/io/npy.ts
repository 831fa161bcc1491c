import { excerpt, UserError } from '../errors';

/** numpy dtypes MemLens reads, as they appear in a .npy header ('<f4', '|u1', ...). */
export type NpyDtype = 'f4' | 'f8' | 'i1' | 'u1' | 'i2' | 'u2' | 'i4' | 'u4' | 'i8' | 'u8' | 'b1';

/** The numpy names of .npy type codes (byte order stripped), for messages and viewers. */
export const NPY_DTYPE_NAMES: Readonly<Record<string, string>> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  u1: 'uint8',
  b1: 'bool',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  c8: 'complex64',
  c16: 'complex128',
  O: 'object',
};

export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** An n-dimensional array read from a .npy file, in C (row-major) order. */
export interface NdArray {
  dtype: NpyDtype;
  shape: number[];
  data: NumericArray;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const CTORS: Record<
  NpyDtype,
  { bytes: number; make: (b: ArrayBuffer, o: number, n: number) => NumericArray }
> = {
  f4: { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  f8: { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  i1: { bytes: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  u1: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  b1: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  i2: { bytes: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  u2: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  i4: { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  u4: { bytes: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  i8: { bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  u8: { bytes: 8, make: (b, o, n) => new BigUint64Array(b, o, n) },
};

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && MAGIC.every((m, i) => bytes[i] === m);
}

/** Where the values of a .npy file start, and what they are. */
export interface NpyLayout {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the first value. */
  dataStart: number;
  /** Bytes the values take: the product of the shape times the item size. */
  dataBytes: number;
}

/**
 * The layout of a .npy file from its first bytes (at least the header: {@link npyHeaderEnd}
 * tells how many). `name` is used in error messages. Big-endian data, Fortran order and
 * object/complex/string dtypes are refused with a one-line UserError.
 */
export function parseNpyLayout(bytes: Uint8Array, name: string): NpyLayout {
  const dataStart = npyHeaderEnd(bytes, name);
  if (bytes.length < dataStart) {
    throw new UserError(
      `${name}: truncated .npy header: expected ${dataStart} bytes, found ${bytes.length}`,
    );
  }
  const headerStart = bytes[6] === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, dataStart));
  const { descr, fortranOrder, shape } = parseNpyHeader(header, name);
  const dtype = parseDescr(descr, name);
  if (fortranOrder) {
    throw new UserError(
      `${name}: expected C-order data, found fortran_order=True (save with np.ascontiguousarray)`,
    );
  }
  const count = shape.reduce((x, y) => x * y, 1);
  return { dtype, shape, dataStart, dataBytes: count * CTORS[dtype].bytes };
}

/**
 * The offset where a .npy file's values start, from its first 12 bytes (10 for version 1):
 * the magic, the version and the header length. Not a .npy, or an unknown version: a one-line
 * UserError naming `name`.
 */
export function npyHeaderEnd(bytes: Uint8Array, name: string): number {
  if (!isNpy(bytes)) {
    throw new UserError(
      `${name}: expected a .npy file (magic \\x93NUMPY), found ${describeStart(bytes)}`,
    );
  }
  if (bytes.length < 10)
    throw new UserError(`${name}: truncated .npy header (${bytes.length} bytes)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) return 10 + view.getUint16(8, true);
  if (major === 2 || major === 3) {
    if (bytes.length < 12)
      throw new UserError(`${name}: truncated .npy header (${bytes.length} bytes)`);
    return 12 + view.getUint32(8, true);
  }
  throw new UserError(`${name}: expected .npy format version 1, 2 or 3, found version ${major}`);
}

/**
 * Parses a .npy file. `name` is used in error messages. Big-endian data, Fortran order and
 * object/complex/string dtypes are refused with a one-line UserError.
 */
export function parseNpy(bytes: Uint8Array, name: string): NdArray {
  const { dtype, shape, dataStart, dataBytes: needed } = parseNpyLayout(bytes, name);
  if (bytes.length - dataStart < needed) {
    throw new UserError(
      `${name}: truncated .npy data: shape (${shape.join(', ')}) needs ${needed} bytes, found ${bytes.length - dataStart}`,
    );
  }
  // Copy so the typed array is aligned and owns its buffer. (Buffer#slice would be a view.)
  const copy = new Uint8Array(bytes.subarray(dataStart, dataStart + needed));
  return { dtype, shape, data: CTORS[dtype].make(copy.buffer, 0, needed / CTORS[dtype].bytes) };
}

/** The fields of a .npy header dict. */
export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

type HeaderValue = string | boolean | number[];

/**
 * Parses a .npy header: the Python literal dict numpy writes,
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }`, followed by padding. A small
 * strict reader of exactly that subset: a dict of quoted string keys to a quoted string,
 * True/False or a tuple of non-negative decimal integers (`()`, `(3,)`, `(3, 2)`; an L suffix
 * as Python 2 wrote it is accepted), commas between entries, one optional trailing comma,
 * white space between tokens, nothing but white space after the closing brace. The keys must
 * be exactly descr (a string), fortran_order (a bool) and shape (a tuple), each once. Anything
 * else (structured dtypes given as a list, escapes, expressions, extra keys) is a one-line
 * UserError naming the file, what was expected and where.
 */
export function parseNpyHeader(header: string, name: string): NpyHeader {
  let at = 0;
  const fail = (expected: string): never => {
    const rest = header.slice(at);
    const found = /^\s*$/.test(rest) ? 'the end of the header' : `'${excerpt(rest, 24)}'`;
    throw new UserError(
      `${name}: malformed .npy header: expected ${expected} at character ${at}, found ${found}`,
    );
  };
  const space = (): void => {
    while (at < header.length && /\s/.test(header[at])) at++;
  };
  const peek = (): string => {
    space();
    return header[at] ?? '';
  };
  const expect = (ch: string, what = `'${ch}'`): void => {
    if (peek() !== ch) fail(what);
    at++;
  };
  const str = (what: string): string => {
    const q = peek();
    if (q !== "'" && q !== '"') fail(what);
    const start = at + 1;
    let end = start;
    while (end < header.length && header[end] !== q) {
      if (header[end] === '\\' || header[end] === '\n') {
        at = end;
        fail(`a plain quoted string (no escapes, no line breaks)`);
      }
      end++;
    }
    if (end >= header.length) fail(`a closing quote`);
    at = end + 1;
    return header.slice(start, end);
  };
  const int = (): number => {
    space();
    const m = /^(0|[1-9][0-9]*)[lL]?(?![0-9A-Za-z_.])/.exec(header.slice(at, at + 40));
    if (m === null) fail('a non-negative integer');
    const v = Number((m as RegExpExecArray)[1]);
    if (!Number.isSafeInteger(v)) fail('a dimension below 2^53');
    at += (m as RegExpExecArray)[0].length;
    return v;
  };
  const tuple = (): number[] => {
    expect('(');
    const dims: number[] = [];
    if (peek() === ')') {
      at++;
      return dims;
    }
    for (;;) {
      dims.push(int());
      const c = peek();
      if (c === ')') {
        // (3) is the integer 3 in Python, not a tuple.
        if (dims.length === 1) fail("',' after the only dimension (a 1-tuple is written (3,))");
        at++;
        return dims;
      }
      expect(',', "',' or ')'");
      if (peek() === ')') {
        at++;
        return dims;
      }
    }
  };
  const value = (): HeaderValue => {
    const c = peek();
    if (c === "'" || c === '"') return str('a string');
    if (c === '(') return tuple();
    for (const [word, v] of [
      ['True', true],
      ['False', false],
    ] as const) {
      if (header.startsWith(word, at) && !/[0-9A-Za-z_]/.test(header[at + word.length] ?? '')) {
        at += word.length;
        return v;
      }
    }
    return fail('a string, True, False or a tuple of integers');
  };

  const fields = new Map<string, HeaderValue>();
  expect('{', "'{' (a Python dict)");
  while (peek() !== '}') {
    const keyAt = at;
    const key = str("a quoted key or '}'");
    if (!['descr', 'fortran_order', 'shape'].includes(key)) {
      at = keyAt;
      fail('one of the keys descr, fortran_order, shape');
    }
    if (fields.has(key)) {
      at = keyAt;
      fail(`each key once (${key} is repeated)`);
    }
    expect(':');
    fields.set(key, value());
    if (peek() === '}') break;
    expect(',', "',' or '}'");
  }
  at++;
  space();
  if (at < header.length) fail('only padding after the closing brace');
  const descr = fields.get('descr');
  const fortran = fields.get('fortran_order');
  const shape = fields.get('shape');
  const missing = ['descr', 'fortran_order', 'shape'].filter((k) => !fields.has(k));
  if (missing.length > 0) {
    throw new UserError(
      `${name}: malformed .npy header: expected the keys descr, fortran_order and shape, found no ${missing.join(', ')}`,
    );
  }
  if (typeof descr !== 'string')
    throw new UserError(
      `${name}: malformed .npy header: expected descr to be a string, found ${kindOfValue(descr)}`,
    );
  if (typeof fortran !== 'boolean')
    throw new UserError(
      `${name}: malformed .npy header: expected fortran_order to be True or False, found ${kindOfValue(fortran)}`,
    );
  if (!Array.isArray(shape))
    throw new UserError(
      `${name}: malformed .npy header: expected shape to be a tuple of integers, found ${kindOfValue(shape)}`,
    );
  return { descr, fortranOrder: fortran, shape };
}

function kindOfValue(v: HeaderValue | undefined): string {
  if (typeof v === 'string') return `the string '${excerpt(v, 20)}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return `a tuple (${(v ?? []).join(', ')})`;
}

function parseDescr(descr: string, name: string): NpyDtype {
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  const code = m ? `${m[2]}${m[3]}` : '';
  if (m && m[1] === '>' && m[3] !== '1') {
    throw new UserError(
      `${name}: expected little-endian data, found big-endian dtype '${excerpt(descr, 20)}'`,
    );
  }
  if (code in CTORS) return code as NpyDtype;
  throw new UserError(
    `${name}: unsupported dtype '${excerpt(descr, 20)}': expected a numeric dtype (float32, float64 or an integer type)`,
  );
}

function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `bytes ${head}`;
}

/** Converts any numeric array to float64 values (bigint types via Number). */
export function toFloat64(data: NumericArray): Float64Array {
  if (data instanceof Float64Array) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    return Float64Array.from(data, (v) => Number(v));
  }
  return Float64Array.from(data);
}

/** Serialises a float32 or float64 C-order array as .npy (format version 1.0). */
export function encodeNpy(data: Float32Array | Float64Array, shape: number[]): Uint8Array {
  const head = npyHeader(data instanceof Float32Array ? 'f4' : 'f8', shape);
  const out = new Uint8Array(head.length + data.byteLength);
  out.set(head, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), head.length);
  return out;
}

/**
 * The bytes of a version 1 .npy header for little-endian float data of `shape` in C order,
 * padded so that the data starts on a 64-byte boundary: what precedes the values in a file.
 */
export function npyHeader(dtype: 'f4' | 'f8', shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so that the data starts on a 64-byte boundary, ending the header with \n.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}
