/**
 * What a model file says about itself, beyond its layers: its inputs and outputs, its parameter
 * count and who made it (ONNX opset and producer, TF.js generatedBy/convertedBy, the Keras
 * version). Read through the formats' own readers (the ONNX proto decoder, the TF.js model.json
 * reader, the bounded zip and HDF5 readers); a field a format does not record is left out.
 */
import { readInput } from '../io/readInput';
import { readZip } from '../io/zip';
import type { ModelHandle } from './format';
import { isObject, normalizeKerasConfig } from './keras/kerasConfig';
import { openHdf5 } from './keras/kerasHdf5';
import { decodeOnnxModel, dimSize, int64 } from './onnx/onnxProto';
import type { OnnxModelProto, OnnxValueInfo } from './onnx/onnxProto';
import { readModelJson } from './tfjs/fsHandler';

/** One input or output of a model: batch dimension first; unknown dimensions are null. */
export interface TensorSummary {
  name: string;
  shape: (number | null)[];
  dtype?: string;
}

/** The facts of a model file the model viewer shows next to its layers. */
export interface ModelDetails {
  inputs?: TensorSummary[];
  outputs?: TensorSummary[];
  /** The number of weight values (ONNX initializers, a TF.js weights manifest); null: unknown. */
  parameters: number | null;
  /** ONNX: the version of the default (ai.onnx) operator set. */
  opset?: number;
  /** ONNX: producer name and version (`pytorch 1.13.0`). */
  producer?: string;
  /** TF.js model.json: the library that wrote it, and the converter that made it. */
  generatedBy?: string;
  convertedBy?: string;
  /** The Keras version that saved the model. */
  kerasVersion?: string;
}

/** ONNX TensorProto.DataType numbers as numpy-style names. */
const ONNX_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function onnxTensor(v: OnnxValueInfo): TensorSummary {
  const t = v.type?.tensorType;
  const dtype = t?.elemType === undefined ? undefined : ONNX_TYPES[t.elemType];
  return {
    name: v.name ?? '',
    shape: (t?.shape?.dim ?? []).map((d) => dimSize(d)),
    ...(dtype === undefined ? {} : { dtype }),
  };
}

/** ONNX: the graph's inputs (less the initializers some exporters list as inputs) and outputs. */
export function onnxDetails(model: OnnxModelProto): ModelDetails {
  const graph = model.graph!;
  const weights = new Set(graph.initializer.map((t) => t.name ?? ''));
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
  // The proto schema has producer_version; the decoded message type leaves it out.
  const version = (model as { producerVersion?: string }).producerVersion;
  const producer = [model.producerName, version].filter((s) => s).join(' ');
  return {
    inputs: graph.input.filter((v) => !weights.has(v.name ?? '')).map(onnxTensor),
    outputs: graph.output.map(onnxTensor),
    parameters: graph.initializer.reduce((n, t) => n + product(t.dims.map(int64)), 0),
    ...(opset === undefined || opset === null ? {} : { opset: int64(opset) }),
    ...(producer ? { producer } : {}),
  };
}

/** A Keras shape list (`[null, 28, 28, 1]`) as a shape, or undefined when it is not one. */
function kerasShape(v: unknown): (number | null)[] | undefined {
  if (!Array.isArray(v) || !v.every((d) => d === null || Number.isInteger(d))) return undefined;
  return v as (number | null)[];
}

function layerName(layer: Record<string, unknown>): string {
  const config = isObject(layer.config) ? layer.config : {};
  return String(config.name ?? layer.name ?? '');
}

/** The layer names of `input_layers` / `output_layers` (`[[name, node, tensor], ...]`). */
function endNames(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const list = typeof v[0] === 'string' ? [v] : v;
  return list.flatMap((e) => (Array.isArray(e) && typeof e[0] === 'string' ? [e[0]] : []));
}

/**
 * Inputs and outputs of a Keras-style layers topology (a TF.js layers-model's modelTopology, or
 * a Keras config in the Keras 2 form): the input layers' declared shapes and dtypes, and the
 * output layers with the output shapes the opened model computed.
 */
function layersEnds(
  topology: Record<string, unknown>,
  handle: ModelHandle,
): Pick<ModelDetails, 'inputs' | 'outputs'> {
  const root = isObject(topology.model_config) ? topology.model_config : topology;
  const config = root.config;
  const layers = (
    Array.isArray(config) ? config : isObject(config) ? config.layers : []
  ) as unknown;
  if (!Array.isArray(layers) || layers.length === 0 || !layers.every(isObject)) return {};
  const entries = layers as Record<string, unknown>[];
  const byName = new Map(entries.map((l) => [layerName(l), l]));
  const outputShape = new Map(handle.layers.map((l) => [l.name, l.outputShape]));
  const input = (l: Record<string, unknown>, name: string): TensorSummary => {
    const c = isObject(l.config) ? l.config : {};
    const dtype = typeof c.dtype === 'string' ? c.dtype : undefined;
    return {
      name,
      shape: kerasShape(c.batch_input_shape) ?? handle.inputShape,
      ...(dtype === undefined ? {} : { dtype }),
    };
  };
  const output = (name: string): TensorSummary => ({ name, shape: outputShape.get(name) ?? [] });
  if (root.class_name === 'Sequential') {
    const first = entries[0];
    const last = entries.filter((l) => l.class_name !== 'InputLayer').at(-1);
    return {
      inputs: [input(first, layerName(first))],
      ...(last === undefined ? {} : { outputs: [output(layerName(last))] }),
    };
  }
  const c = isObject(config) ? config : {};
  const inputs = endNames(c.input_layers).flatMap((n) => {
    const l = byName.get(n);
    return l === undefined ? [] : [input(l, n)];
  });
  const outputs = endNames(c.output_layers).map(output);
  return {
    ...(inputs.length > 0 ? { inputs } : {}),
    ...(outputs.length > 0 ? { outputs } : {}),
  };
}

