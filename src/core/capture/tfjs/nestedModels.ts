/**
 * Nested models (a Sequential or functional model used as a layer of another) inlined into one
 * functional topology, so every inner layer is a layer of the outer model: capturable by name,
 * with its fused activation split like any other. Works on Keras 2-form configs (TF.js
 * model.json topologies, and Keras 3 configs after normalizeKerasConfig).
 *
 * An inner layer whose name the outer model already uses is renamed `<model>/<name>`.
 */
import { UserError } from '../../errors';

type Json = Record<string, unknown>;
/** `[layer, node, tensor, kwargs]`: one tensor a layer call reads. */
type Ref = [string, number, number, Json?];

export interface LayerEntry {
  class_name: string;
  config: Json;
  name?: string;
  inbound_nodes?: unknown[];
}

interface FunctionalConfig {
  name?: string;
  layers: LayerEntry[];
  input_layers: Ref[];
  output_layers: Ref[];
}

/** The flattened topology, and for each inlined layer the nested models it came from. */
export interface FlatTopology {
  topology: Json;
  /** Inlined layer's name -> its original name path: model names, outermost first, then its own. */
  origin: Map<string, string[]>;
}

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

export function isModelClass(className: unknown): boolean {
  return typeof className === 'string' && MODEL_CLASSES.has(className);
}

function isRef(v: unknown): v is Ref {
  return Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'number';
}

/** Every ref in `value` (inbound nodes, input/output lists) passed through `fn`. */
function mapRefs(value: unknown, fn: (ref: Ref) => Ref): unknown {
  if (isRef(value)) return fn(value);
  return Array.isArray(value) ? value.map((v) => mapRefs(v, fn)) : value;
}

/** A layer entry's name (Sequential entries carry it in their config only). */
export function nameOf(entry: LayerEntry): string {
  return (entry.config.name as string | undefined) ?? entry.name ?? '';
}

function sequentialLayers(model: LayerEntry): LayerEntry[] {
  const config = model.config as unknown;
  return (Array.isArray(config) ? config : (model.config.layers as LayerEntry[])) ?? [];
}

/** The layer entries of a Sequential or functional model config, in order. */
export function layerEntries(model: LayerEntry): LayerEntry[] {
  if (model.class_name === 'Sequential') return sequentialLayers(model);
  const layers = model.config?.layers;
  return Array.isArray(layers) ? (layers as LayerEntry[]) : [];
}

/** The batch input shape a model (or its first layer) declares, if any. */
function declaredInputShape(entry: LayerEntry): unknown[] | undefined {
  const own = entry.config.batch_input_shape;
  if (Array.isArray(own)) return own;
  if (entry.class_name === 'Sequential') {
    const first = sequentialLayers(entry)[0];
    return first === undefined ? undefined : declaredInputShape(first);
  }
  if (isModelClass(entry.class_name)) {
    const layers = (entry.config.layers as LayerEntry[] | undefined) ?? [];
    const input = layers.find((l) => l.class_name === 'InputLayer');
    return input === undefined ? undefined : declaredInputShape(input);
  }
  return undefined;
}

/**
 * A Sequential model's layers as a chain in functional form. The input is its InputLayer, or
 * one made from the first layer's declared shape; `needShape` false (a nested model, whose input
 * is replaced by what it is called on) makes a placeholder when no shape is declared.
 */
function sequentialAsFunctional(
  model: LayerEntry,
  needShape: boolean,
): FunctionalConfig | undefined {
  const layers = sequentialLayers(model).map((l) => ({ ...l }));
  if (layers.length === 0) return undefined;
  let input: LayerEntry;
  if (layers[0].class_name === 'InputLayer') {
    input = layers.shift()!;
  } else {
    const shape = declaredInputShape(layers[0]);
    if (shape === undefined && needShape) return undefined;
    input = {
      class_name: 'InputLayer',
      config: {
        batch_input_shape: shape ?? [null],
        dtype: layers[0].config.dtype ?? 'float32',
        name: `${nameOf(layers[0])}_input`,
      },
    };
  }
  const inputName = nameOf(input);
  const out: LayerEntry[] = [{ ...input, name: inputName, inbound_nodes: [] }];
  let prev: Ref = [inputName, 0, 0, {}];
  for (const layer of layers) {
    const name = nameOf(layer);
    out.push({ ...layer, name, inbound_nodes: [[prev]] });
    prev = [name, 0, 0, {}];
  }
  return {
    name: model.config.name as string | undefined,
    layers: out,
    input_layers: [[inputName, 0, 0]],
    output_layers: [[prev[0], 0, 0]],
  };
}

