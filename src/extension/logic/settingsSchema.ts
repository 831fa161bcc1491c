/**
 * The one table of the `memlens.*` settings: name, type, default, range, choices, text and
 * scope. package.json's `contributes.configuration` is generated from it
 * (`npm run sync:settings`, scripts/syncSettings.mjs), the host reads settings through it
 * (settingValues.ts, jobSettings.ts) and the analysis child validates a job's parameters
 * against it. A setting's position in the table is its place in the Settings editor. No VS
 * Code imports.
 */

/** VS Code's configuration scopes. */
export type SettingScope =
  | 'application'
  | 'machine'
  | 'machine-overridable'
  | 'window'
  | 'resource'
  | 'language-overridable';

interface SettingCommon {
  scope: SettingScope;
  /** Plain text, or Markdown (for settings naming files or code). Exactly one of the two. */
  description?: string;
  markdownDescription?: string;
  /**
   * Taken only from trusted settings in an untrusted workspace (package.json's
   * `capabilities.untrustedWorkspaces.restrictedConfigurations`): it names files to read,
   * code to import or an interpreter to run, or changes what runs.
   */
  restricted?: boolean;
}

export interface StringSetting extends SettingCommon {
  type: 'string';
  default: string;
  enum?: readonly string[];
  /** One per `enum` value, in the same order. */
  enumDescriptions?: readonly string[];
}

export interface NumberSetting extends SettingCommon {
  type: 'integer' | 'number';
  default: number;
  minimum?: number;
  maximum?: number;
}

/** An integer, or null for "no value" (the analysis default). */
export interface OptionalIntegerSetting extends SettingCommon {
  type: readonly ['integer', 'null'];
  default: null;
  minimum?: number;
  maximum?: number;
}

export interface StringListSetting extends SettingCommon {
  type: 'array';
  items: { type: 'string' };
  default: readonly string[];
}

/** Names mapped to numbers (a JSON object whose values are numbers). */
export interface NumberMapSetting extends SettingCommon {
  type: 'object';
  additionalProperties: { type: 'number' };
  default: Readonly<Record<string, number>>;
}

export type SettingSpec =
  StringSetting | NumberSetting | OptionalIntegerSetting | StringListSetting | NumberMapSetting;

