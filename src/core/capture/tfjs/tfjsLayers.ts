import type { LayersModel, SymbolicTensor, io, layers as tfLayers } from '@tensorflow/tfjs';
import { UserError, excerpt } from '../../errors';
import { fitProbe } from '../../probe/fit';
import type { ProbeSet } from '../../probe/types';
import type { CaptureTarget } from '../common/batchCapture';
import { batchOptions, captureBatches } from '../common/batchCapture';
import type { TfjsModelJson } from './fsHandler';
import { loadArtifacts } from './fsHandler';
import { selectLayers } from '../common/layerSelection';
import type { InputChoice } from '../common/modelInputs';
import {
  checkInputValues,
  otherInputsNotice,
  pickInput,
  tfjsInputTensors,
} from '../common/modelInputs';
import { ACTIVATION_SUFFIX, splitFusedLayers } from './layersRewrite';
import { flattenNestedModels } from './nestedModels';
import { checkLayersTopology } from './topologyCheck';
import { blameNonFinite } from './nonFiniteBlame';
import { loadTf, selectBackend, withCpuFallback } from './tfjsRuntime';
import type {
  BackendName,
  CaptureOptions,
  CaptureResult,
  LayerInfo,
  ModelHandle,
  OpenModelOptions,
} from '../format';

/** The dtypes a layers-model input can take a probe batch in. */
const INPUT_DTYPES: readonly string[] = ['float32', 'int32', 'bool'];

type Layer = tfLayers.Layer;

const CONV_LIKE = /Conv|Pooling|Cropping|ZeroPadding|UpSampling/;
/** Layers with weights that are not measured by default: normalisation and token embeddings. */
const NOT_MEASURED = new Set(['BatchNormalization', 'LayerNormalization', 'Embedding']);

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
  return openLayersArtifacts(file, await loadArtifacts(file, json), opts);
}

/**
 * Opens a layers-model from artifacts in memory: a Keras-style topology plus weight specs and
 * data (as read from model.json and its shards, or rebuilt from a Keras file).
 */
