/**
 * The IPC protocol between the extension host and the analysis child process
 * (dist/analysisHost.js). The extension forks one child per job, sends one `job/*` request,
 * receives `job/progress` messages and exactly one `job/result` or `job/error`, and kills the
 * child to cancel. Model files are parsed only in the child, so a native reader that crashes
 * (onnxruntime-node, tfjs-node) takes down the child, not the extension host.
 */
import type { Progress } from '../../core/progress';
import type {
  AnalysisReport,
  CompareReport,
  RankingTarget,
  Signature,
} from '../../core/report/schema';
import type { LayerInfo } from '../../core/capture/format';
import type { ModelDetails } from '../../core/capture/describeModel';
import type { ArraysDescription } from '../../core/dumps/describeArrays';
import type { ProbeCheck } from '../../core/probe/probeCheck';
import type { SettingValue } from '../logic/settingsSchema';
import { isValidSetting } from '../logic/settingValues';

/** The analysis settings a job carries (plain JSON: the child maps them onto core options). */
export interface JobParams {
  probe: string | null;
  samples: number;
  seed: number;
  layers: string[];
  point: 'preactivation' | 'output';
  bins: number;
  binning: 'global' | 'layer' | 'neuron';
  k: number;
  /** The MI estimator: `ksg` (KSG-1, the default) or the tie-aware `mixed`. */
  estimator: 'ksg' | 'mixed';
  miNeurons: number | null;
  /** Seconds the MI estimate may take (`memlens.miBudget`); 0: no limit. */
  miBudget: number;
  /** MiB the S x N matrix may take in memory (`memlens.memoryBudget`). */
  memoryBudget: number;
  threads: number;
  /** The TF.js backend (`memlens.backend`); ONNX models always run on ONNX Runtime. */
  backend: SettingValue<'backend'>;
  /** The model input the probe feeds (ONNX models with several inputs); null: the only one. */
  input: string | null;
  /** The numbers the other inputs get (`memlens.inputValues`); absent or {}: the defaults. */
  inputValues?: Record<string, number>;
  /** How an image-folder probe's pixels are scaled (`memlens.imageScale`); null: auto. */
  imageScale: Exclude<SettingValue<'imageScale'>, 'auto'> | null;
  /** PyTorch: the Python interpreter (setting, else the Python extension's); null: python3. */
  python: string | null;
  /** PyTorch state_dicts: `module:callable` building the model; null: none set. */
  torchFactory: string | null;
  /** The workspace folder, put on a PyTorch model's sys.path for the user's classes. */
  workspace: string | null;
  thresholds: { deltaEntropy: number; miRatio: number; scaleRatio: number };
  /** The failure mode a comparison's ranking guards against (`memlens.target`); null: none. */
  target: RankingTarget | null;
}

/**
 * extension -> child: analyse one model or activation dump; with a baseline (another model of
 * the same architecture) the result also carries the model's signature against it.
 */
export interface AnalyzeJob {
  type: 'job/analyze';
  source: string;
  baseline: string | null;
  /**
   * The measurement cache folder (the core's diskMeasurementCache), shared by every job of
   * the workspace: a model measured once is read back by analyses, baselines and compares.
   * Null: measure everything.
   */
  measurements: string | null;
  params: JobParams;
}

/** How many models a job measured, and how many it read back from the measurement cache. */
export interface MeasuredJob {
  measured: number;
  reused: number;
}

/** The result of an analyze job. */
export interface AnalyzeResult extends MeasuredJob {
  report: AnalysisReport;
  /** The signature against the baseline; null without a baseline. */
  signature: Signature | null;
  /** The baseline's own report (measured on the model's layers); null without a baseline. */
  baselineReport: AnalysisReport | null;
}

/** The result of a compare job. */
export interface CompareResult extends MeasuredJob {
  report: CompareReport;
}

/**
 * extension -> child: compare models. The reference is the baseline when one is among them;
 * else a trajectory's earliest checkpoint; else the cohort median (the core's `fallback`).
 */
export interface CompareJob {
  type: 'job/compare';
  paths: string[];
  baseline: string | null;
  /** The reference chosen for this compare (a model path, or `cohort`); null: the default. */
  reference: string | null;
  /** As for an analyze job. */
  measurements: string | null;
  params: JobParams;
}

