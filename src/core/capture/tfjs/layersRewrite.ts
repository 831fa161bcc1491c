/** A layer entry of a Keras/TF.js layers-model topology (JSON, snake_case config). */
interface LayerEntry {
  class_name: string;
  config: Record<string, unknown>;
  name?: string;
  inbound_nodes?: unknown[];
}

/** Layer classes whose activation is fused into the layer. */
export const FUSED_LAYER_CLASSES = new Set([
  'Dense',
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'SeparableConv1D',
  'SeparableConv2D',
  'DepthwiseConv2D',
  'Conv2DTranspose',
  'Conv3DTranspose',
]);

/** Suffix of the Activation layer split off a fused layer. */
export const ACTIVATION_SUFFIX = '__activation';

function fusedActivation(entry: LayerEntry): string | null {
  const act = entry.config.activation;
  if (!FUSED_LAYER_CLASSES.has(entry.class_name) || typeof act !== 'string' || act === 'linear') {
    return null;
  }
  return act;
}

/** Renames references `[layer, node, tensor, kwargs]` to `from` into references to `to`. */
function renameRefs(value: unknown, from: string, to: string): unknown {
  if (!Array.isArray(value)) return value;
  if (value.length >= 3 && value[0] === from && typeof value[1] === 'number') {
    return [to, ...value.slice(1)];
  }
  return value.map((v) => renameRefs(v, from, to));
}

/**
 * Splits every layer with a fused activation (Dense(relu), Conv2D(relu)...) into the layer
 * with a linear activation, keeping its name and weights, and an `Activation` layer named
 * `<name>__activation` that every consumer (and the model outputs) now reads. The model computes
 * the same function; the layer's own output becomes its pre-activation. Handles Sequential and
 * functional topologies (shared layers included: one activation call per layer call). Returns
 * the rewritten topology and the names of the split layers.
 */
export function splitFusedLayers(topology: Record<string, unknown>): {
  topology: Record<string, unknown>;
  split: Set<string>;
} {
  const copy = JSON.parse(JSON.stringify(topology)) as Record<string, unknown>;
  const model = (copy.model_config ?? copy) as { class_name?: string; config?: unknown };
  const split = new Set<string>();
  const config = model.config as Record<string, unknown> | unknown[] | undefined;
  const layers = (Array.isArray(config) ? config : config?.layers) as LayerEntry[] | undefined;
  if (!Array.isArray(layers)) return { topology: copy, split };
  const sequential = model.class_name === 'Sequential';
  const out: LayerEntry[] = [];
  for (const entry of layers) {
    out.push(entry);
    const act = fusedActivation(entry);
    const name = (entry.config.name as string | undefined) ?? entry.name;
    if (act === null || name === undefined) continue;
    split.add(name);
    const actName = name + ACTIVATION_SUFFIX;
    entry.config = { ...entry.config, activation: 'linear' };
    const actConfig = {
      name: actName,
      trainable: false,
      dtype: entry.config.dtype ?? 'float32',
      activation: act,
    };
    if (sequential) {
      out.push({ class_name: 'Activation', config: actConfig });
    } else {
      const calls = entry.inbound_nodes?.length ?? 0;
      out.push({
        class_name: 'Activation',
        config: actConfig,
        name: actName,
        inbound_nodes: Array.from({ length: calls }, (_, k) => [[name, k, 0, {}]]),
      });
    }
  }
  if (!sequential && !Array.isArray(config) && config !== undefined) {
    for (const name of split) {
      for (const entry of out) {
        if (entry.name === name + ACTIVATION_SUFFIX) continue;
        if (entry.inbound_nodes)
          entry.inbound_nodes = renameRefs(
            entry.inbound_nodes,
            name,
            name + ACTIVATION_SUFFIX,
          ) as unknown[];
      }
      config.output_layers = renameRefs(config.output_layers, name, name + ACTIVATION_SUFFIX);
    }
  }
  if (Array.isArray(config)) model.config = out;
  else if (config !== undefined) config.layers = out;
  return { topology: copy, split };
}
