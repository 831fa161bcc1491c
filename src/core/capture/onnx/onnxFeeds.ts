/**
 * The feeds of one ONNX run: the probe batch for the fed input, and a value for every other
 * input (a state, a sample rate, a mask), shaped with the batch on the axis whose symbolic
 * name is the fed input's batch dimension (`state: [2, batch, 128]`), not blindly axis 0.
 */
import { UserError } from '../../errors';
import { otherValue } from '../common/modelInputs';
import type { OnnxDimension, OnnxValueInfo } from './onnxProto';
import { dimSize } from './onnxProto';
import type { WireTensor } from './onnxProtocol';

export const ELEM_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
};

/** The element type of the fed input; one the probe cannot be converted to is refused. */
export function fedTypeOf(file: string, fed: OnnxValueInfo): string {
  const type = ELEM_TYPES[fed.type?.tensorType?.elemType ?? 1];
  if (type === undefined || type === 'bool' || type === 'float16')
    throw new UserError(
      `${file}: input '${fed.name ?? ''}' has element type ${fed.type?.tensorType?.elemType}: expected float, double, int32 or int64`,
    );
  return type;
}

/** float32 values as the typed array of an ONNX element type (integers rounded). */
export function wireData(type: string, values: Float32Array): WireTensor['data'] {
  switch (type) {
    case 'float32':
      return values;
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values, Math.round);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(Math.round(v)));
    case 'int8':
      return Int8Array.from(values, Math.round) as unknown as WireTensor['data'];
    case 'int16':
      return Int16Array.from(values, Math.round) as unknown as WireTensor['data'];
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values, Math.round);
    case 'float16':
      return Uint16Array.from(values, float16Bits) as unknown as WireTensor['data'];
    default:
      return values;
  }
}

/** The bits of the float16 nearest to v (round to nearest even). */
function float16Bits(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp >= 0x1f) return sign | (((x >>> 23) & 0xff) === 0xff && mant ? 0x7e00 : 0x7c00);
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >> (1 - exp + 13);
    return sign | m;
  }
  let h = sign | (exp << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return h;
}

/**
 * The dims of another input for a run of `run` examples: fixed sizes as declared; the
 * dimension named like the fed input's batch dimension is the batch (when none is, the first
 * symbolic axis: Silero VAD v5's unnamed `state: [2, ?, 128]`); another named like a fed
 * dimension takes its size; else 1.
 */
export function otherDims(
  dims: readonly OnnxDimension[],
  fedDims: readonly OnnxDimension[],
  run: number,
  exampleShape: readonly number[],
): number[] {
  const batchName = fedDims[0]?.dimParam || undefined;
  const named = batchName !== undefined && dims.some((d) => d.dimParam === batchName);
  const firstSymbolic = dims.findIndex((d) => dimSize(d) === null);
  return dims.map((d, i) => {
    const size = dimSize(d);
    if (size !== null) return size;
    if (named ? d.dimParam === batchName : i === firstSymbolic) return run;
    const same = d.dimParam ? fedDims.findIndex((x) => x.dimParam === d.dimParam) : -1;
    return same > 0 ? exampleShape[same - 1] : 1;
  });
}

/**
 * The feeds of one run of `run` examples: the probe values for the fed input, and for the
 * others a scalar broadcast to their shape (`values`, else 1 for a mask, else 0).
 */
export function feedsFor(
  file: string,
  fed: OnnxValueInfo,
  others: OnnxValueInfo[],
  run: number,
  exampleShape: number[],
  values: Float32Array,
  inputValues: Readonly<Record<string, number>>,
): Record<string, WireTensor> {
  const fedType = fedTypeOf(file, fed);
  const feeds: Record<string, WireTensor> = {
    [fed.name ?? '']: {
      type: fedType,
      dims: [run, ...exampleShape],
      data: wireData(fedType, values),
    },
  };
  const fedDims = fed.type?.tensorType?.shape?.dim ?? [];
  for (const v of others) {
    const type = ELEM_TYPES[v.type?.tensorType?.elemType ?? 1] ?? 'float32';
    const dims = otherDims(v.type?.tensorType?.shape?.dim ?? [], fedDims, run, exampleShape);
    const size = dims.reduce((a, b) => a * b, 1);
    const name = v.name ?? '';
    feeds[name] = {
      type,
      dims,
      data: wireData(type, new Float32Array(size).fill(otherValue(name, inputValues))),
    };
  }
  return feeds;
}
