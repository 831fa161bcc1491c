import type {
  LayersModel,
  SymbolicTensor,
  Tensor,
  layers as tfLayers,
  serialization,
} from '@tensorflow/tfjs';
import { UserError } from '../errors';
import { fitProbe } from '../probe/fit';
import type { ProbeSet } from '../probe/types';
import type { CaptureTarget } from './batchCapture';
import { captureBatches, defaultBatchSize } from './batchCapture';
import type { TfjsModelJson } from './fsHandler';
import { loadArtifacts } from './fsHandler';
import { resolveLayerNames } from './layerSelection';
import { loadTf, selectBackend, withCpuFallback } from './tfjsRuntime';
import type {
  CaptureOptions,
  CaptureResult,
  LayerInfo,
  ModelHandle,
  OpenModelOptions,
} from './types';

type Layer = tfLayers.Layer;

/** Layers whose activation is fused into the layer: their pre-activation is computed by a linear clone. */
const FUSED = new Set([
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
const CONV_LIKE = /Conv|Pooling|Cropping|ZeroPadding|UpSampling/;
/** Layers with weights that are not measured by default: normalisation and token embeddings. */
const NOT_MEASURED = new Set(['BatchNormalization', 'LayerNormalization', 'Embedding']);

function activationOf(layer: Layer): string | null {
  const cls = layer.getClassName();
  const act = (layer.getConfig() as { activation?: unknown }).activation;
  if (typeof act !== 'string' || act === 'linear') return null;
  return FUSED.has(cls) || cls === 'Activation' ? act : null;
}

function firstShape(shape: unknown): (number | null)[] {
  if (Array.isArray(shape) && Array.isArray(shape[0])) return shape[0] as (number | null)[];
  return Array.isArray(shape) ? (shape as (number | null)[]) : [];
}

function single(file: string, layer: Layer, which: 'input' | 'output'): SymbolicTensor {
  let t: SymbolicTensor | SymbolicTensor[];
  try {
    t = which === 'input' ? layer.input : layer.output;
  } catch {
    throw new UserError(
      `${file}: layer '${layer.name}' is called more than once in the model: expected a layer with one call site`,
    );
  }
  if (Array.isArray(t)) {
    throw new UserError(
      `${file}: layer '${layer.name}' has ${t.length} ${which}s: expected a layer with one ${which}`,
    );
  }
  return t;
}

function loadError(file: string, err: unknown): UserError {
  const msg = err instanceof Error ? err.message : String(err);
  const unknown =
    /Unknown (layer|activation|initializer|regularizer|constraint|loss)[^:]*: ?([\w>]+)/i.exec(msg);
  if (unknown)
    return new UserError(
      `${file}: unsupported ${unknown[1].toLowerCase()} '${unknown[2]}' in the layers-model`,
    );
  return new UserError(`${file}: cannot load the TF.js layers-model: ${msg.split('\n')[0]}`);
}

/**
 * The model's head: the output layers, and the layers with weights that reach an output only
 * through parameter-free layers (a Dense logits layer followed by Activation('softmax') or
 * Dropout). These are not measured by default.
 */
function headLayers(model: LayersModel): Set<string> {
  const heads = new Set<string>();
  const visit = (layer: Layer): void => {
    if (heads.has(layer.name)) return;
    heads.add(layer.name);
    if (layer.countParams() > 0) return;
    for (const node of layer.inboundNodes) for (const inbound of node.inboundLayers) visit(inbound);
  };
  for (const o of model.outputs) visit(o.sourceLayer as Layer);
  return heads;
}

/** Opens a TF.js layers-model whose model.json has been read. */
export async function openLayersModel(
  file: string,
  json: TfjsModelJson,
  opts: OpenModelOptions,
): Promise<ModelHandle> {
  const artifacts = await loadArtifacts(file, json);
  const backend = await selectBackend(opts.backend);
  const tf = loadTf();
  let model: LayersModel;
  try {
    model = await tf.loadLayersModel({ load: () => Promise.resolve(artifacts) });
  } catch (err) {
    throw loadError(file, err);
  }
  const heads = headLayers(model);
  const visible = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const layers: LayerInfo[] = visible.map((l) => ({
    name: l.name,
    type: l.getClassName(),
    outputShape: firstShape(l.outputShape),
    activation: activationOf(l),
    measuredByDefault:
      l.countParams() > 0 && !NOT_MEASURED.has(l.getClassName()) && !heads.has(l.name),
  }));
  const inputShape = model.inputs.length === 1 ? model.inputs[0].shape : [];

  async function capture(probe: ProbeSet, copts: CaptureOptions = {}): Promise<CaptureResult> {
    if (model.inputs.length !== 1) {
      throw new UserError(`${file}: expected a model with one input, found ${model.inputs.length}`);
    }
    const fitted = fitProbe(probe, inputShape);
    const names = resolveLayerNames(file, layers, copts.layers);
    const point = copts.point ?? 'preactivation';
    // Every target reads one symbolic tensor of the model; a fused layer's pre-activation is its
    // input passed through a clone of the layer with a linear activation and the same weights.
    const symbolic: SymbolicTensor[] = [];
    const clones: (Layer | null)[] = [];
    const targets: CaptureTarget[] = names.map((name) => {
      const layer = model.getLayer(name);
      const cls = layer.getClassName();
      const config = layer.getConfig() as { dataFormat?: string };
      const act = activationOf(layer);
      const pre = point === 'preactivation' && act !== null;
      if (pre && cls === 'Activation') {
        symbolic.push(single(file, layer, 'input'));
        clones.push(null);
      } else if (pre) {
        const input = single(file, layer, 'input');
        symbolic.push(input);
        clones.push(linearClone(layer, input.shape));
      } else {
        symbolic.push(single(file, layer, 'output'));
        clones.push(null);
      }
      return {
        name,
        point: pre ? 'preactivation' : 'output',
        convLike: CONV_LIKE.test(cls),
        channelsFirst: config.dataFormat === 'channelsFirst',
      };
    });
    const sub = tf.model({ inputs: model.inputs, outputs: symbolic });
    try {
      const result = await withCpuFallback(
        handle,
        () =>
          captureBatches(
            tf,
            fitted,
            targets,
            (x) =>
              tf.tidy(() => {
                const out = sub.predict(x, { batchSize: x.shape[0] });
                const outs = Array.isArray(out) ? out : [out];
                return outs.map((t, i) => {
                  const clone = clones[i];
                  return clone === null ? t : (clone.apply(t) as Tensor);
                });
              }),
            {
              ...copts,
              batchSize:
                copts.batchSize ??
                defaultBatchSize([
                  [null, ...fitted.shape.slice(1)],
                  ...layers.map((l) => l.outputShape),
                ]),
              inputDtype: model.inputs[0].dtype,
              sequence: copts.sequence ?? 'first',
            },
          ),
        copts.onWarning,
      );
      return { ...result, backend: handle.backend };
    } finally {
      // The clones were only applied eagerly (never wired into a model): free their weight copies.
      for (const c of clones) for (const w of c?.weights ?? []) w.dispose();
    }
  }

  function linearClone(layer: Layer, inputShape: (number | null)[]): Layer {
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
    const config = {
      ...layer.getConfig(),
      activation: 'linear',
      name: `${layer.name}__preactivation`,
    };
    const clone = entry[1](entry[0], config as serialization.ConfigDict) as Layer;
    clone.build(inputShape);
    clone.setWeights(layer.getWeights());
    return clone;
  }

  const handle: ModelHandle = {
    path: file,
    format: 'tfjs-layers',
    backend,
    inputShape,
    layers,
    capture,
    dispose: () => model.dispose(),
  };
  return handle;
}