export async function openLayersArtifacts(
  file: string,
  artifacts: io.ModelArtifacts,
  opts: OpenModelOptions,
): Promise<ModelHandle> {
  const backend = await selectBackend(opts.backend);
  const tf = loadTf();
  let model: LayersModel;
  // A crafted topology can make tfjs-layers loop forever: checked as read, and as rewritten.
  checkLayersTopology(file, artifacts.modelTopology);
  // Fused activations are split into their own layers, so the value before them is a layer
  // output that one forward pass yields alongside everything else.
  // Nested models are inlined first, so their layers are split and captured like the others.
  const { topology, split } = splitFusedLayers(
    flattenNestedModels(file, artifacts.modelTopology as Record<string, unknown>).topology,
  );
  checkLayersTopology(file, topology);
  try {
    model = await tf.loadLayersModel({
      load: () => Promise.resolve({ ...artifacts, modelTopology: topology }),
    });
  } catch (err) {
    throw loadError(file, err);
  }
  /** The layer's activation: split off (a fused one), or its own (an Activation layer). */
  const activationOf = (layer: Layer): string | null => {
    const source = split.has(layer.name) ? model.getLayer(layer.name + ACTIVATION_SUFFIX) : layer;
    if (source.getClassName() !== 'Activation') return null;
    const act = (source.getConfig() as { activation?: unknown }).activation;
    return typeof act === 'string' && act !== 'linear' ? act : null;
  };
  const heads = headLayers(model);
  const added = new Set([...split].map((n) => n + ACTIVATION_SUFFIX));
  const visible = model.layers.filter(
    (l) => l.getClassName() !== 'InputLayer' && !added.has(l.name),
  );
  const layers: LayerInfo[] = visible.map((l) => ({
    name: l.name,
    type: l.getClassName(),
    outputShape: firstShape(l.outputShape),
    activation: activationOf(l),
    // A layer called more than once (shared) has no single output to capture.
    measuredByDefault:
      l.countParams() > 0 &&
      !NOT_MEASURED.has(l.getClassName()) &&
      !heads.has(l.name) &&
      l.inboundNodes.length === 1,
  }));
  // The input layers' names (a Sequential's `inputNames` stays empty).
  const inputNames = model.inputs.map((t) => t.sourceLayer.name);
  const otherNames = (fed: number): string[] => inputNames.filter((_, i) => i !== fed);
  const openValues = opts.inputValues ?? {};
  let choice: InputChoice;
  try {
    choice = pickInput(
      file,
      model.inputs.map((t, i) => ({ name: inputNames[i], dims: t.shape })),
      opts.input,
    );
    checkInputValues(file, inputNames[choice.index], otherNames(choice.index), openValues);
    // tfjs-layers keeps an input layer's dtype as its config gives it (["float32"], say):
    // the probe batch could not be made of it.
    model.inputs.forEach((t, i) => {
      if (!INPUT_DTYPES.includes(t.dtype))
        throw new UserError(
          `${file}: input '${inputNames[i]}' has dtype ${excerpt(JSON.stringify(t.dtype) ?? String(t.dtype))}: expected one of ${INPUT_DTYPES.join(', ')}`,
        );
    });
  } catch (err) {
    model.dispose();
    throw err;
  }
  const fed = choice.index;
  const inputShape = model.inputs[fed].shape;
  /** The model's inputs for a probe batch: the batch where it is fed, the others filled. */
  const inputs = model.inputs.map((t, i) => ({
    name: inputNames[i],
    shape: t.shape,
    dtype: t.dtype,
  }));

  async function capture(probe: ProbeSet, copts: CaptureOptions = {}): Promise<CaptureResult> {
    const fitted = fitProbe(probe, inputShape);
    const values = copts.inputValues ?? openValues;
    const others = otherNames(fed);
    checkInputValues(file, inputNames[fed], others, values);
    if (others.length > 0)
      copts.onWarning?.(otherInputsNotice(file, inputNames[fed], others, choice.reason, values));
    const names = selectLayers(file, layers, copts.layers).map((l) => l.name);
    const point = copts.point ?? 'preactivation';
    // Every target reads one symbolic tensor of the model: a split layer's own output is its
    // pre-activation and its Activation layer's output the activated value; an Activation
    // layer's pre-activation is its input.
    const symbolic: SymbolicTensor[] = [];
    const targets: CaptureTarget[] = names.map((name) => {
      const layer = model.getLayer(name);
      const cls = layer.getClassName();
      const config = layer.getConfig() as { dataFormat?: string };
      const pre = point === 'preactivation' && activationOf(layer) !== null;
      if (split.has(name)) {
        symbolic.push(
          single(file, pre ? layer : model.getLayer(name + ACTIVATION_SUFFIX), 'output'),
        );
      } else {
        symbolic.push(single(file, layer, pre ? 'input' : 'output'));
      }
      return {
        name,
        point: pre ? 'preactivation' : 'output',
        convLike: CONV_LIKE.test(cls),
        channelsFirst: config.dataFormat === 'channelsFirst',
      };
    });
    const sub = tf.model({ inputs: model.inputs, outputs: symbolic });
    const result = await withCpuFallback(
      handle,
      () =>
        captureBatches(
          tf,
          fitted,
          targets,
          (x) => {
            const feeds = tfjsInputTensors(tf, inputs, fed, x, values);
            try {
              const out = sub.predict(feeds.length === 1 ? x : feeds, { batchSize: x.shape[0] });
              return Array.isArray(out) ? out : [out];
            } finally {
              tf.dispose(feeds.filter((t) => t !== x));
            }
          },
          batchOptions(
            copts,
            fitted,
            layers.map((l) => l.outputShape),
            model.inputs[fed].dtype,
          ),
        ),
      copts.onWarning,
    ).catch(async (err: unknown) => {
      // A NaN from a finite probe is the model's doing (corrupt weights): say so.
      throw await blameNonFinite(file, fitted, err, () =>
        model.layers.flatMap((l) =>
          l.weights.map((w) => ({
            name: w.originalName,
            layer: l.name,
            values: () => w.read().data(),
          })),
        ),
      );
    });
    return { ...result, backend: handle.backend };
  }

  const handle: ModelHandle & { backend: BackendName } = {
    path: file,
    format: 'tfjs-layers',
    backend,
    inputShape,
    layers,
    parameters: model.countParams(),
    capture,
    dispose: () => model.dispose(),
  };
  return handle;
}
