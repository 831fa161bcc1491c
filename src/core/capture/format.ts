import type { ActivationMatrix, RowSink } from '../activations';
import type { JobOptions } from '../progress';
import type { ImageScale, ProbeSet } from '../probe/types';

/** The compute backends MemLens can run a TF.js model on, in the order they are tried. */
export type BackendName = 'tfjs-node' | 'wasm' | 'cpu';

/** One capturable layer (layers-model) or graph node (graph-model). */
export interface LayerInfo {
  /** The model's own name, e.g. `dense_1` or `model/dense/Relu`. */
  name: string;
  /** The layer class (`Dense`, `Conv2D`) or graph op (`Relu`, `BiasAdd`). */
  type: string;
  /** Output shape with the batch dimension as null; unknown dimensions are null too. */
  outputShape: (number | null)[];
  /** The fused activation (`relu`, `tanh`...) or null when the layer has none. */
  activation: string | null;
  /**
   * True when `capture` measures this layer when no layers are named. Layers-model: a layer
   * with weights (not normalisation or Embedding) outside the head (the output layers and the
   * last layers with weights before them, e.g. logits followed by Dropout/Activation).
   * Graph-model: an activation node (or fused op with an activation) outside the head (the
   * outputs back to the nearest node with float weights). Parameter-free layers are measured
   * only when named.
   */
  measuredByDefault: boolean;
}

/**
 * Where a layer is read: `preactivation` is the value before a fused activation (the authors'
 * choice; for a layer without a fused activation it is the layer's output), `output` the
 * layer's own output.
 */
export type CapturePoint = 'preactivation' | 'output';

/** How a sequence output (batch x tokens x features) becomes one row per example. */
export type SequenceReduction = 'first' | 'mean';

export interface CaptureOptions extends JobOptions {
  /** Layer names in the order their columns should appear; default: the layers measured by default. */
  layers?: string[];
  /** Default `preactivation`. */
  point?: CapturePoint;
  /** Examples per forward pass (default 256, fewer for big feature maps: see defaultBatchSize). */
  batchSize?: number;
  /** Default `first` (the [CLS] token). */
  sequence?: SequenceReduction;
  /** One-line notices, e.g. a fallback to the cpu backend for a kernel wasm lacks. */
  onWarning?: (message: string) => void;
  /**
   * Values for inputs the probe does not feed (ONNX: a model's `state`, `sr`): NAME -> a
   * scalar broadcast to the input's shape, per batch. Default: the one given at open.
   */
  inputValues?: Record<string, number>;
  /**
   * Takes each batch's rows as they are captured (`memlens capture` streams them to disk):
   * the result's `acts.data` is then empty, its shape and layers set. Every format feeds it.
   */
  sink?: RowSink;
}

/** What one captured layer contributed, for sidecars and reports. */
export interface CapturedLayer {
  name: string;
  /** First column (inclusive) and one past the last column in the activation matrix. */
  start: number;
  end: number;
  /** The point actually read: `preactivation` only when the layer has a fused activation. */
  point: CapturePoint;
  /** How a wider-than-2-D output was reduced: none, global average pooling, first token, mean over tokens. */
  reduction: 'none' | 'global-average-pool' | 'first-token' | 'mean-tokens';
}

/** The result of a capture: the activations plus how each layer was read. */
export interface CaptureResult {
  acts: ActivationMatrix;
  layers: CapturedLayer[];
  backend: string;
}

