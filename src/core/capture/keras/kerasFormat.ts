import type { LayersModel, io } from '@tensorflow/tfjs';
import { strToU8 } from 'fflate';
import { UserError } from '../../errors';
import { normalizeKerasConfig } from './kerasConfig';
import { registerStandIns } from './kerasStandInClasses';
import type { StandInWeights } from './kerasStandIns';
import { KERAS_ACTIVATION_NAMES, withStandIns } from './kerasStandIns';
import { kerasWeightGroups } from './kerasWeightGroups';
import type { Hdf5Array, Hdf5Reader } from './kerasHdf5';
import { openHdf5 } from './kerasHdf5';
import type { FlatTopology, LayerEntry } from '../tfjs/nestedModels';
import { flattenNestedModels } from '../tfjs/nestedModels';
import { checkLayersTopology } from '../tfjs/topologyCheck';
import { openLayersArtifacts } from '../tfjs/tfjsLayers';
import { loadTf } from '../tfjs/tfjsRuntime';
import type { ModelFileInfo, ModelFormat, ModelHandle, OpenModelOptions } from '../format';
import { fileStem } from '../common/modelFiles';
import { readInput } from '../../io/readInput';
import { readZip } from '../../io/zip';

const ZIP = [0x50, 0x4b, 0x03, 0x04];
const HDF5 = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(head: Uint8Array, magic: number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

/**
 * The weights of one layer, in the layer's own order (kernel, bias...), found by the layer's
 * name path: its name, preceded by the names of the models it is nested in.
 */
type LayerWeights = (names: string[]) => Hdf5Array[] | undefined;

/** A Keras model read from disk: its config (Keras 2 form) and a lookup of weights by layer. */
interface KerasSource {
  config: Record<string, unknown>;
  /** Major version of the Keras that wrote it (activations changed meaning in Keras 3). */
  kerasMajor: number;
  weights: LayerWeights;
  reader: Hdf5Reader;
}

/** The major of a `keras_version` string ('3.3.3' -> 3), or `fallback` when there is none. */
function kerasMajorOf(version: unknown, fallback: number): number {
  const major = typeof version === 'string' ? Number.parseInt(version, 10) : NaN;
  return Number.isFinite(major) ? major : fallback;
}

function parseConfig(text: string, where: string): Record<string, unknown> {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new UserError(
      `${where}: expected the Keras model config as JSON, found text that does not parse (${(err as Error).message})`,
    );
  }
  if (typeof config !== 'object' || config === null || !('class_name' in config)) {
    throw new UserError(`${where}: expected a Keras model config with a class_name, found none`);
  }
  // Checked as written (Keras 3 calls keep their keras_history) and in the Keras 2 form.
  checkLayersTopology(where, config);
  const normalized = normalizeKerasConfig(config, where) as Record<string, unknown>;
  checkLayersTopology(where, normalized);
  return normalized;
}

/** The members of a .keras archive that are read (the others, e.g. assets/, are not inflated). */
const KERAS_MEMBERS = ['config.json', 'metadata.json', 'model.weights.h5'];

