/**
 * What the ONNX child does with a fetched output before it crosses IPC: read its elements as
 * numbers (float16 and bfloat16 decoded from their bit patterns), reduce it to one row per
 * example by the common rule, and say in one line why a runtime error happened.
 */
import { reduceRowMajor, reductionFor } from '../common/reduction';
import type { FetchSpec, ReducedTensor } from './onnxProtocol';

/** Bytes per element of each numeric element type the capture reads. */
export const ELEMENT_BYTES: Record<string, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  bool: 1,
};

/** An IEEE 754 half-precision value from its 16 bits. */
export function float16FromBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A bfloat16 value from its 16 bits (the upper half of a float32). */
export function bfloat16FromBits(h: number): number {
  const f = new Float32Array(1);
  new Uint32Array(f.buffer)[0] = (h & 0xffff) << 16;
  return f[0];
}

/** Typed-array-like data as onnxruntime hands it (Float16Array where Node has it). */
type Elements = ArrayLike<number | bigint>;

/**
 * A reader of element i of an output of element `type` as a number, or a one-line refusal for
 * a type that holds no numbers (string) or that the capture does not know.
 */
export function elementReader(
  name: string,
  type: string,
  data: Elements,
): ((i: number) => number) | string {
  if (!(type in ELEMENT_BYTES))
    return `output '${name}' has element type ${type}: expected a numeric tensor (float16/32/64, bfloat16, int or bool)`;
  // 16-bit floats arrive as their raw bit patterns (Uint16Array) unless Node has Float16Array.
  if ((type === 'float16' || type === 'bfloat16') && data instanceof Uint16Array) {
    const decode = type === 'float16' ? float16FromBits : bfloat16FromBits;
    return (i) => decode(data[i]);
  }
  return (i) => Number(data[i]);
}

/**
 * One fetched output reduced as `spec` says: leading `stacked` axes (loop iterations)
 * averaged, then the common reduction (GAP of conv maps, first token or mean of sequences);
 * or, for a shape fetch, the values of a Shape node's output as the dims of its tensor.
 */
export function reduceFetched(
  spec: FetchSpec,
  type: string,
  dims: readonly number[],
  data: Elements,
): ReducedTensor | string {
  const read = elementReader(spec.name, type, data);
  if (typeof read === 'string') return read;
  const size = dims.reduce((a, b) => a * b, 1);
  const none: ReducedTensor = {
    type,
    dims: [...dims],
    reduction: null,
    width: 0,
    data: new Float64Array(0),
  };
  if (spec.mode === 'shape') {
    // One row of dims per Loop iteration when stacked: the first row; none when empty.
    const rank = size === 0 ? 0 : dims[dims.length - 1];
    return { ...none, dims: Array.from({ length: rank }, (_, i) => read(i)) };
  }
  if (size === 0 || dims.length <= spec.stacked) return none;
  let get = read;
  let inner = dims.slice(spec.stacked);
  if (spec.stacked > 0) {
    const repeats = dims.slice(0, spec.stacked).reduce((a, b) => a * b, 1);
    const per = size / repeats;
    const mean = new Float64Array(per);
    for (let r = 0; r < repeats; r++) for (let k = 0; k < per; k++) mean[k] += read(r * per + k);
    for (let k = 0; k < per; k++) mean[k] /= repeats;
    get = (i) => mean[i];
    inner = dims.slice(spec.stacked);
  }
  if (inner.length === 0) inner = [1];
  const reduction = reductionFor(inner.length, spec.convLike, spec.sequence);
  const { width, at } = reduceRowMajor(get, inner, reduction, true);
  const rows = inner[0];
  const out = new Float64Array(rows * width);
  for (let s = 0; s < rows; s++) for (let j = 0; j < width; j++) out[s * width + j] = at(s, j);
  return { type, dims: [...dims], reduction, width, data: out };
}

/** Failures to allocate, from the runtime (C++) or from Node (buffers, typed arrays). */
const OUT_OF_MEMORY =
  /bad_alloc|failed to allocate|out of memory|allocation failed|cannot create a buffer larger|invalid typed array length|array buffer allocation/i;

export function isOutOfMemory(message: string): boolean {
  return OUT_OF_MEMORY.test(message);
}

/**
 * A runtime error as one informative line: onnxruntime puts what was expected on later lines
 * ("index: 0 Got: 256 Expected: 2") under a generic first one, so those lines are kept and
 * the advice lines ("Please fix either the inputs or the model") dropped.
 */
export function runtimeErrorLine(message: string): string {
  const lines = message
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  // "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : " says nothing the caller's prefix does not.
  let first = (lines[0] ?? '')
    .replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*[A-Z_]+\s*:\s*/, '')
    // A failure inside an If or Loop is wrapped once per enclosing node: keep the innermost,
    // which holds the cause ("Input initial_h must have shape ...").
    .replace(
      /^(?:Non-zero status code returned while running \S+ node\. Name:'[^']*' Status Message: )+(?=Non-zero status code)/,
      '',
    );
  const telling = lines
    .slice(1)
    .filter((l) => /expected|got|index|shape|dimension|type/i.test(l) && !/^please\b/i.test(l));
  // The message ends up in one line of at most 300 characters: the first line gives way.
  if (telling.length > 0 && first.length > 120) first = `${first.slice(0, 117)}...`;
  return [first, ...telling].join('; ');
}
