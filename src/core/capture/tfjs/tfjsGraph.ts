import type { GraphModel, NamedTensorMap, Tensor } from '@tensorflow/tfjs';
import { UserError, withSuffix } from '../../errors';
import { fitProbe } from '../../probe/fit';
import { impliedImageScale, scaleForIntegerImage } from '../../probe/imageScale';
import type { ProbeSet } from '../../probe/types';
import type { CaptureTarget } from '../common/batchCapture';
import { batchOptions, captureBatches, checkFeedSize, fixedBatchOf } from '../common/batchCapture';
import type { TfjsModelJson } from './fsHandler';
import { loadArtifacts } from './fsHandler';
import type { GraphNode } from './graphRewrite';
import {
  ACTIVATION_OPS,
  PREACTIVATION_SUFFIX,
  fusedActivation,
  inputNode,
  splitFusedActivations,
} from './graphRewrite';
import { selectLayers } from '../common/layerSelection';
import type { InputChoice } from '../common/modelInputs';
import {
  checkInputValues,
  filledInputsHint,
  otherInputsNotice,
  pickInput,
  tfjsInputTensors,
} from '../common/modelInputs';
import type { Tf } from './tfjsRuntime';
import { blameNonFinite } from './nonFiniteBlame';
import { inferLayouts } from './graphLayout';
import { showShape } from '../../probe/fit';
import { loadTf, selectBackend, withCpuFallback } from './tfjsRuntime';
import type {
  BackendName,
  CaptureOptions,
  CaptureResult,
  LayerInfo,
  ModelHandle,
  OpenModelOptions,
} from '../format';

/** Nodes that hold no computed activation: weights, inputs, pass-throughs. */
const NOT_LAYERS = new Set([
  'Const',
  'Placeholder',
  'PlaceholderWithDefault',
  'Identity',
  'IdentityN',
  'NoOp',
]);
const CONV_OPS = /Conv|Pool|DepthwiseConv/;

