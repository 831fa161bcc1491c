import { UserError, throwIfAborted } from '../../errors';
import { fitProbe, showShape } from '../../probe/fit';
import type { ProbeSet } from '../../probe/types';
import { defaultBatchSize } from '../common/batchCapture';
import { reduceRowMajor, reductionFor } from '../common/reduction';
import type { OnnxLayer } from './onnxGraph';
import { onnxLayers } from './onnxGraph';
import { selectLayers } from '../common/layerSelection';
import type { WireTensor } from './onnxProtocol';
import type { OnnxModelProto, OnnxTensorProto, OnnxValueInfo } from './onnxProto';
import {
  decodeOnnxModel,
  dimSize,
  encodeOnnxModel,
  externalDataLocations,
  graphTensors,
  int64,
} from './onnxProto';
import { fillValue, otherInputsNotice, pickInput } from '../common/modelInputs';
import { OnnxSession } from './onnxSession';
import { containedFile, fileStem } from '../common/modelFiles';
import { readInput } from '../../io/readInput';
import { allFinite, modelNonFinite } from '../tfjs/nonFiniteBlame';
import type {
  CapturedLayer,
  CaptureOptions,
  CaptureResult,
  ModelFileInfo,
  ModelFormat,
  ModelHandle,
  OpenModelOptions,
} from '../format';

const ELEM_TYPES: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 11: 'float64' };
const MAGIC_NAMES: [number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive (a .keras file?)'],
  [[0x89, 0x48, 0x44, 0x46], 'an HDF5 file (a Keras .h5?)'],
  [[0x7b], 'JSON text (a TF.js model.json?)'],
];

function looksLike(head: Uint8Array): string | undefined {
  return MAGIC_NAMES.find(([magic]) => magic.every((b, i) => head[i] === b))?.[1];
}

/**
 * Inlines external-data tensors (weights kept in side files next to the model) so the edited
 * model can be handed to the runtime as bytes.
 */
async function inlineExternalData(file: string, tensors: OnnxTensorProto[]): Promise<void> {
  const cache = new Map<string, Buffer>();
  for (const t of tensors) {
    if (t.dataLocation !== 1) continue;
    const entry = (key: string): string | undefined =>
      t.externalData.find((e) => e.key === key)?.value;
    const location = entry('location');
    if (location === undefined)
      throw new UserError(
        `${file}: tensor '${t.name ?? ''}' keeps its data externally but names no location`,
      );
    const offset = Number(entry('offset') ?? 0);
    const declared = entry('length') === undefined ? undefined : Number(entry('length'));
    if (
      !Number.isSafeInteger(offset) ||
      offset < 0 ||
      (declared !== undefined && (!Number.isSafeInteger(declared) || declared < 0))
    )
      throw new UserError(
        `${file}: tensor '${t.name ?? ''}' names an external-data offset or length that is not a non-negative integer`,
      );
    const side = await containedFile(file, location, 'external data file', {
      context: `tensor '${t.name ?? ''}'`,
    });
    let bytes = cache.get(side);
    if (bytes === undefined) {
      bytes = await readInput(side, 'the external data file');
      cache.set(side, bytes);
    }
    const length = declared ?? bytes.length - offset;
    if (offset + length > bytes.length) {
      throw new UserError(
        `${file}: external data file '${location}' holds ${bytes.length} bytes: expected at least ${offset + length} for tensor '${t.name ?? ''}' (truncated?)`,
      );
    }
    t.rawData = bytes.subarray(offset, offset + length);
    t.externalData = [];
    t.dataLocation = 0;
  }
}

function inputShape(v: OnnxValueInfo): (number | null)[] {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d, i) => (i === 0 ? null : dimSize(d)));
}

function wireData(type: string, values: Float32Array, size: number): WireTensor['data'] {
  switch (type) {
    case 'float32':
      return values;
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values, Math.round);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(Math.round(v)));
    default:
      return new Float32Array(size);
  }
}

function filled(type: string, size: number, value: number): WireTensor['data'] {
  return wireData(type, new Float32Array(size).fill(value), size);
}

/** Reduces one fetched output (batch first, NCHW) to `count` rows of features by the common rule. */
function reduceOutput(
  t: WireTensor,
  count: number,
  layer: OnnxLayer,
  sequence: 'first' | 'mean',
): { width: number; reduction: CapturedLayer['reduction']; at: (s: number, j: number) => number } {
  const dims = t.dims;
  if (dims.length === 0 || dims[0] !== count) {
    throw new UserError(
      `layer '${layer.name}' gave an output of shape ${showShape(dims)}: expected the batch (${count}) first`,
    );
  }
  const reduction = reductionFor(dims.length, layer.convLike, sequence);
  const get = (i: number): number => Number(t.data[i]);
  return { reduction, ...reduceRowMajor(get, dims, reduction, true) };
}

function fedTypeOf(file: string, fed: OnnxValueInfo): string {
  const type = ELEM_TYPES[fed.type?.tensorType?.elemType ?? 1];
  if (type === undefined)
    throw new UserError(
      `${file}: input '${fed.name ?? ''}' has element type ${fed.type?.tensorType?.elemType}: expected float, double, int32 or int64`,
    );
  return type;
}

