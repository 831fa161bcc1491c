/**
 * Keras 3 model configs (config.json of a .keras file) rewritten in the Keras 2 form that
 * tfjs-layers deserialises: dtype policies become dtype names, InputLayer's `batch_shape`
 * becomes `batch_input_shape`, functional `inbound_nodes` of `{args, kwargs}` become
 * `[[layer, node, tensor, {}]]` lists, and the Keras 3 bookkeeping keys (`module`,
 * `registered_name`, `build_config`, `compile_config`) are dropped. Keras 2 configs pass
 * through unchanged.
 */

import { UserError } from '../../errors';

type Json = unknown;

const DROPPED = new Set(['module', 'registered_name', 'build_config', 'compile_config']);

export function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every `__keras_tensor__` history in a Keras 3 call's args, in order. */
function kerasTensors(v: Json, out: Json[][]): void {
  if (Array.isArray(v)) {
    for (const x of v) kerasTensors(x, out);
  } else if (isObject(v)) {
    const config = v.config;
    if (v.class_name === '__keras_tensor__' && isObject(config)) {
      const h = config.keras_history;
      if (Array.isArray(h)) out.push([h[0], h[1], h[2], {}]);
    } else for (const x of Object.values(v)) kerasTensors(x, out);
  }
}

function inboundNodes(nodes: Json): Json {
  if (!Array.isArray(nodes)) return nodes;
  return nodes.map((node) => {
    if (!isObject(node) || !('args' in node)) return node;
    const tensors: Json[][] = [];
    kerasTensors(node.args, tensors);
    return tensors;
  });
}

/** `["input", 0, 0]` (one tensor, Keras 3) as `[["input", 0, 0]]`. */
function tensorList(v: Json): Json {
  return Array.isArray(v) && typeof v[0] === 'string' ? [v] : v;
}

/** Class name of the TF.js layer MemLens registers for an operation with a constant. */
export const SCALAR_OP = 'MemlensScalarOp';
const SCALAR_OPS: Record<string, string> = {
  Add: 'add',
  Subtract: 'sub',
  Multiply: 'mul',
  Divide: 'div',
  TrueDivide: 'div',
};

/** Marks a layer entry that has no TF.js counterpart and is left out. */
const DROP = Symbol('drop');

/**
 * A Keras 3 operation in a functional graph (`x + 3.0` becomes a `keras.src.ops` node): with
 * a tensor and a number, MemLens' scalar-op layer; with two tensors, the merge layer of that
 * name (Add, Multiply); anything else is refused by name.
 */
function operation(v: Record<string, Json>, where: string): Record<string, Json> | typeof DROP {
  const cls = String(v.class_name);
  const node =
    Array.isArray(v.inbound_nodes) && v.inbound_nodes.length === 1 ? v.inbound_nodes[0] : undefined;
  const args = isObject(node) && Array.isArray(node.args) ? node.args : [];
  const tensors: Json[][] = [];
  kerasTensors(args, tensors);
  const constant = args.findIndex((a) => typeof a === 'number');
  const name = isObject(v.config) ? v.config.name : v.name;
  const refused = (): never => {
    throw new UserError(
      `${where}: unsupported Keras operation '${String(v.module)}.${cls}' (layer '${String(name)}'): expected add, subtract, multiply or divide with a number, or add/multiply of two tensors`,
    );
  };
  if (args.length !== 2) refused();
  // Embedding(mask_zero=True) in Keras 3: the mask, computed as x != 0, reaches the RNNs as a
  // `mask` argument. TF.js propagates the Embedding's own mask instead, so the node goes.
  if (cls === 'NotEqual' && constant === 1 && args[1] === 0 && tensors.length === 1) return DROP;
  if (SCALAR_OPS[cls] !== undefined && constant >= 0 && tensors.length === 1) {
    return {
      class_name: SCALAR_OP,
      config: {
        name,
        op: SCALAR_OPS[cls],
        value: args[constant],
        tensor_first: constant === 1,
        keras_class: cls,
      },
      name,
      inbound_nodes: [tensors],
    };
  }
  if ((cls === 'Add' || cls === 'Multiply') && tensors.length === 2) {
    return { class_name: cls, config: { name }, name, inbound_nodes: [tensors] };
  }
  return refused();
}

function isKerasTensor(v: Json): boolean {
  return isObject(v) && v.class_name === '__keras_tensor__';
}

/**
 * Whether a Keras 3 layer entry is an operation: its module says so (.keras), or (legacy .h5,
 * which drops modules) it is an arithmetic class called on two separate arguments, tensors or
 * numbers, where the merge layers of those names take one list.
 */
function isOperation(v: Record<string, Json>): boolean {
  if (typeof v.module === 'string') return v.module.startsWith('keras.src.ops.');
  const node = Array.isArray(v.inbound_nodes) ? v.inbound_nodes[0] : undefined;
  const args = isObject(node) && Array.isArray(node.args) ? node.args : undefined;
  return (
    (SCALAR_OPS[String(v.class_name)] !== undefined || v.class_name === 'NotEqual') &&
    args?.length === 2 &&
    args.every((a) => isKerasTensor(a) || typeof a === 'number')
  );
}

/**
 * The Keras 2 form of a Keras 3 config (see above). `where` names the file in the error for a
 * Keras operation TF.js cannot run.
 */
export function normalizeKerasConfig(v: Json, where: string): Json | typeof DROP {
  if (Array.isArray(v))
    return v.map((x) => normalizeKerasConfig(x, where)).filter((x) => x !== DROP);
  if (!isObject(v)) return v;
  if (isOperation(v)) return operation(v, where);
  const cls = v.class_name;
  if ((cls === 'DTypePolicy' || cls === 'Policy') && isObject(v.config)) return v.config.name;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(v)) {
    if (DROPPED.has(key) && 'class_name' in v) continue;
    if (key === 'inbound_nodes') out[key] = inboundNodes(value);
    else if (key === 'input_layers' || key === 'output_layers')
      out[key] = tensorList(normalizeKerasConfig(value, where));
    else out[key] = normalizeKerasConfig(value, where);
  }
  if (cls === 'InputLayer' && isObject(out.config) && 'batch_shape' in out.config) {
    const { batch_shape: shape, ...rest } = out.config;
    out.config = { ...rest, batch_input_shape: shape };
  }
  return out;
}