/** TensorFlow DataType enum names (`DT_FLOAT`) as dtype names. */
function tfDtype(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const name = v.replace(/^DT_/, '').toLowerCase();
  return { float: 'float32', double: 'float64', half: 'float16' }[name] ?? name;
}

/** A TensorShapeProto in JSON (`{dim: [{size: "-1"}, {size: "784"}]}`) as a shape. */
function tfShape(v: unknown): (number | null)[] {
  const dims = isObject(v) && Array.isArray(v.dim) ? v.dim : [];
  return dims.map((d) => {
    const size = isObject(d) ? Number(d.size) : NaN;
    return Number.isInteger(size) && size >= 0 ? size : null;
  });
}

/** A graph-model's signature (`{inputs: {key: {name, dtype, tensorShape}}}`) as tensors. */
function signatureTensors(v: unknown): TensorSummary[] | undefined {
  if (!isObject(v)) return undefined;
  return Object.entries(v).map(([key, info]) => {
    const i = isObject(info) ? info : {};
    const dtype = tfDtype(i.dtype);
    return {
      name: typeof i.name === 'string' ? i.name : key,
      shape: tfShape(i.tensorShape),
      ...(dtype === undefined ? {} : { dtype }),
    };
  });
}

async function tfjsDetails(handle: ModelHandle): Promise<ModelDetails> {
  const json = await readModelJson(handle.path);
  const topology = json.modelTopology;
  const parameters = json.weightsManifest.reduce(
    (n, group) => n + group.weights.reduce((m, w) => m + product(w.shape), 0),
    0,
  );
  const signature = isObject(json.signature) ? json.signature : {};
  const ends =
    handle.format === 'tfjs-graph'
      ? {
          ...(signatureTensors(signature.inputs)
            ? { inputs: signatureTensors(signature.inputs) }
            : {}),
          ...(signatureTensors(signature.outputs)
            ? { outputs: signatureTensors(signature.outputs) }
            : {}),
        }
      : layersEnds(topology, handle);
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  const generatedBy = text(json.generatedBy);
  const convertedBy = text(json.convertedBy);
  const kerasVersion = text(topology.keras_version);
  return {
    ...ends,
    parameters,
    ...(generatedBy ? { generatedBy } : {}),
    ...(convertedBy ? { convertedBy } : {}),
    ...(kerasVersion ? { kerasVersion } : {}),
  };
}

/** Keras .keras (config.json, metadata.json) or .h5 (model_config, keras_version attributes). */
async function kerasDetails(handle: ModelHandle): Promise<ModelDetails> {
  const bytes = await readInput(handle.path, 'the Keras model');
  let configText: unknown;
  let version: unknown;
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    const zip = readZip(bytes, handle.path, (n) => n === 'config.json' || n === 'metadata.json', {
      archive: 'a .keras zip archive',
    });
    const members = new Map(zip.members);
    const text = (name: string): string | undefined => {
      const m = members.get(name);
      return m === undefined ? undefined : new TextDecoder().decode(m);
    };
    configText = text('config.json');
    try {
      version = (JSON.parse(text('metadata.json') ?? '{}') as { keras_version?: unknown })
        .keras_version;
    } catch {
      // no readable metadata: no version to show
    }
  } else {
    const reader = await openHdf5(bytes, handle.path);
    try {
      configText = reader.attr('/', 'model_config');
      version = reader.attr('/', 'keras_version');
    } finally {
      reader.close();
    }
  }
  let ends: Pick<ModelDetails, 'inputs' | 'outputs'> = {};
  if (typeof configText === 'string') {
    // The model opened, so its config parses; in the Keras 2 form both versions read alike.
    const config = normalizeKerasConfig(JSON.parse(configText), handle.path);
    if (isObject(config)) ends = layersEnds(config, handle);
  }
  return {
    ...ends,
    parameters: handle.parameters ?? null,
    ...(typeof version === 'string' && version ? { kerasVersion: version } : {}),
  };
}

/**
 * The details of an opened model, read from its file by its format's reader. Formats that keep
 * no such record (PyTorch, SavedModel) give only the parameter count their reader took (none
 * for SavedModel): the viewer shows the handle's input shape.
 */
export async function describeModel(handle: ModelHandle): Promise<ModelDetails> {
  switch (handle.format) {
    case 'onnx':
      return onnxDetails(
        decodeOnnxModel(await readInput(handle.path, 'the ONNX model'), handle.path),
      );
    case 'tfjs-layers':
    case 'tfjs-graph':
      return tfjsDetails(handle);
    case 'keras':
      return kerasDetails(handle);
    default:
      return { parameters: handle.parameters ?? null };
  }
}