/**
 * extension -> child: open a model and list its layers (for the model viewer); a PyTorch
 * model runs on the first examples of `params.probe` to find them.
 */
export interface InspectJob {
  type: 'job/inspect';
  source: string;
  params: JobParams;
}

/**
 * extension -> child: resolve models and hash their content and the probe's, for cache keys.
 * Model files (manifests, shards, external data) are read only in the child, never in the
 * extension host: a crafted model naming /dev/zero or a FIFO can then be cancelled.
 */
export interface IdentifyJob {
  type: 'job/identify';
  /** Models, activation dumps, model folders or folders of checkpoints. */
  sources: string[];
  probe: string | null;
}

/** One source of an identify job. */
export interface IdentifiedSource {
  /** The model file (a folder model's marker file, e.g. model.json) or the folder of checkpoints. */
  file: string;
  /** A folder of several models (its listing is hashed), not one model. */
  cohort: boolean;
  /** SHA-256 (hex) of the model's content files, or of a cohort folder's listing. */
  sha256: string;
}

/** The result of an identify job. */
export interface IdentifyResult {
  sources: IdentifiedSource[];
  probeSha256: string | null;
}

export type JobRequest = AnalyzeJob | CompareJob | InspectJob | IdentifyJob | ProbeFitJob;

/** What the model viewer shows of an opened model. */
export interface ModelFileOutline extends ModelDetails {
  kind: 'model';
  path: string;
  format: string;
  backend: string;
  inputShape: (number | null)[];
  layers: LayerInfo[];
  /** The probe the analysis would use, checked against the input; null: none selected. */
  probeFit: ProbeCheck | null;
}

/** What the model viewer shows of an .npy, .npz or .safetensors file (a dump, or not). */
export interface ArrayFileOutline extends ArraysDescription {
  kind: 'arrays';
  path: string;
  /** Whether this file is the probe the analysis would use. */
  isProbe: boolean;
}

/** The result of an inspect job: a model, or a file of arrays. */
export type ModelOutline = ModelFileOutline | ArrayFileOutline;

/** The result each request kind resolves to. */
export interface JobResults {
  'job/analyze': AnalyzeResult;
  'job/compare': CompareResult;
  'job/inspect': ModelOutline;
  'job/identify': IdentifyResult;
  'job/probeFit': ProbeFitResult;
}

/** child -> extension: progress of the running job. */
export interface JobProgressMessage {
  type: 'job/progress';
  progress: Progress;
}

/** child -> extension: the job's result (the last message). */
export interface JobResultMessage {
  type: 'job/result';
  result: unknown;
}

/**
 * child -> extension: the job failed (the last message). `user` is true for a UserError,
 * whose one-line message is shown as is; otherwise `message` is an internal error.
 */
export interface JobErrorMessage {
  type: 'job/error';
  message: string;
  user: boolean;
}

export type ChildMessage = JobProgressMessage | JobResultMessage | JobErrorMessage;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isProgress(value: unknown): value is Progress {
  return (
    isRecord(value) &&
    typeof value.stage === 'string' &&
    typeof value.done === 'number' &&
    typeof value.total === 'number' &&
    (value.detail === undefined || typeof value.detail === 'string')
  );
}

/** Runtime guard for what the extension receives from the child. */
export function isChildMessage(value: unknown): value is ChildMessage {
  if (!isRecord(value) || typeof value.type !== 'string') return false;
  const type = value.type as ChildMessage['type'];
  switch (type) {
    case 'job/progress':
      return isProgress(value.progress);
    case 'job/result':
      return 'result' in value;
    case 'job/error':
      return typeof value.message === 'string' && typeof value.user === 'boolean';
    default:
      return false;
  }
}