/** A .keras file (Keras 3): a zip of config.json and model.weights.h5 (layers/<name>/vars/<i>). */
async function readKerasZip(file: string, bytes: Uint8Array): Promise<KerasSource> {
  // The bounded zip reader: only these three members are inflated, within its size budget.
  const zip = readZip(bytes, file, (n) => KERAS_MEMBERS.includes(n), {
    archive: 'a .keras zip archive',
  });
  const entries: Record<string, Uint8Array> = Object.fromEntries(zip.members);
  const names = zip.entries.map((e) => e.name);
  if (!('config.json' in entries))
    throw new UserError(
      `${file}: expected config.json in the .keras archive, found ${names.join(', ') || 'no files'}`,
    );
  const weightsFile = entries['model.weights.h5'];
  if (weightsFile === undefined)
    throw new UserError(
      `${file}: expected model.weights.h5 in the .keras archive (the model's weights), found ${names.join(', ')}`,
    );
  const config = parseConfig(
    new TextDecoder().decode(entries['config.json']),
    `${file}: config.json`,
  );
  let metadata: { keras_version?: unknown } = {};
  try {
    metadata = JSON.parse(new TextDecoder().decode(entries['metadata.json'] ?? strToU8('{}')));
  } catch {
    // no usable metadata: the version falls back to Keras 3, which writes .keras files
  }
  const reader = await openHdf5(weightsFile, `${file}: model.weights.h5`);
  const groups = kerasWeightGroups(config as unknown as LayerEntry);
  return {
    config,
    kerasMajor: kerasMajorOf(metadata.keras_version, 3),
    reader,
    weights: (names) => {
      const group = groups.get(names.join('/'));
      if (group === undefined) return undefined;
      /** The variables of one object, in index order; undefined when it has none. */
      const vars = (base: string): Hdf5Array[] | undefined => {
        const keys = reader.keys(`${base}/vars`);
        if (keys === undefined || keys.length === 0) return undefined;
        return keys
          .map(Number)
          .sort((a, b) => a - b)
          .map((i) => reader.dataset(`${base}/vars/${i}`)!);
      };
      // tf.keras 2.13 wrote _layer_checkpoint_dependencies where Keras 3 writes layers.
      for (const root of ['layers', '_layer_checkpoint_dependencies']) {
        const base = group
          .split('/')
          .map((s) => (s === 'layers' ? root : s))
          .join('/');
        if (reader.keys(base) === undefined) continue;
        // A layer's own variables, or those of the objects holding them: an RNN's cell; a
        // Bidirectional's forward then backward RNN (the order of layer.weights).
        for (const parts of [[''], ['/cell'], ['/forward_layer/cell', '/backward_layer/cell']]) {
          const found = parts.map((p) => vars(base + p));
          if (found.every((f) => f !== undefined)) return found.flat();
        }
        return undefined;
      }
      return undefined;
    },
  };
}

function stringList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  return typeof v === 'string' ? [v] : [];
}

/** A legacy .h5 (Keras 2 model.save): a model_config attribute and model_weights/<layer> groups. */
async function readKerasH5(file: string, bytes: Uint8Array): Promise<KerasSource> {
  const reader = await openHdf5(bytes, file);
  try {
    const configText = reader.attr('/', 'model_config');
    if (typeof configText !== 'string') {
      throw new UserError(
        `${file}: expected a Keras model file with a model_config attribute (the architecture), found ${reader.keys('/')?.includes('model_weights') || reader.attr('/', 'layer_names') !== undefined ? 'weights only (save the whole model, not save_weights)' : 'none'}`,
      );
    }
    const config = parseConfig(configText, `${file}: model_config`);
    const root = reader.keys('/')?.includes('model_weights') ? 'model_weights' : '/';
    return {
      config,
      kerasMajor: kerasMajorOf(reader.attr('/', 'keras_version'), 2),
      reader,
      weights: (path) => {
        // Keras 2 keeps a nested model's weights in the group of the top-level layer, named
        // by variable ('dense_1/kernel:0'): those of the layer are the ones under its name.
        const base = root === '/' ? path[0] : `${root}/${path[0]}`;
        const leaf = path[path.length - 1];
        const names = stringList(reader.attr(base, 'weight_names')).filter(
          (n) => path.length === 1 || n.split('/').slice(0, -1).includes(leaf),
        );
        if (names.length === 0) return undefined;
        return names.map((n) => {
          const data = reader.dataset(`${base}/${n}`);
          if (data === undefined)
            throw new UserError(`${file}: expected the weight '${base}/${n}', found none`);
          return data;
        });
      },
    };
  } catch (err) {
    reader.close();
    throw err;
  }
}

