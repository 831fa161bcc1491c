import { excerpt, UserError } from '../errors';

/** One tensor of a .safetensors file, converted to float64. */
export interface SafeTensor {
  name: string;
  /** The stored dtype: F32, F64, F16 or BF16. */
  dtype: string;
  shape: number[];
  data: Float64Array;
}

const WIDTH: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

/** IEEE 754 half precision to a number (subnormals, infinities and NaN included). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 (the top 16 bits of a float32) to a number. */
export function bfloat16ToNumber(b: number): number {
  const f = new Float32Array(1);
  new Uint32Array(f.buffer)[0] = (b & 0xffff) << 16;
  return f[0];
}

/** Bytes per element of every safetensors dtype (the read ones are {@link WIDTH}). */
const ANY_WIDTH: Record<string, number> = {
  ...WIDTH,
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  I32: 4,
  U32: 4,
  I64: 8,
  U64: 8,
};

interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Elements (product of the shape). */
  count: number;
  begin: number;
  end: number;
}

/** A tensor of a .safetensors header that is read: its data at [begin, end) of the data. */
export type TensorLayout = HeaderEntry & { dtype: 'F32' | 'F64' | 'F16' | 'BF16' };

/** What a JSON value is, in a few words, for "found ..." (never the value itself). */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string '${excerpt(v, 20)}'`;
  return `${typeof v} ${excerpt(String(v), 20)}`;
}

const isIndex = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks one header entry: an object with dtype, shape and data_offsets that fit the data. */
function checkEntry(file: string, key: string, raw: unknown, dataLen: number): HeaderEntry {
  const at = `${file}: tensor '${excerpt(key)}'`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(
      `${at}: expected an object {dtype, shape, data_offsets}, found ${kindOf(raw)}`,
    );
  }
  const e = raw as Record<string, unknown>;
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!(field in e)) throw new UserError(`${at}: expected a '${field}' field, found none`);
  }
  if (typeof e.dtype !== 'string') {
    throw new UserError(`${at}: expected a string dtype, found ${kindOf(e.dtype)}`);
  }
  const dtype = e.dtype;
  const width = ANY_WIDTH[dtype];
  if (width === undefined) {
    throw new UserError(
      `${at}: expected a safetensors dtype (F32, F64, F16, BF16, ...), found '${excerpt(dtype, 20)}'`,
    );
  }
  if (!Array.isArray(e.shape) || !e.shape.every(isIndex)) {
    const bad = Array.isArray(e.shape) ? e.shape.find((d) => !isIndex(d)) : e.shape;
    throw new UserError(
      `${at}: expected a shape of non-negative integers, found ${Array.isArray(e.shape) ? `a dimension ${kindOf(bad)}` : kindOf(bad)}`,
    );
  }
  const shape = e.shape as number[];
  const offsets = e.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw new UserError(
      `${at}: expected data_offsets [begin, end] of non-negative integers, found ${Array.isArray(offsets) && offsets.length === 2 ? `[${offsets.map(kindOf).join(', ')}]` : kindOf(offsets)}`,
    );
  }
  const [begin, end] = offsets as number[];
  if (begin > end || end > dataLen) {
    throw new UserError(
      `${at}: expected data_offsets within the ${dataLen} data bytes with begin <= end, found [${begin}, ${end}]`,
    );
  }
  // The byte count, stopping as soon as it exceeds the data (no overflow on huge shapes).
  let count = shape.includes(0) ? 0 : 1;
  let exact = true;
  for (const d of shape) {
    if (count * width > dataLen) {
      exact = false;
      break;
    }
    count *= d;
  }
  if (!exact || count * width !== end - begin) {
    const needs = exact ? `${count * width}` : `more than ${dataLen}`;
    throw new UserError(
      `${at} ${dtype}[${excerpt(shape.join(', '), 40)}] needs ${needs} bytes, found offsets ${begin}-${end} (${end - begin} bytes) of ${dataLen} data bytes`,
    );
  }
  return { name: key, dtype, shape, count, begin, end };
}

/** The `__metadata__` map (string to string), or undefined when absent. */
function checkMetadata(file: string, raw: unknown): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(
      `${file}: expected __metadata__ to be an object of strings, found ${kindOf(raw)}`,
    );
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') {
      throw new UserError(
        `${file}: expected __metadata__ values to be strings, found ${kindOf(v)} for '${excerpt(k)}'`,
      );
    }
  }
  return raw as Record<string, string>;
}

/**
 * Parses a .safetensors file: an 8-byte little-endian header length, a UTF-8 JSON header
 * mapping tensor names to {dtype, shape, data_offsets}, then the raw little-endian data.
 *
 * The header is checked in full before any tensor is read: a JSON object; `__metadata__`, when
 * present, an object of strings; every other entry an object with a known safetensors dtype,
 * a shape of non-negative integers and data_offsets [begin, end] of integers with
 * begin <= end <= the data size and end - begin = (elements of the shape) x (dtype width); no
 * two tensors' byte ranges overlap. F64, F32, F16 and BF16 tensors are read (as float64);
 * other dtypes are refused by name. Tensors come back in the order of `__metadata__.order`
 * (comma-separated names; tensors it does not name are not read) when present, else in header
 * order; a name listed twice or naming no tensor is refused. Every failure is a one-line
 * UserError.
 */
export function parseSafetensors(bytes: Uint8Array, name: string): SafeTensor[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { dataStart, tensors } = safetensorsLayout(bytes, bytes.length, name);
  return tensors.map((entry) => {
    const { count, dtype } = entry;
    const width = WIDTH[dtype];
    const data = new Float64Array(count);
    const at = dataStart + entry.begin;
    for (let i = 0; i < count; i++) {
      const o = at + i * width;
      data[i] =
        dtype === 'F64'
          ? view.getFloat64(o, true)
          : dtype === 'F32'
            ? view.getFloat32(o, true)
            : dtype === 'F16'
              ? halfToNumber(view.getUint16(o, true))
              : bfloat16ToNumber(view.getUint16(o, true));
    }
    return { name: entry.name, dtype, shape: entry.shape, data };
  });
}

/**
 * Where the header of a .safetensors file of `size` bytes ends (8 + its declared length), from
 * its first 8 bytes at least: a length that does not fit the file is a one-line UserError.
 */
export function safetensorsHeaderEnd(bytes: Uint8Array, size: number, name: string): number {
  if (size < 8 || bytes.length < 8)
    throw new UserError(
      `${name}: expected a .safetensors file (8-byte header length), found ${size} bytes`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen < 2 || 8 + headerLen > size) {
    throw new UserError(
      `${name}: expected a .safetensors header of at most ${size - 8} bytes, found a length of ${headerLen}`,
    );
  }
  return 8 + headerLen;
}

/**
 * The header of a .safetensors file of `size` bytes, checked as {@link parseSafetensors}
 * checks it, from its first bytes (at least {@link safetensorsHeaderEnd}): where the data
 * starts and the tensors to read, in order, each F32, F64, F16 or BF16 with its byte range.
 */
export function safetensorsLayout(
  bytes: Uint8Array,
  size: number,
  name: string,
): { dataStart: number; tensors: TensorLayout[] } {
  const dataStart = safetensorsHeaderEnd(bytes, size, name);
  const headerLen = dataStart - 8;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    throw new UserError(`${name}: expected a UTF-8 JSON .safetensors header, found invalid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    throw new UserError(
      `${name}: expected a JSON .safetensors header, found invalid JSON starting '${excerpt(text, 30)}'`,
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new UserError(
      `${name}: expected the .safetensors header to be a JSON object, found ${kindOf(header)}`,
    );
  }
  const fields = header as Record<string, unknown>;
  const dataLen = size - dataStart;
  const meta = checkMetadata(name, fields.__metadata__);
  const entries = new Map<string, HeaderEntry>();
  for (const key of Object.keys(fields)) {
    if (key !== '__metadata__') entries.set(key, checkEntry(name, key, fields[key], dataLen));
  }
  // No two tensors may share bytes (empty tensors take none).
  const ranges = [...entries.values()].filter((e) => e.end > e.begin);
  ranges.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    const [a, b] = [ranges[i - 1], ranges[i]];
    if (b.begin < a.end) {
      throw new UserError(
        `${name}: expected tensors in separate bytes, found '${excerpt(a.name, 30)}' (${a.begin}-${a.end}) overlapping '${excerpt(b.name, 30)}' (${b.begin}-${b.end})`,
      );
    }
  }
  let order: string[] | undefined;
  if (meta?.order !== undefined) {
    order = meta.order
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const seen = new Set<string>();
    for (const o of order) {
      if (!entries.has(o))
        throw new UserError(
          `${name}: __metadata__.order names '${excerpt(o)}', which is not a tensor of the file`,
        );
      if (seen.has(o))
        throw new UserError(
          `${name}: __metadata__.order names '${excerpt(o)}' twice: expected each tensor at most once`,
        );
      seen.add(o);
    }
  }
  const tensors = (order ?? [...entries.keys()]).map((key) => {
    const entry = entries.get(key) as HeaderEntry;
    if (WIDTH[entry.dtype] === undefined) {
      throw new UserError(
        `${name}: tensor '${excerpt(key)}' has dtype ${entry.dtype}: expected F32, F64, F16 or BF16`,
      );
    }
    return entry as TensorLayout;
  });
  return { dataStart, tensors };
}
