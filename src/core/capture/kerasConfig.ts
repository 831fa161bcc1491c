/**
 * Keras 3 model configs (config.json of a .keras file) rewritten in the Keras 2 form that
 * tfjs-layers deserialises: dtype policies become dtype names, InputLayer's `batch_shape`
 * becomes `batch_input_shape`, functional `inbound_nodes` of `{args, kwargs}` become
 * `[[layer, node, tensor, {}]]` lists, and the Keras 3 bookkeeping keys (`module`,
 * `registered_name`, `build_config`, `compile_config`) are dropped. Layers that are the
 * identity at inference and unknown to TF.js (augmentation) become linear Activations. Keras 2
 * configs otherwise pass through unchanged.
 */

type Json = unknown;

const DROPPED = new Set(['module', 'registered_name', 'build_config', 'compile_config']);

/**
 * Keras layers that pass their input through unchanged at inference (augmentation, spatial
 * dropout) and that TF.js lacks: rebuilt as a linear Activation of the same name, so a model
 * trained with them still loads.
 */
const IDENTITY_AT_INFERENCE = new Set([
  'RandomFlip',
  'RandomRotation',
  'RandomZoom',
  'RandomTranslation',
  'RandomContrast',
  'RandomBrightness',
  'SpatialDropout2D',
  'SpatialDropout3D',
]);

/** An inference-time stand-in TF.js has for a layer class it lacks, or the entry unchanged. */
function inferenceStandIn(entry: Record<string, Json>): Record<string, Json> {
  const config = isObject(entry.config) ? entry.config : {};
  const cls = entry.class_name;
  if (typeof cls === 'string' && IDENTITY_AT_INFERENCE.has(cls)) {
    return {
      ...entry,
      class_name: 'Activation',
      config: { name: config.name, trainable: false, dtype: config.dtype, activation: 'linear' },
    };
  }
  return entry;
}

function isObject(v: Json): v is Record<string, Json> {
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

export function normalizeKerasConfig(v: Json): Json {
  if (Array.isArray(v)) return v.map(normalizeKerasConfig);
  if (!isObject(v)) return v;
  const cls = v.class_name;
  if ((cls === 'DTypePolicy' || cls === 'Policy') && isObject(v.config)) return v.config.name;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(v)) {
    if (DROPPED.has(key) && 'class_name' in v) continue;
    if (key === 'inbound_nodes') out[key] = inboundNodes(value);
    else if (key === 'input_layers' || key === 'output_layers')
      out[key] = tensorList(normalizeKerasConfig(value));
    else out[key] = normalizeKerasConfig(value);
  }
  if (cls === 'InputLayer' && isObject(out.config) && 'batch_shape' in out.config) {
    const { batch_shape: shape, ...rest } = out.config;
    out.config = { ...rest, batch_input_shape: shape };
  }
  return inferenceStandIn(out);
}
