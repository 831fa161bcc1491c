import type { InferenceModel, MetaGraph, NamedTensorMap, Tensor } from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../errors';
import { fitProbe } from '../../probe/fit';
import type { ProbeSet } from '../../probe/types';
import { batchOptions, captureBatches } from '../common/batchCapture';
import { blameNonFinite } from '../tfjs/nonFiniteBlame';
import { loadTf, requireTfjsNode, selectBackend } from '../tfjs/tfjsRuntime';
import type {
  CaptureOptions,
  CaptureResult,
  LayerInfo,
  ModelFileInfo,
  ModelFormat,
  ModelHandle,
} from '../format';
import { folderName } from '../common/modelFiles';

/** The part of @tensorflow/tfjs-node's API that reads SavedModels (its typings are optional). */
interface TfNodeSavedModel {
  node: {
    getMetaGraphsFromSavedModel(dir: string): Promise<MetaGraph[]>;
    loadSavedModel(
      dir: string,
      tags?: string[],
      signature?: string,
    ): Promise<InferenceModel & { dispose(): void }>;
  };
}

/**
 * The message when tfjs-node (libtensorflow) is missing: what to install, or how to convert.
 * The folder is named once, so that the hints fit in a UserError's 300 characters.
 */
export function savedModelNeedsTfjsNode(dir: string): string {
  return (
    `${dir}: a TF SavedModel needs @tensorflow/tfjs-node, which is not installed here: run ` +
    `'npm install @tensorflow/tfjs-node' (it downloads libtensorflow), or convert the folder ` +
    `with 'tensorflowjs_converter --input_format=tf_saved_model' and open its model.json`
  );
}

function loadTfNode(dir: string): TfNodeSavedModel {
  try {
    return requireTfjsNode() as TfNodeSavedModel;
  } catch {
    throw new UserError(savedModelNeedsTfjsNode(dir));
  }
}

/**
 * A signature tensor's shape with the batch first: tfjs-node gives each size as a
 * TensorShapeProto.Dim object (typed as a number), whose value is the size, -1 when unknown.
 */
function batchShape(dims: readonly unknown[] | undefined): (number | null)[] {
  return [null, ...(dims ?? []).slice(1).map((d) => (Number(d) < 0 ? null : Number(d)))];
}

/**
 * Opens a SavedModel folder with tfjs-node: its `serving_default` signature (or the first one),
 * whose outputs are the capturable layers (TF's SavedModel API runs signatures only, so
 * intermediate tensors are out of reach: re-export the model with them as outputs).
 */
async function openSavedModel(file: string): Promise<ModelHandle> {
  const dir = path.dirname(file);
  const tfNode = loadTfNode(dir);
  const backend = await selectBackend('tfjs-node');
  const tf = loadTf();
  let metas: MetaGraph[];
  try {
    metas = await tfNode.node.getMetaGraphsFromSavedModel(dir);
  } catch (err) {
    throw new UserError(
      `${dir}: cannot read the SavedModel: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  const meta = metas.find((m) => m.tags.includes('serve')) ?? metas[0];
  const sigName =
    meta === undefined
      ? undefined
      : 'serving_default' in meta.signatureDefs
        ? 'serving_default'
        : Object.keys(meta.signatureDefs)[0];
  if (meta === undefined || sigName === undefined) {
    throw new UserError(`${dir}: expected a SavedModel with a signature, found none`);
  }
  const sig = meta.signatureDefs[sigName];
  const inputs = Object.entries(sig.inputs);
  if (inputs.length !== 1) {
    throw new UserError(
      `${dir}: expected a signature '${sigName}' with one input, found ${inputs.length} (${inputs.map(([k]) => k).join(', ')})`,
    );
  }
  const [, input] = inputs[0];
  const inputShape = batchShape(input.shape);
  const model = await tfNode.node.loadSavedModel(dir, meta.tags, sigName);
  const layers: LayerInfo[] = Object.entries(sig.outputs).map(([name, info]) => ({
    name,
    type: 'SignatureOutput',
    outputShape: batchShape(info.shape),
    activation: null,
    measuredByDefault: true,
  }));

  async function capture(probe: ProbeSet, copts: CaptureOptions = {}): Promise<CaptureResult> {
    const fitted = fitProbe(probe, inputShape);
    const names = copts.layers?.length ? copts.layers : layers.map((l) => l.name);
    for (const n of names) {
      if (!layers.some((l) => l.name === n))
        throw new UserError(
          `${dir}: unknown output '${n}': expected one of ${layers.map((l) => l.name).join(', ')}`,
        );
    }
    const result = await captureBatches(
      tf,
      fitted,
      names.map((name) => ({ name, point: 'output', convLike: false, channelsFirst: false })),
      (x) => {
        const out = model.predict(x, {}) as Tensor | Tensor[] | NamedTensorMap;
        const map: NamedTensorMap =
          out instanceof tf.Tensor
            ? { [layers[0].name]: out }
            : Array.isArray(out)
              ? Object.fromEntries(layers.map((l, i) => [l.name, out[i]]))
              : out;
        return names.map((n) => map[n]);
      },
      batchOptions(
        copts,
        fitted,
        layers.map((l) => l.outputShape),
      ),
    ).catch(async (err: unknown) => {
      // A NaN from a finite probe is the model's doing (its variables are in TensorFlow).
      throw await blameNonFinite(dir, fitted, err, () => null);
    });
    return { ...result, backend };
  }

  return {
    path: file,
    format: 'tf-saved-model',
    backend,
    inputShape,
    layers,
    capture,
    dispose: () => model.dispose(),
  };
}

/**
 * The regular files of a SavedModel's `variables/` and `assets/` folders, sorted: the weights
 * live there, so two checkpoints that differ only in weights hash apart.
 */
async function savedModelSideFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const sub of ['variables', 'assets']) {
    const entries = await fs
      .readdir(path.join(dir, sub), { recursive: true, withFileTypes: true })
      .catch(() => []);
    for (const e of entries) if (e.isFile()) files.push(path.join(e.parentPath, e.name));
  }
  return files.sort();
}

/**
 * TF SavedModel folders: the registry opens a folder through its saved_model.pb, which this
 * format matches by name. Other `.pb` files (a frozen graph beside checkpoints) are not models.
 */
export const savedModelFormat: ModelFormat = {
  id: 'tf-saved-model',
  description: 'TF SavedModel folder',
  extensions: [],
  folderMarker: 'saved_model.pb',
  requires: '@tensorflow/tfjs-node',
  match: (file: ModelFileInfo) => path.basename(file.path) === 'saved_model.pb',
  open: (file) => openSavedModel(file),
  contentFiles: async (file) => [file, ...(await savedModelSideFiles(path.dirname(file)))],
  modelName: folderName,
};