/** An opened model: its layers, and a capture of their activations on a probe set. */
export interface ModelHandle {
  /** The model file that was opened (model.json for TF.js). */
  path: string;
  /** The registry id of the format, e.g. `tfjs-layers`. */
  format: string;
  /**
   * What the model runs on: a TF.js backend (cpu after a fallback for a kernel the backend
   * lacks), or the runtime of another format (`torch 2.1.0`).
   */
  backend: string;
  /** The input shape, batch dimension first and null. */
  inputShape: (number | null)[];
  /**
   * The pixel scale the model's input implies, when it tells: `0-255` for an int32 or uint8
   * image input. Image probes are read at it unless the user asks for another.
   */
  imageScale?: ImageScale;
  layers: LayerInfo[];
  /**
   * The trained values the model holds, when its reader counts them as it opens it (TF.js
   * layers and Keras models: every weight, as Keras's count_params; PyTorch: the module's
   * parameters, as sum(p.numel() for p in model.parameters())); absent otherwise.
   */
  parameters?: number;
  /**
   * Runs the model on the probe set in batches and returns an S x N matrix: the named layers
   * (or the default ones) concatenated in the order given, LayerSlice names = layer names.
   * Outputs wider than 2-D are reduced: conv feature maps by global average pooling per
   * channel, sequences by their first token (or the mean over tokens).
   */
  capture(probe: ProbeSet, opts?: CaptureOptions): Promise<CaptureResult>;
  /** Frees the model's tensors. */
  dispose(): void;
}

export interface OpenModelOptions {
  /** Force a backend instead of trying tfjs-node, then wasm, then cpu. */
  backend?: BackendName;
  /** One-line notices while opening (a graph-model's shape pass falling back to cpu). */
  onWarning?: (message: string) => void;
  /** For a model with several inputs (ONNX): the input the probe feeds. */
  input?: string;
  /** Values for the inputs the probe does not feed (see CaptureOptions.inputValues). */
  inputValues?: Record<string, number>;
  /**
   * The probe, for a format whose layers are found by running the model (PyTorch: its
   * `probeAtOpen` is true); its first examples are run once at open.
   */
  probe?: ProbeSet;
  /** PyTorch: the user's Python interpreter (default `python3` on PATH). */
  python?: string;
  /** PyTorch: `module:callable` building the model a state_dict is loaded into. */
  torchFactory?: string;
  /** PyTorch: folders put on sys.path for the user's classes (default: the current directory). */
  searchPaths?: string[];
}

/** What a format sees of a candidate file in its `match` step. */
export interface ModelFileInfo {
  path: string;
  /** Lower-case extension with the dot, e.g. `.json`. */
  ext: string;
  /** The first bytes of the file (up to 64). */
  head: Uint8Array;
}

/**
 * A model format: everything MemLens knows about one kind of model file lives behind this
 * contract, in the format's own folder. `match` is a cheap test on the name and leading bytes;
 * `open` reads the model and turns every failure into a one-line UserError. Callers (analysis,
 * compare, the CLI, the extension's child process) ask the registry, never a format directly.
 */
export interface ModelFormat {
  id: string;
  /** For error messages: "TF.js model.json". */
  description: string;
  /**
   * Lower-case extensions (with the dot) of this format's model files: the file explorer's
   * menus and the model viewer list exactly these (a unit test holds package.json to them).
   */
  extensions: readonly string[];
  /**
   * For a format saved as a folder: the file inside it that makes the folder one model
   * (`model.json`, `saved_model.pb`). A folder holding it opens through it.
   */
  folderMarker?: string;
  /**
   * The marker is too common a name to stand for a model on its own (a Hugging Face folder's
   * `config.json`): only its folder is a model, and the extension's menus do not offer it.
   */
  folderMarkerIsGeneric?: boolean;
  /**
   * An optional package the format cannot open without (`@tensorflow/tfjs-node`). The
   * extension never ships optional packages, so its menus leave such formats out.
   */
  requires?: string;
  /** The format finds its layers by running the model: `open` needs `OpenModelOptions.probe`. */
  probeAtOpen?: boolean;
  match(file: ModelFileInfo): boolean;
  open(file: string, opts: OpenModelOptions): Promise<ModelHandle>;
  /**
   * The files whose bytes make up the model opened through `file`, in a fixed order, `file`
   * first (weight shards, external data, variables).
   */
  contentFiles(file: string): Promise<string[]>;
  /** The short name a user recognises, e.g. the checkpoint folder of a folder format. */
  modelName(file: string): string;
}