function functionalConfig(model: LayerEntry, needShape: boolean): FunctionalConfig | undefined {
  if (model.class_name === 'Sequential') return sequentialAsFunctional(model, needShape);
  const c = model.config as Partial<FunctionalConfig>;
  if (!Array.isArray(c.layers) || !Array.isArray(c.input_layers) || !Array.isArray(c.output_layers))
    return undefined;
  return c as FunctionalConfig;
}

function renamed(entry: LayerEntry, name: string): LayerEntry {
  return { ...entry, name, config: { ...entry.config, name } };
}

/**
 * Inlines every nested model of a functional config, innermost first. An inner layer whose
 * name is taken becomes `<model>/<name>`. `origin` receives, for each inlined layer, its
 * original name path (model names, then its own name).
 */
function inlineNested(
  file: string,
  config: FunctionalConfig,
  origin: Map<string, string[]>,
): FunctionalConfig {
  const taken = new Set(config.layers.map(nameOf));
  /** Outputs of inlined models: `${model}\0${tensor}` -> the inner ref that yields it. */
  const outputs = new Map<string, Ref>();
  const layers: LayerEntry[] = [];
  for (const entry of config.layers) {
    const inner = isModelClass(entry.class_name) ? functionalConfig(entry, false) : undefined;
    if (inner === undefined) {
      layers.push(entry);
      continue;
    }
    const model = nameOf(entry);
    const calls = entry.inbound_nodes ?? [];
    if (calls.length !== 1) {
      // TF.js cannot rebuild a nested model that is called twice from its config.
      throw new UserError(
        `${file}: layer '${model}' is a nested model called ${calls.length} times (shared weights): expected each nested model to be called once`,
      );
    }
    const innerOrigin = new Map<string, string[]>();
    const flat = inlineNested(file, inner, innerOrigin);
    const callRefs = (mapRefs(calls[0], (r) => r) as unknown[]).filter(isRef);
    const inputNames = flat.input_layers.map((r) => r[0]);
    if (callRefs.length !== inputNames.length) {
      throw new UserError(
        `${file}: nested model '${model}' has ${inputNames.length} inputs: expected its call to pass as many, found ${callRefs.length}`,
      );
    }
    const kept = flat.layers.filter((l) => !inputNames.includes(nameOf(l)));
    const names = new Map<string, string>();
    for (const l of kept) {
      const name = nameOf(l);
      const unique = taken.has(name) && name !== model ? `${model}/${name}` : name;
      names.set(name, unique);
      taken.add(unique);
      origin.set(unique, [model, ...(innerOrigin.get(name) ?? [name])]);
    }
    // The model's inputs become the tensors it was called on; inner refs follow renames.
    const feed = (r: Ref): Ref => {
      const at = inputNames.indexOf(r[0]);
      if (at >= 0) return [callRefs[at][0], callRefs[at][1], callRefs[at][2], r[3] ?? {}];
      return [names.get(r[0]) ?? r[0], r[1], r[2], r[3] ?? {}];
    };
    for (const l of kept) {
      const inlined = renamed(l, names.get(nameOf(l))!);
      layers.push({ ...inlined, inbound_nodes: mapRefs(l.inbound_nodes ?? [], feed) as unknown[] });
    }
    flat.output_layers.forEach((r, t) => outputs.set(`${model}\0${t}`, feed(r)));
  }
  if (outputs.size === 0) return config;
  // Readers of an inlined model now read the inner layer that produced that output.
  const resolve = (r: Ref): Ref => {
    const inner = outputs.get(`${r[0]}\0${r[2]}`);
    return inner === undefined ? r : [inner[0], inner[1], inner[2], r[3] ?? inner[3] ?? {}];
  };
  return {
    ...config,
    layers: layers.map((l) => ({
      ...l,
      inbound_nodes: mapRefs(l.inbound_nodes ?? [], resolve) as unknown[],
    })),
    output_layers: (mapRefs(config.output_layers, resolve) as Ref[]).map((r) => [r[0], r[1], r[2]]),
  };
}

/**
 * Inlines the nested models of a layers-model topology (`model_config` wrapper or bare model
 * config) of `file`. A topology without nested models comes back unchanged. A nested model
 * called more than once gets a UserError: TF.js cannot rebuild it.
 */
export function flattenNestedModels(file: string, topology: Json): FlatTopology {
  const origin = new Map<string, string[]>();
  const wrapped = 'model_config' in topology;
  const model = (wrapped ? topology.model_config : topology) as LayerEntry;
  const hasNested = layerEntries(model).some((l) => isModelClass(l.class_name));
  const config = hasNested ? functionalConfig(model, true) : undefined;
  if (config === undefined) return { topology, origin };
  const rebuilt: Json = {
    ...model,
    class_name: 'Functional',
    config: inlineNested(file, config, origin),
  };
  return { topology: wrapped ? { ...topology, model_config: rebuilt } : rebuilt, origin };
}