/** Each field that comes from a setting is checked against the settings table. */
function isParams(value: unknown): value is JobParams {
  return (
    isRecord(value) &&
    (value.probe === null || typeof value.probe === 'string') &&
    isValidSetting('samples', value.samples) &&
    isValidSetting('seed', value.seed) &&
    isValidSetting('layers', value.layers) &&
    isValidSetting('point', value.point) &&
    isValidSetting('bins', value.bins) &&
    isValidSetting('binning', value.binning) &&
    isValidSetting('k', value.k) &&
    isValidSetting('estimator', value.estimator) &&
    isValidSetting('miNeurons', value.miNeurons) &&
    isValidSetting('miBudget', value.miBudget) &&
    isValidSetting('memoryBudget', value.memoryBudget) &&
    // 0 (one per core) is resolved by the host: a job names its thread count.
    isValidSetting('threads', value.threads) &&
    value.threads !== 0 &&
    isValidSetting('backend', value.backend) &&
    (value.input === null || typeof value.input === 'string') &&
    (value.inputValues === undefined || isValidSetting('inputValues', value.inputValues)) &&
    // `auto` is sent as null.
    (value.imageScale === null ||
      (value.imageScale !== 'auto' && isValidSetting('imageScale', value.imageScale))) &&
    (value.python === null || typeof value.python === 'string') &&
    (value.torchFactory === null || typeof value.torchFactory === 'string') &&
    (value.workspace === null || typeof value.workspace === 'string') &&
    isRecord(value.thresholds) &&
    isValidSetting('thresholds.deltaEntropy', value.thresholds.deltaEntropy) &&
    isValidSetting('thresholds.miRatio', value.thresholds.miRatio) &&
    isValidSetting('thresholds.scaleRatio', value.thresholds.scaleRatio) &&
    // `none` is sent as null.
    (value.target === null || (value.target !== 'none' && isValidSetting('target', value.target)))
  );
}

/** Runtime guard for what the child receives from the extension. */
export function isJobRequest(value: unknown): value is JobRequest {
  if (!isRecord(value) || typeof value.type !== 'string') return false;
  const type = value.type as JobRequest['type'];
  switch (type) {
    case 'job/analyze':
      return (
        typeof value.source === 'string' &&
        (value.baseline === null || typeof value.baseline === 'string') &&
        (value.measurements === null || typeof value.measurements === 'string') &&
        isParams(value.params)
      );
    case 'job/compare':
      return (
        Array.isArray(value.paths) &&
        value.paths.length > 0 &&
        value.paths.every((p) => typeof p === 'string') &&
        (value.baseline === null || typeof value.baseline === 'string') &&
        (value.reference === null || typeof value.reference === 'string') &&
        (value.measurements === null || typeof value.measurements === 'string') &&
        isParams(value.params)
      );
    case 'job/identify':
      return (
        Array.isArray(value.sources) &&
        value.sources.every((s) => typeof s === 'string') &&
        (value.probe === null || typeof value.probe === 'string')
      );
    case 'job/inspect':
      return typeof value.source === 'string' && isParams(value.params);
    case 'job/probeFit':
      return (
        (value.model === null || typeof value.model === 'string') &&
        Array.isArray(value.candidates) &&
        value.candidates.length <= MAX_PROBE_CANDIDATES &&
        value.candidates.every((c) => typeof c === 'string') &&
        isParams(value.params)
      );
    default:
      return false;
  }
}

/** Most probe files one probeFit job previews. */
export const MAX_PROBE_CANDIDATES = 100;

/**
 * extension -> child: preview probe files for the picker: each one's shape and dtype (from
 * its header or first lines), whether it fits `model`'s input (null: no model), and a warning
 * about its values. Bounded: at most MAX_PROBE_CANDIDATES files and a few seconds in all.
 */
export interface ProbeFitJob {
  type: 'job/probeFit';
  model: string | null;
  candidates: string[];
  /** For opening the model (backend, input, the PyTorch interpreter). */
  params: JobParams;
}

/** One previewed probe file. */
export interface ProbeCandidate {
  path: string;
  /** Batch first; null for a folder of images, or when the file cannot be read. */
  shape: number[] | null;
  /** `float32`, `uint8`, ... or `text` (CSV); null as for shape. */
  dtype: string | null;
  /** Whether it fits the model's input; null when there is no model or its input is unknown. */
  fits: boolean | null;
  /** One line: the fit (`fits [784]`, `does not fit: ...`) or why the file cannot be used. */
  why: string;
  /** One line about its values (integers, constant), or null. */
  warning: string | null;
}

/** The result of a probeFit job. */
export interface ProbeFitResult {
  /** The model's input shape, batch first; null without a model or when it is found only by running it. */
  inputShape: (number | null)[] | null;
  /** Why the model's input is not known (it failed to open, or PyTorch), else null. */
  modelNote: string | null;
  candidates: ProbeCandidate[];
}