function unsupported(file: string, err: unknown): UserError {
  const msg = err instanceof Error ? err.message : String(err);
  const unknown =
    /Unknown (layer|activation|initializer|regularizer|constraint)[^:]*: ?([\w>]+)/i.exec(msg);
  if (unknown)
    return new UserError(
      `${file}: unsupported ${unknown[1].toLowerCase()} '${unknown[2]}' in the Keras model (TF.js has no such class)`,
    );
  return new UserError(`${file}: cannot rebuild the Keras model in TF.js: ${msg.split('\n')[0]}`);
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Weight specs and data for TF.js from the Keras file: every layer with weights is looked up
 * by name, its arrays taken in order and checked against the shapes the rebuilt model expects.
 */
function keraWeights(
  file: string,
  model: LayersModel,
  flat: FlatTopology,
  source: KerasSource,
  standIns: Map<string, StandInWeights>,
): io.ModelArtifacts {
  const specs: io.WeightsManifestEntry[] = [];
  const chunks: Float32Array[] = [];
  let bytes = 0;
  for (const layer of model.layers) {
    const want = layer.weights;
    if (want.length === 0) continue;
    const names = flat.origin.get(layer.name) ?? [layer.name];
    const standIn = standIns.get(names[names.length - 1]);
    const have = standIn
      ? standIn(
          source.weights(names),
          want.map((w) => w.shape.map(Number)),
        )
      : source.weights(names);
    const label = names.join('/');
    if (have === undefined || have.length === 0) {
      throw new UserError(
        `${file}: expected weights for layer '${label}' (${layer.getClassName()}), found none: the file is missing its weights`,
      );
    }
    if (have.length !== want.length) {
      throw new UserError(
        `${file}: layer '${label}' has ${have.length} weight arrays: expected ${want.length} (${want.map((w) => w.originalName).join(', ')})`,
      );
    }
    want.forEach((w, i) => {
      // A damaged weights file can leave holes where arrays should be.
      if (have[i] === undefined || !Array.isArray(have[i].shape))
        throw new UserError(
          `${file}: weight ${w.originalName} of layer '${label}': expected an array in the weights file, found none readable (damaged?)`,
        );
      if (!sameShape(w.shape, have[i].shape)) {
        throw new UserError(
          `${file}: weight ${w.originalName} has shape [${have[i].shape.join(', ')}]: expected [${w.shape.join(', ')}]`,
        );
      }
      specs.push({ name: w.originalName, shape: have[i].shape, dtype: 'float32' });
      chunks.push(have[i].values);
      bytes += have[i].values.byteLength;
    });
  }
  const data = new Uint8Array(bytes);
  let at = 0;
  for (const c of chunks) {
    data.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
    at += c.byteLength;
  }
  return {
    modelTopology: flat.topology as unknown as io.ModelArtifacts['modelTopology'],
    weightSpecs: specs,
    weightData: data.buffer,
  };
}

/** Opens a Keras .keras or .h5 file as a TF.js layers-model. */
async function openKeras(file: string, opts: OpenModelOptions): Promise<ModelHandle> {
  const bytes = await readInput(file, 'the Keras model');
  let source: KerasSource;
  if (startsWith(bytes, ZIP)) source = await readKerasZip(file, bytes);
  else if (startsWith(bytes, HDF5)) source = await readKerasH5(file, bytes);
  else {
    const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new UserError(
      `${file}: expected a Keras model (a .keras zip or an HDF5 .h5), found bytes ${head || '(empty)'}`,
    );
  }
  try {
    const tf = loadTf();
    registerStandIns(tf);
    const {
      config,
      weights: standIns,
      kerasClasses,
    } = withStandIns(file, source.config, source.kerasMajor);
    const flat = flattenNestedModels(file, config as Record<string, unknown>);
    checkLayersTopology(file, flat.topology);
    // A first build tells which weights each layer expects (names, order, shapes).
    let shell: LayersModel;
    try {
      shell = await tf.models.modelFromJSON({
        modelTopology: flat.topology as unknown as io.ModelArtifacts['modelTopology'],
      } as unknown as Parameters<typeof tf.models.modelFromJSON>[0]);
    } catch (err) {
      throw unsupported(file, err);
    }
    let artifacts: io.ModelArtifacts;
    try {
      artifacts = keraWeights(file, shell, flat, source, standIns);
    } finally {
      shell.dispose();
    }
    const handle = await openLayersArtifacts(file, artifacts, opts);
    handle.format = 'keras';
    // Listings name the Keras class and activation, not the TF.js stand-ins that run them.
    handle.layers = handle.layers.map((l) => {
      const original = (flat.origin.get(l.name) ?? [l.name]).at(-1) ?? l.name;
      const activation = l.activation && (KERAS_ACTIVATION_NAMES[l.activation] ?? l.activation);
      return { ...l, type: kerasClasses.get(original) ?? l.type, activation };
    });
    return handle;
  } finally {
    source.reader.close();
  }
}

/**
 * Keras models: a `.keras` zip (Keras 3) or a legacy `.h5` HDF5 file (Keras 2). Matches those
 * extensions or the zip/HDF5 magic bytes under `.h5`/`.hdf5`/`.keras`; `open` checks the bytes,
 * so a file of the wrong kind under a Keras name gets an error saying what was found.
 */
export const kerasFormat: ModelFormat = {
  id: 'keras',
  description: 'Keras .keras/.h5',
  extensions: ['.keras', '.h5', '.hdf5'],
  match: (file: ModelFileInfo) =>
    ['.keras', '.h5', '.hdf5'].includes(file.ext) || startsWith(file.head, HDF5),
  open: openKeras,
  contentFiles: async (file) => [file],
  modelName: fileStem,
};