/** The batch size a model was exported with, or undefined when its batch dimension is dynamic. */
function fixedBatchOf(fed: OnnxValueInfo): number | undefined {
  return dimSize(fed.type?.tensorType?.shape?.dim[0]) || undefined;
}

/**
 * The feeds of one run of `run` examples: the probe values for the fed input, zeros for the
 * other inputs (ones for a mask), their dynamic dimensions taken from the fed input's
 * dimension of the same name, else 1.
 */
function feedsFor(
  file: string,
  fed: OnnxValueInfo,
  others: OnnxValueInfo[],
  run: number,
  exampleShape: number[],
  values: Float32Array,
): Record<string, WireTensor> {
  const fedType = fedTypeOf(file, fed);
  const feeds: Record<string, WireTensor> = {
    [fed.name ?? '']: {
      type: fedType,
      dims: [run, ...exampleShape],
      data: wireData(fedType, values, values.length),
    },
  };
  const fedDims = fed.type?.tensorType?.shape?.dim ?? [];
  for (const v of others) {
    const type = ELEM_TYPES[v.type?.tensorType?.elemType ?? 1] ?? 'float32';
    const dims = (v.type?.tensorType?.shape?.dim ?? []).map((d, i) => {
      if (i === 0) return run;
      const size = dimSize(d);
      if (size !== null) return size;
      const same = fedDims.findIndex((x) => x.dimParam && x.dimParam === d.dimParam);
      return same > 0 ? exampleShape[same - 1] : 1;
    });
    const size = dims.reduce((a, b) => a * b, 1);
    feeds[v.name ?? ''] = {
      type,
      dims,
      data: filled(type, size, fillValue(v.name ?? '')),
    };
  }
  return feeds;
}

