import { UserError } from '../errors';

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

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Parses a .safetensors file: an 8-byte little-endian header length, a JSON header mapping
 * tensor names to {dtype, shape, data_offsets}, then the raw little-endian data. F64, F32,
 * F16 and BF16 tensors are read (as float64); other dtypes are refused by name. Tensors come
 * back in the order of `__metadata__.order` (comma-separated names) when present, else in
 * header order.
 */
export function parseSafetensors(bytes: Uint8Array, name: string): SafeTensor[] {
  if (bytes.length < 8)
    throw new UserError(
      `${name}: expected a .safetensors file (8-byte header length), found ${bytes.length} bytes`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen < 2 || 8 + headerLen > bytes.length) {
    throw new UserError(
      `${name}: expected a .safetensors header of at most ${bytes.length - 8} bytes, found a length of ${headerLen}`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<
      string,
      unknown
    >;
  } catch {
    throw new UserError(`${name}: expected a JSON .safetensors header, found invalid JSON`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const meta = header.__metadata__ as Record<string, string> | undefined;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const order = meta?.order
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (order !== undefined) {
    const missing = order.find((o) => !names.includes(o));
    if (missing !== undefined)
      throw new UserError(
        `${name}: __metadata__.order names '${missing}', which is not a tensor of the file`,
      );
  }
  return (order ?? names).map((key) => {
    const entry = header[key] as HeaderEntry;
    const width = WIDTH[entry?.dtype];
    if (width === undefined) {
      throw new UserError(
        `${name}: tensor '${key}' has dtype ${String(entry?.dtype)}: expected F32, F64, F16 or BF16`,
      );
    }
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = entry.data_offsets;
    if (end - begin !== count * width || end > dataLen || begin < 0) {
      throw new UserError(
        `${name}: tensor '${key}' ${entry.dtype}[${entry.shape.join(', ')}] needs ${count * width} bytes at offsets ${begin}-${end}, found ${dataLen} data bytes`,
      );
    }
    const data = new Float64Array(count);
    const at = dataStart + begin;
    for (let i = 0; i < count; i++) {
      const o = at + i * width;
      data[i] =
        entry.dtype === 'F64'
          ? view.getFloat64(o, true)
          : entry.dtype === 'F32'
            ? view.getFloat32(o, true)
            : entry.dtype === 'F16'
              ? halfToNumber(view.getUint16(o, true))
              : bfloat16ToNumber(view.getUint16(o, true));
    }
    return { name: key, dtype: entry.dtype, shape: entry.shape, data };
  });
}