/** A failed run in one line; `hint` (filledInputsHint) follows the runtime's message. */
function graphError(file: string, err: unknown, hint = ''): UserError {
  const msg = err instanceof Error ? err.message : String(err);
  const op = /(?:Op is not supported|Unknown op)[^\w']*'?([\w.]+)/i.exec(msg);
  if (op) return new UserError(`${file}: unsupported graph op '${op[1]}'`);
  return new UserError(
    withSuffix(`${file}: cannot run the TF.js graph-model: ${msg.split('\n')[0]}`, hint),
  );
}

function toShape(dims: readonly number[] | undefined): (number | null)[] {
  return (dims ?? []).map((d) => (d < 0 ? null : d));
}

/**
 * Runs the graph up to `names` (sync when the graph allows it, else with executeAsync), the
 * probe batch `x` fed to input `fed` and the model's other inputs filled (`values`, else their
 * fill value).
 */
async function run(
  tf: Tf,
  model: GraphModel,
  fed: number,
  x: Tensor,
  names: string[],
  asyncMode: { on: boolean },
  values: Readonly<Record<string, number>>,
): Promise<Tensor[]> {
  const asArray = (t: Tensor | Tensor[]): Tensor[] => (Array.isArray(t) ? t : [t]);
  const fills = tfjsInputTensors(
    tf,
    model.inputs.map((t) => ({ name: t.name, shape: t.shape ?? [], dtype: t.dtype })),
    fed,
    x,
    values,
  );

  const feeds: Tensor | NamedTensorMap =
    fills.length === 1
      ? x
      : Object.fromEntries(model.inputs.map((input, i) => [input.name, fills[i]]));
  try {
    if (!asyncMode.on) {
      try {
        return tf.tidy(() => asArray(model.execute(feeds, names)));
      } catch (err) {
        if (!/executeAsync/.test(err instanceof Error ? err.message : '')) throw err;
        asyncMode.on = true;
      }
    }
    return asArray(await model.executeAsync(feeds, names));
  } finally {
    tf.dispose(fills.filter((t) => t !== x));
  }
}

/**
 * The model's head: the output nodes and every node between them and the nearest nodes with
 * float weights (a Const float input: MatMul, Conv2D, BiasAdd...), those included. A Softmax or
 * Sigmoid behind an output Identity is head, not a hidden activation.
 */
function headNodes(nodes: GraphNode[], outputs: string[]): Set<string> {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const isWeight = (ref: string): boolean => {
    const n = byName.get(inputNode(ref));
    return n?.op === 'Const' && n.attr?.dtype?.type === 'DT_FLOAT';
  };
  const heads = new Set<string>();
  const visit = (name: string): void => {
    const node = byName.get(name);
    if (node === undefined || heads.has(name)) return;
    heads.add(name);
    const inputs = (node.input ?? []).filter((i) => !i.startsWith('^'));
    if (inputs.some(isWeight)) return;
    for (const ref of inputs) visit(inputNode(ref));
  };
  for (const o of outputs) visit(o);
  return heads;
}

/**
 * The element type of the fed input as the graph declares it (`uint8` for a DT_UINT8
 * Placeholder, which TF.js runs as int32), else TF.js's dtype.
 */
function inputElementType(nodes: GraphNode[], input: { name: string; dtype: string }): string {
  const node = nodes.find((n) => n.name === inputNode(input.name));
  const declared = /^DT_([A-Z]+\d*)$/.exec(node?.attr?.dtype?.type ?? '');
  return declared ? declared[1].toLowerCase() : input.dtype;
}

/**
 * Every node of a graph-model is an object with a string name and op and, when it has
 * inputs, an array of string references: a crafted topology stops here in one line instead
 * of failing deep inside TF.js.
 */
function checkGraphNodes(file: string, nodes: unknown): void {
  if (!Array.isArray(nodes))
    throw new UserError(
      `${file}: expected modelTopology.node to be an array of nodes, found ${typeof nodes}`,
    );
  nodes.forEach((n: unknown, i) => {
    const node = n as Partial<Record<'name' | 'op' | 'input', unknown>> | null;
    // What was found is described, not echoed: a crafted node may nest 100,000 deep.
    const kind = (v: unknown): string =>
      Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v;
    const bad = (what: string, found: unknown): UserError =>
      new UserError(`${file}: graph node ${i}: expected ${what}, found ${kind(found)}`);
    if (typeof node !== 'object' || node === null || Array.isArray(node)) throw bad('an object', n);
    if (typeof node.name !== 'string') throw bad('a string name', node.name);
    if (typeof node.op !== 'string') throw bad('a string op', node.op);
    if (
      node.input !== undefined &&
      (!Array.isArray(node.input) || node.input.some((r) => typeof r !== 'string'))
    )
      throw bad(
        'inputs as an array of node names',
        Array.isArray(node.input) ? node.input.find((r) => typeof r !== 'string') : node.input,
      );
  });
}

export async function openGraphModel(
  file: string,
  json: TfjsModelJson,
  opts: OpenModelOptions,
): Promise<ModelHandle> {
  const artifacts = await loadArtifacts(file, json);
  const topo = artifacts.modelTopology as { node?: GraphNode[] };
  const original = topo.node ?? [];
  checkGraphNodes(file, original);
  const fused = new Map(original.map((n) => [n.name, fusedActivation(n)]));
  const nodes = splitFusedActivations(original);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const n of nodes) {
    for (const ref of n.input ?? []) {
      if (!byName.has(inputNode(ref))) {
        throw new UserError(
          `${file}: node '${n.name}' reads '${ref}', which is not a node of the graph`,
        );
      }
    }
  }
  const backend = await selectBackend(opts.backend);
  const tf = loadTf();
  let model: GraphModel;
  try {
    model = await tf.loadGraphModel({
      load: () => Promise.resolve({ ...artifacts, modelTopology: { ...topo, node: nodes } }),
    });
  } catch (err) {
    throw graphError(file, err);
  }
  const otherNames = (fed: number): string[] =>
    model.inputs.filter((_, i) => i !== fed).map((i) => i.name);
  let choice: InputChoice;
  const openValues = opts.inputValues ?? {};
  try {
    choice = pickInput(
      file,
      model.inputs.map((i) => ({ name: i.name, dims: i.shape ?? [] })),
      opts.input,
    );
    checkInputValues(file, model.inputs[choice.index].name, otherNames(choice.index), openValues);
  } catch (err) {
    model.dispose();
    throw err;
  }
  const fed = choice.index;
  const inputShape = toShape(model.inputs[fed].shape);
  // A graph saved with a fixed batch (MoveNet's [1, 192, 192, 3]) runs in batches of that size.
  const fixedBatch = fixedBatchOf(inputShape);
  if (inputShape.length > 0) inputShape[0] = null;
  checkFeedSize(file, model.inputs[fed].name, fixedBatch ?? 1, inputShape.slice(1));
  const elementType = inputElementType(original, model.inputs[fed]);
  const imageScale = impliedImageScale(elementType, inputShape);
  const heads = headNodes(original, model.outputNodes.map(inputNode));
  const listed = original.filter((n) => !NOT_LAYERS.has(n.op));
  const asyncMode = { on: false };
  const state = { path: file, backend };
  const shapes = await withCpuFallback(
    state,
    () =>
      probeShapes(
        file,
        tf,
        model,
        fed,
        inputShape,
        listed.map((n) => n.name),
        asyncMode,
        fixedBatch ?? 1,
        openValues,
      ),
    opts.onWarning,
  );
  const activationOf = (n: GraphNode): string | null => {
    const f = fused.get(n.name);
    if (f) return ACTIVATION_OPS[f];
    return ACTIVATION_OPS[n.op] ?? null;
  };
  const layers: LayerInfo[] = listed.map((n) => {
    const activation = activationOf(n);
    return {
      name: n.name,
      type: n.op,
      outputShape: shapes.get(n.name) ?? [],
      activation,
      measuredByDefault: activation !== null && !heads.has(n.name),
    };
  });
  const layouts = inferLayouts(
    nodes,
    (name) =>
      toShape(
        model.inputs.find((i) => inputNode(i.name) === name)?.shape ??
          byName.get(name)?.attr?.shape?.shape?.dim?.map((d) => Number(d.size ?? -1)),
      ),
    (name) => {
      const t = model.weights[name]?.[0];
      return t === undefined || t.size > 8 ? undefined : Array.from(t.dataSync());
    },
  );
  const hasChannelsFirst = [...layouts.values()].includes('NCHW');
  /** Channels on axis 1? Unknown in a graph that holds NCHW tensors: refused, not guessed. */
  const channelsFirst = (layer: LayerInfo, source: string): boolean => {
    const layout = layouts.get(source) ?? null;
    if (layout !== null || !hasChannelsFirst) return layout === 'NCHW';
    const rank = layer.outputShape.length;
    if (rank > 0 && rank < 4) return false;
    throw new UserError(
      `${file}: cannot tell the channel axis of layer '${layer.name}' (output ${rank > 0 ? showShape(layer.outputShape) : 'of unknown shape'}): the graph holds channels-first (NCHW) tensors, and no Transpose or data_format shows this one's order; measure other layers`,
    );
  };

  async function capture(probe: ProbeSet, copts: CaptureOptions = {}): Promise<CaptureResult> {
    const scaled = scaleForIntegerImage(file, fitProbe(probe, inputShape), elementType, inputShape);
    if (scaled.notice !== undefined) copts.onWarning?.(scaled.notice);
    const fitted = scaled.probe;
    const values = copts.inputValues ?? openValues;
    const others = otherNames(fed);
    checkInputValues(file, model.inputs[fed].name, others, values);
    if (others.length > 0)
      copts.onWarning?.(
        otherInputsNotice(file, model.inputs[fed].name, others, choice.reason, values),
      );
    const names = selectLayers(file, layers, copts.layers).map((l) => l.name);
    const point = copts.point ?? 'preactivation';
    const fetch: string[] = [];
    const targets: CaptureTarget[] = names.map((name) => {
      const node = byName.get(name)!;
      const pre = point === 'preactivation' && activationOf(node) !== null;
      // Pre-activation: the split-off linear node of a fused op, else the node feeding the activation.
      const source = !pre
        ? name
        : fused.get(name)
          ? name + PREACTIVATION_SUFFIX
          : inputNode(node.input![0]);
      fetch.push(source);
      const src = byName.get(source)!;
      return {
        name,
        point: pre ? 'preactivation' : 'output',
        convLike: CONV_OPS.test(src.op),
        channelsFirst: channelsFirst(
          layers.find((l) => l.name === name)!,
          source,
        ),
      };
    });
    try {
      // A graph whose sizes follow its input's (RVM: src [?, ?, ?, 3]) has unknown layer shapes
      // until it runs: one pass on one example of the probe's shape gives the captured
      // tensors' sizes, which set the batch as known shapes do.
      const dynamic = layers.some(
        (l) => l.outputShape.length === 0 || l.outputShape.slice(1).some((d) => d === null),
      );
      const nodeShapes =
        dynamic && copts.batchSize === undefined && fixedBatch === undefined
          ? [
              ...(
                await probeShapes(
                  file,
                  tf,
                  model,
                  fed,
                  [null, ...fitted.shape.slice(1)],
                  fetch,
                  asyncMode,
                  1,
                  values,
                )
              ).values(),
            ]
          : layers.map((l) => l.outputShape);
      const result = await withCpuFallback(
        handle,
        () =>
          captureBatches(
            tf,
            fitted,
            targets,
            (x) => run(tf, model, fed, x, fetch, asyncMode, values),
            batchOptions(copts, fitted, nodeShapes, model.inputs[fed].dtype, fixedBatch),
          ),
        copts.onWarning,
      );
      return { ...result, backend: handle.backend };
    } catch (err) {
      if (err instanceof Error && err.name === 'CancelledError') throw err;
      // A NaN from a finite probe is the model's doing (corrupt weights): say so.
      if (err instanceof UserError)
        throw await blameNonFinite(file, fitted, err, () =>
          Object.entries(model.weights).flatMap(([name, tensors]) =>
            tensors.map((t) => ({ name, values: () => t.data() })),
          ),
        );
      throw graphError(file, err, filledInputsHint(otherNames(fed), values));
    }
  }

  const handle: ModelHandle & { backend: BackendName } = {
    path: file,
    format: 'tfjs-graph',
    backend: state.backend,
    inputShape,
    ...(imageScale === undefined ? {} : { imageScale }),
    layers,
    capture,
    dispose: () => {
      try {
        model.dispose();
      } catch (err) {
        // After a failed run the wasm backend's heap can be corrupt (RVM with a zero
        // downsample_ratio: "memory access out of bounds" in disposeData); the failure that
        // caused it is what the user must see, not this one. (A WebAssembly.RuntimeError,
        // told by its name: the extension's tsconfig has no WebAssembly global.)
        if (!(err instanceof Error && err.name === 'RuntimeError')) throw err;
      }
    },
  };
  return handle;
}

/**
 * Output shapes of the listed nodes, from one forward pass on `batch` zero examples (one, or the
 * model's fixed batch) when the input shape is fully known (batch dimension reported as null);
 * empty otherwise.
 */
async function probeShapes(
  file: string,
  tf: Tf,
  model: GraphModel,
  fed: number,
  inputShape: (number | null)[],
  names: string[],
  asyncMode: { on: boolean },
  batch: number,
  values: Readonly<Record<string, number>>,
): Promise<Map<string, (number | null)[]>> {
  const shapes = new Map<string, (number | null)[]>();
  const example = inputShape.slice(1);
  if (names.length === 0 || example.some((d) => d === null)) return shapes;
  const x = tf.zeros([batch, ...(example as number[])], model.inputs[fed].dtype);
  try {
    const outs = await run(tf, model, fed, x, names, asyncMode, values);
    outs.forEach((t, i) => shapes.set(names[i], [null, ...t.shape.slice(1)]));
    tf.dispose(outs);
  } catch (err) {
    const others = model.inputs.filter((_, i) => i !== fed).map((i) => i.name);
    throw graphError(file, err, filledInputsHint(others, values));
  } finally {
    x.dispose();
  }
  return shapes;
}