/** Every `memlens.*` setting, by its name after `memlens.`, in the Settings editor's order. */
export const SETTINGS = {
  probeData: {
    type: 'string',
    default: '',
    scope: 'resource',
    restricted: true,
    markdownDescription:
      'Probe inputs (unlabelled, in-distribution) fed to models: a `.npy`/`.npz` array, a `.csv`, or a folder of images. Relative paths resolve against the workspace folder. When empty, MemLens asks once per workspace and remembers the choice.',
  },
  baseline: {
    type: 'string',
    default: '',
    scope: 'resource',
    restricted: true,
    markdownDescription:
      'A reference model of the same architecture. When set, every analysis is also read against it and gets a memorization signature (heuristic, example-level or none), shown in code lenses and as warnings on the lines that save the model. Relative paths resolve against the workspace folder.',
  },
  samples: {
    type: 'integer',
    default: 1000,
    minimum: 10,
    scope: 'resource',
    description:
      'Probe inputs used per analysis (a seeded random subset when the probe set is larger).',
  },
  seed: {
    type: 'integer',
    default: 0,
    minimum: 0,
    scope: 'resource',
    description: 'Seed for probe subsets, neuron caps and sampled MI pairs.',
  },
  layers: {
    type: 'array',
    items: { type: 'string' },
    default: [],
    scope: 'resource',
    description: 'Layers to measure (names). Empty: every hidden layer.',
  },
  point: {
    type: 'string',
    default: 'preactivation',
    enum: ['preactivation', 'output'],
    enumDescriptions: [
      "Before a fused activation (the paper's choice; avoids the ties of ReLU zeros).",
      "The layer's raw output.",
    ],
    scope: 'resource',
    description: "Where a layer's activations are captured.",
  },
  bins: {
    type: 'integer',
    default: 100,
    minimum: 2,
    maximum: 10000,
    scope: 'resource',
    description: 'Equal-width bins for the entropy H.',
  },
  binning: {
    type: 'string',
    default: 'global',
    enum: ['global', 'layer', 'neuron'],
    enumDescriptions: [
      'One range over all measured neurons of the model (the paper).',
      'One range per layer.',
      'One range per neuron.',
    ],
    scope: 'resource',
    description:
      'Range the entropy bins span: all measured neurons of the model (the paper), each layer, or each neuron.',
  },
  k: {
    type: 'integer',
    default: 3,
    minimum: 1,
    scope: 'resource',
    description: 'Neighbours k of the KSG mutual-information estimator.',
  },
  estimator: {
    type: 'string',
    default: 'ksg',
    enum: ['ksg', 'mixed'],
    enumDescriptions: [
      "KSG-1, as the paper's authors (scikit-learn's estimator): ties at distance 0 counted exactly.",
      'Tie-aware KSG for discrete-continuous mixtures (Gao, Kannan, Oh & Viswanath 2017): for post-ReLU, quantised or discrete activations.',
    ],
    scope: 'resource',
    description:
      'Mutual-information estimator. ksg follows the paper; mixed handles tied values (post-ReLU zeros, discrete neurons), where KSG-1 gives strongly negative values.',
  },
  miNeurons: {
    type: ['integer', 'null'],
    default: null,
    minimum: 2,
    scope: 'resource',
    description:
      'Cap on neurons per layer entering the MI estimate (a seeded subset). Null: every neuron.',
  },
  miBudget: {
    type: 'number',
    default: 60,
    minimum: 0,
    scope: 'resource',
    description:
      'Seconds the MI estimate may take, estimated before it starts. Over it, MemLens measures a seeded subset of 64 or more neurons per layer, then sampled pairs, and says so in the report. 0: no limit, every pair. A neuron cap set above wins.',
  },
  memoryBudget: {
    type: 'number',
    default: 1024,
    minimum: 0,
    scope: 'resource',
    description:
      "MiB a model's captured activations or an activation dump may take in memory (16 bytes a value). Over it, a capture goes to a temporary file and the values are measured a band of neurons at a time, holding only the MI neurons: the same results, far less memory.",
  },
  threads: {
    type: 'integer',
    default: 0,
    minimum: 0,
    scope: 'resource',
    restricted: true,
    description: 'MI worker threads. 0: one per CPU core, minus one.',
  },
  backend: {
    type: 'string',
    default: 'auto',
    enum: ['auto', 'wasm', 'cpu'],
    enumDescriptions: [
      'The first TF.js backend that starts: wasm, else cpu (tfjs-node first, where it is installed).',
      "TF.js's WebAssembly backend.",
      "TF.js's plain JavaScript backend: slower, with every kernel.",
    ],
    scope: 'resource',
    restricted: true,
    description:
      'The TF.js backend that runs TF.js and Keras models. It does not apply to ONNX models, which always run on ONNX Runtime, nor to PyTorch models, which run in Python.',
  },
  pythonPath: {
    type: 'string',
    default: '',
    scope: 'resource',
    restricted: true,
    markdownDescription:
      'The Python interpreter that runs PyTorch models (`.pt`, `.pth`, `.ckpt`), with your torch and your model code. Empty: the interpreter the Python extension has selected, else `python3` on PATH.',
  },
  torchFactory: {
    type: 'string',
    default: '',
    scope: 'resource',
    restricted: true,
    markdownDescription:
      "For a PyTorch file holding a `state_dict` (or a checkpoint dict with one): the `module:callable` that builds the model it loads into, e.g. `nets:make_mlp` or `train:Net`. The model's folder and the workspace folder are on `sys.path`. When empty and a factory is needed, MemLens offers the `nn.Module` classes and factory functions of the workspace.",
  },
  modelInput: {
    type: 'string',
    default: '',
    scope: 'resource',
    markdownDescription:
      "For a model with several inputs (an ONNX or TF.js model taking `input_ids` and `attention_mask`, say): the name of the input the probe feeds. The others are filled: ones for an input named like a mask, 16000 for a sample rate (`sr`, `sample_rate`), 1 for a ratio or scale (`downsample_ratio`), zeros otherwise (see `memlens.inputValues`). Empty: the model's only input, else the only one with a batch dimension first that is not a mask.",
  },
  inputValues: {
    type: 'object',
    additionalProperties: { type: 'number' },
    default: {},
    scope: 'resource',
    markdownDescription:
      'ONNX and TF.js models with inputs the probe does not feed (a state, a sample rate): the number each one gets, broadcast to its shape for every batch, e.g. `{ "sr": 8000 }` for Silero VAD on 8 kHz audio. An input not named here gets zeros (ones when named like a mask or a ratio, 16000 when named like a sample rate).',
  },
  imageScale: {
    type: 'string',
    default: 'auto',
    enum: ['auto', '0-1', '0-255', 'neg1-1'],
    enumDescriptions: [
      'What the model expects where it says: 0-255 for an int32 or uint8 image input, else 0-1.',
      'Pixel values divided by 255.',
      'Pixel values as they are, 0 to 255.',
      'Pixel values scaled to -1 to 1 (MobileNet-style preprocessing).',
    ],
    scope: 'resource',
    description:
      'How the pixels of a probe folder of images are scaled before they are fed to the model. A float probe in [0, 1] fed to an integer image input is always scaled to 0-255, with a notice in the report.',
  },
  'thresholds.deltaEntropy': {
    type: 'number',
    default: 0.1,
    minimum: 0,
    scope: 'resource',
    description:
      'Nats by which median H must differ from the reference (with non-overlapping notches) to count as lower or higher.',
  },
  'thresholds.miRatio': {
    type: 'number',
    default: 1.5,
    minimum: 1,
    scope: 'resource',
    description:
      'Ratio of median I to the reference at or above which I counts as higher (at or below its inverse: lower), with a bootstrap interval excluding 1.',
  },
  'thresholds.scaleRatio': {
    type: 'number',
    default: 1.5,
    minimum: 1,
    scope: 'resource',
    description:
      "Under global binning, H partly measures the activation scale: when a model's value range and its reference's differ in width by this factor or more, median H is also compared under per-layer bins, and an H change counts only where both binnings agree.",
  },
  target: {
    type: 'string',
    default: 'none',
    enum: ['none', 'shortcut', 'label-noise'],
    enumDescriptions: [
      'No ranking: a comparison shows the models ordered by median H and by median I, with no single best.',
      'Rank for shortcut learning: higher median H and lower median I are better; a model showing example-level memorization against the reference is flagged and not ranked.',
      'Rank for label-noise memorization: lower median H and higher median I are better; a model showing heuristic memorization against the reference is flagged and not ranked.',
    ],
    scope: 'resource',
    markdownDescription:
      "The failure mode a comparison's ranking guards against. H moves in opposite directions for the two modes, so without a target there is no single best model.",
  },
  'slurm.shards': {
    type: 'integer',
    default: 4,
    minimum: 1,
    maximum: 100000,
    scope: 'resource',
    description:
      'MemLens: Analyze on Slurm: the array tasks the MI pairs are split into (memlens slurm --shards).',
  },
  'slurm.partition': {
    type: 'string',
    default: '',
    scope: 'resource',
    description: "The Slurm partition (sbatch --partition). Empty: the cluster's default.",
  },
  'slurm.time': {
    type: 'string',
    default: '',
    scope: 'resource',
    description:
      "The time limit of each shard (sbatch --time, e.g. 2:00:00). Empty: the partition's default.",
  },
  'slurm.cpus': {
    type: 'integer',
    default: 0,
    minimum: 0,
    maximum: 1024,
    scope: 'resource',
    description:
      "CPUs per shard (sbatch --cpus-per-task); the shard's MI threads follow them. 0: Slurm's default.",
  },
  'slurm.workDir': {
    type: 'string',
    default: '',
    scope: 'resource',
    restricted: true,
    markdownDescription:
      "The folder where a Slurm run's script, parts, logs and merged report go; the compute nodes must see it (a shared filesystem). Empty: the extension's workspace storage, under your home folder.",
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;

/** The keys in table order. */
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

type Spec<K extends SettingKey> = (typeof SETTINGS)[K];

/** The type of a setting's value once read: an enum's union, a string, a number, ... */
export type SettingValue<K extends SettingKey> =
  Spec<K> extends { enum: readonly (infer E)[] }
    ? E
    : Spec<K> extends { type: 'string' }
      ? string
      : Spec<K> extends { type: 'integer' | 'number' }
        ? number
        : Spec<K> extends { type: readonly ['integer', 'null'] }
          ? number | null
          : Spec<K> extends { type: 'object' }
            ? Record<string, number>
            : string[];

/** A setting's row of the table, as the general spec type. */
export function settingSpec(key: SettingKey): SettingSpec {
  return SETTINGS[key];
}