/** Opens an ONNX model: parses and edits the graph here, runs it in a child process. */
async function openOnnx(file: string, opts: OpenModelOptions): Promise<ModelHandle> {
  const bytes = await readInput(file, 'the ONNX model');
  const other = looksLike(bytes.subarray(0, 8));
  if (other !== undefined)
    throw new UserError(`${file}: expected an ONNX model (protobuf), found ${other}`);
  const model: OnnxModelProto = decodeOnnxModel(bytes, file);
  const graph = model.graph!;
  await inlineExternalData(file, graphTensors(graph));
  const layers = onnxLayers(graph);
  const weightNames = new Set(graph.initializer.map((t) => t.name ?? ''));
  const inputs = graph.input.filter((v) => !weightNames.has(v.name ?? ''));
  const inputNames = inputs.map((v) => v.name ?? '');
  const fed: OnnxValueInfo = inputs[pickInput(file, inputNames, opts.input)];
  // Every layer tensor becomes a graph output, so one session serves any capture.
  const known = new Set(graph.output.map((o) => o.name ?? ''));
  for (const l of layers) {
    for (const t of [l.preTensor, l.outTensor]) {
      if (known.has(t) || inputNames.includes(t) || weightNames.has(t)) continue;
      known.add(t);
      graph.output.push({ name: t });
    }
  }
  const opset = int64(model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version);
  let session: OnnxSession;
  try {
    session = await OnnxSession.open(file, encodeOnnxModel(model));
  } catch (err) {
    // onnxruntime implements the default domain from opset 7 on; say so next to its message.
    if (err instanceof UserError && opset > 0 && opset < 7)
      throw new UserError(
        `${err.message} (the model uses opset ${opset} of ai.onnx: expected 7 or later; re-export it with a newer opset)`,
      );
    throw err;
  }
  const shape = inputShape(fed);
  const others = inputs.filter((v) => v !== fed);
  // Output shapes the graph does not declare come from one pass on a zero example.
  const example = shape.slice(1);
  if (example.every((d) => d !== null) && layers.some((l) => l.outputShape.length === 0)) {
    const run = fixedBatchOf(fed) ?? 1;
    const size = (example as number[]).reduce((a, b) => a * b, 1);
    try {
      const out = await session.run(
        feedsFor(file, fed, others, run, example as number[], new Float32Array(run * size)),
        [...new Set(layers.map((l) => l.shapeTensor))],
      );
      for (const l of layers) {
        const dims = out[l.shapeTensor]?.dims;
        if (l.outputShape.length === 0 && dims !== undefined && dims[0] === run)
          l.outputShape = [null, ...dims.slice(1)];
      }
    } catch (err) {
      if (session.stopped) throw err;
      opts.onWarning?.(
        `${file}: layer output shapes unknown (a pass on a zero example failed: ${(err as Error).message})`,
      );
    }
  }

  async function capture(probe: ProbeSet, copts: CaptureOptions = {}): Promise<CaptureResult> {
    fedTypeOf(file, fed);
    const fitted = fitProbe(probe, shape);
    const chosen = selectLayers(file, layers, copts.layers, (l) => l.aliases);
    const point = copts.point ?? 'preactivation';
    const sequence = copts.sequence ?? 'first';
    const fetches = chosen.map((l) =>
      point === 'preactivation' && l.activation !== null ? l.preTensor : l.outTensor,
    );
    const samples = fitted.shape[0];
    if (!(samples > 0))
      throw new UserError(
        `${probe.source}: expected at least one probe example, found an empty probe set`,
      );
    // A model exported with a fixed batch size runs in batches of exactly that size (the last
    // one padded with zeros, its extra rows dropped).
    const fixedBatch = fixedBatchOf(fed);
    const batchSize =
      fixedBatch ??
      copts.batchSize ??
      defaultBatchSize([[null, ...fitted.shape.slice(1)], ...chosen.map((l) => l.outputShape)]);
    const exampleShape = fitted.shape.slice(1);
    const exampleSize = exampleShape.reduce((a, b) => a * b, 1);
    if (others.length > 0) {
      copts.onWarning?.(
        otherInputsNotice(
          file,
          fed.name ?? '',
          others.map((v) => v.name ?? ''),
        ),
      );
    }
    let captured: CapturedLayer[] = [];
    let data = new Float64Array(0);
    let neurons = 0;
    for (let start = 0; start < samples; start += batchSize) {
      throwIfAborted(copts.signal);
      const count = Math.min(batchSize, samples - start);
      const run = fixedBatch ?? count;
      const values = new Float32Array(run * exampleSize);
      values.set(fitted.data.subarray(start * exampleSize, (start + count) * exampleSize));
      const feeds = feedsFor(file, fed, others, run, exampleShape, values);
      const out = await session.run(feeds, [...new Set(fetches)], copts.signal);
      const reduced = chosen.map((l, i) => {
        try {
          return reduceOutput(out[fetches[i]], run, l, sequence);
        } catch (err) {
          throw new UserError(`${file}: ${(err as Error).message}`);
        }
      });
      if (captured.length === 0) {
        let col = 0;
        captured = chosen.map((l, i) => {
          const width = reduced[i].width;
          const layer: CapturedLayer = {
            name: l.name,
            start: col,
            end: col + width,
            point: fetches[i] === l.preTensor && l.activation !== null ? 'preactivation' : 'output',
            reduction: reduced[i].reduction,
          };
          col += width;
          return layer;
        });
        neurons = col;
        data = new Float64Array(samples * neurons);
      }
      for (let i = 0; i < captured.length; i++) {
        const { name, start: c0, end: c1 } = captured[i];
        const width = c1 - c0;
        if (reduced[i].width !== width)
          throw new UserError(
            `${probe.source}: layer '${name}' gave ${reduced[i].width} values per example in a later batch: expected ${width} like the first`,
          );
        for (let s = 0; s < count; s++) {
          for (let j = 0; j < width; j++) {
            const v = reduced[i].at(s, j);
            if (!Number.isFinite(v)) {
              const example = probe.sampleIndices[start + s] ?? start + s;
              // From a finite probe, the model made it (corrupt weights, an overflow).
              if (allFinite(fitted.data))
                throw await modelNonFinite(
                  file,
                  { layer: name, value: v, example, neuron: j },
                  null,
                );
              throw new UserError(
                `${probe.source}: layer '${name}' produced ${String(v)} on probe example ${example} (neuron ${j}): expected finite activations`,
              );
            }
            data[(c0 + j) * samples + start + s] = v;
          }
        }
      }
      copts.onProgress?.({ stage: 'capture', done: start + count, total: samples });
    }
    return {
      acts: {
        samples,
        neurons,
        data,
        layers: captured.map(({ name, start, end }) => ({ name, start, end })),
      },
      layers: captured,
      backend: 'cpu',
    };
  }

  return {
    path: file,
    format: 'onnx',
    backend: 'cpu',
    inputShape: shape,
    layers: layers.map(({ name, type, outputShape, activation, measuredByDefault }) => ({
      name,
      type,
      outputShape,
      activation,
      measuredByDefault,
    })),
    capture,
    dispose: () => session.close(),
  };
}

/**
 * ONNX models (.onnx), run with onnxruntime-node in a child process. Matches the `.onnx`
 * extension; `open` checks the bytes (a zip, HDF5 or JSON file under that name gets an error
 * saying what it is; anything else must parse as a ModelProto).
 */
export const onnxFormat: ModelFormat = {
  id: 'onnx',
  description: 'ONNX .onnx',
  extensions: ['.onnx'],
  match: (file: ModelFileInfo) => file.ext === '.onnx',
  open: openOnnx,
  contentFiles: async (file) => {
    let locations: string[];
    try {
      locations = externalDataLocations(
        decodeOnnxModel(await readInput(file, 'the ONNX model'), file),
      );
    } catch {
      return [file]; // not parseable: opening it reports why
    }
    const sides: string[] = [];
    for (const l of locations) sides.push(await containedFile(file, l, 'external data file'));
    return [file, ...sides];
  },
  modelName: fileStem,
};
