import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LayerSlice } from '../../activations';
import { MatrixBuilder } from '../../activations';
import { UserError, throwIfAborted } from '../../errors';
import type { ProbeSet } from '../../probe/types';
import { defaultBatchSize } from '../common/batchCapture';
import { selectLayers } from '../common/layerSelection';
import { fileStem, folderName } from '../common/modelFiles';
import { reductionFor } from '../common/reduction';
import type {
  CaptureOptions,
  CaptureResult,
  CapturedLayer,
  LayerInfo,
  ModelFileInfo,
  ModelFormat,
  ModelHandle,
  OpenModelOptions,
} from '../format';
import { onnxFormat } from '../onnx/onnxFormat';
import { allFinite, modelNonFinite } from '../tfjs/nonFiniteBlame';
import { sysPathFor } from './factoryCandidates';
import { PythonBridge } from './pythonBridge';

const EXTENSIONS = ['.pt', '.pth', '.ckpt'];
/** The file name transformers' save_pretrained gives PyTorch weights. */
const HF_WEIGHTS = 'pytorch_model.bin';
/** The file of a Hugging Face save_pretrained folder that MemLens opens it through. */
const HF_CONFIG = 'config.json';
/** The weight files of a save_pretrained folder (sharded ones included). */
const HF_WEIGHT_FILE = /\.(safetensors|bin)$/i;

/** A module of a PyTorch model as the capture script describes it. */
interface TorchLayer extends LayerInfo {
  /** The axis of the module's output that holds the batch (1 for sequence-first RNNs). */
  batchAxis: number;
  /** The activation module that follows this one in its Sequential (`--point output` reads it). */
  activationModule: string | null;
  convLike: boolean;
}

/** What a PyTorch handle needs of the caller: the probe (layers come from running the model). */
function probeOf(file: string, opts: OpenModelOptions): ProbeSet {
  if (opts.probe === undefined)
    throw new UserError(
      `${file}: a PyTorch model's layers are found by running it: expected probe data (--probe)`,
    );
  return opts.probe;
}

/** The first `n` examples of a probe set, as the script reads them. */
function firstExamples(probe: ProbeSet, n: number): { shape: number[]; data: Float32Array } {
  const per = probe.shape.slice(1).reduce((a, b) => a * b, 1);
  const count = Math.min(n, probe.shape[0]);
  return { shape: [count, ...probe.shape.slice(1)], data: probe.data.subarray(0, count * per) };
}

async function openTorch(file: string, opts: OpenModelOptions): Promise<ModelHandle> {
  const probe = probeOf(file, opts);
  const python = opts.python ?? 'python3';
  const folder = path.dirname(path.resolve(file));
  const paths = sysPathFor(folder, opts.searchPaths ?? [process.cwd()]);
  const base = path.basename(file);
  const target = base === HF_WEIGHTS || base === HF_CONFIG ? folder : file;
  const bridge = new PythonBridge(python, file, opts.searchPaths?.[0] ?? process.cwd());
  try {
    bridge.send({ cmd: 'open', model: target, factory: opts.torchFactory ?? null, paths });
    const opened = (await bridge.next()).header;
    const runtime = `torch ${String(opened.torch)}`;
    const parameters = typeof opened.parameters === 'number' ? opened.parameters : undefined;
    const handle =
      opened.kind === 'torchscript'
        ? await viaOnnx(file, bridge, probe, runtime, opts)
        : await describedHandle(file, bridge, probe, runtime);
    return parameters === undefined ? handle : { ...handle, parameters };
  } catch (err) {
    bridge.close();
    throw err;
  }
}

/**
 * One batch frame of the script (each layer's `count` x width float32 values in turn) as
 * `count` rows of every layer's columns, float64; refused in one line when a layer gives
 * another width than in the first batch (`widths`) or a value that is not finite.
 */
async function batchRows(
  file: string,
  probe: ProbeSet,
  chosen: readonly TorchLayer[],
  widths: readonly number[],
  given: readonly number[],
  done: number,
  count: number,
  payload: Buffer,
): Promise<Float64Array> {
  const neurons = widths.reduce((a, b) => a + b, 0);
  const values = new Float32Array(
    payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength),
  );
  const rows = new Float64Array(count * neurons);
  let at = 0;
  let col = 0;
  for (const [i, width] of widths.entries()) {
    const name = chosen[i].name;
    if (given[i] !== width)
      throw new UserError(
        `${probe.source}: layer '${name}' gave ${given[i]} values per example in a later batch: expected ${width} like the first`,
      );
    for (let r = 0; r < count; r++) {
      for (let j = 0; j < width; j++) {
        const v = values[at + r * width + j];
        if (!Number.isFinite(v)) {
          const example = probe.sampleIndices[done + r] ?? done + r;
          // From a finite probe, the model made it (corrupt weights, an overflow).
          if (allFinite(probe.data))
            throw await modelNonFinite(file, { layer: name, value: v, example, neuron: j }, null);
          throw new UserError(
            `${probe.source}: layer '${name}' produced ${String(v)} on probe example ${example} (neuron ${j}): expected finite activations`,
          );
        }
        rows[r * neurons + col + j] = v;
      }
    }
    at += count * width;
    col += width;
  }
  return rows;
}

/** The handle of a module with forward hooks: its layers from one pass on the first examples. */
async function describedHandle(
  file: string,
  bridge: PythonBridge,
  probe: ProbeSet,
  runtime: string,
): Promise<ModelHandle> {
  bridge.send({ cmd: 'describe' }, firstExamples(probe, 3));
  const layers = (await bridge.next()).header.layers as TorchLayer[];
  return handleOf(file, bridge, layers, probe, runtime);
}

function handleOf(
  file: string,
  bridge: PythonBridge,
  layers: TorchLayer[],
  opened: ProbeSet,
  runtime: string,
): ModelHandle {
  const listed: LayerInfo[] = layers.map((l) => ({
    name: l.name,
    type: l.type,
    outputShape: l.outputShape,
    activation: l.activation,
    measuredByDefault: l.measuredByDefault,
  }));
  const capture = async (probe: ProbeSet, copts: CaptureOptions = {}): Promise<CaptureResult> => {
    throwIfAborted(copts.signal);
    if (probe.shape.slice(1).join() !== opened.shape.slice(1).join())
      throw new UserError(
        `${probe.source}: probe does not fit the model: expected examples of shape [${opened.shape.slice(1).join(', ')}] as when it was opened, found [${probe.shape.slice(1).join(', ')}]`,
      );
    const chosen = selectLayers(file, layers, copts.layers);
    const point = copts.point ?? 'preactivation';
    const specs = chosen.map((l) => ({
      name: l.name,
      module: point === 'output' && l.activationModule !== null ? l.activationModule : l.name,
      reduction: reductionFor(l.outputShape.length, l.convLike, copts.sequence ?? 'first'),
      batchAxis: l.batchAxis,
    }));
    const samples = probe.shape[0];
    const batch =
      copts.batchSize ?? defaultBatchSize([probe.shape, ...chosen.map((l) => l.outputShape)]);
    bridge.send({ cmd: 'capture', layers: specs, batch }, probe);
    // Each batch's rows go to the caller's sink (then no S x N matrix is held here), else to
    // the matrix the capture returns: row by row, as captureBatches feeds them.
    const builder = new MatrixBuilder();
    const sink = copts.sink ?? builder;
    let widths: number[] | null = null;
    try {
      for (let done = 0; ;) {
        const { header, payload } = await bridge.next(copts.signal);
        if (header.type === 'done') break;
        const count = header.rows as number;
        const given = header.widths as number[];
        if (widths === null) {
          widths = given;
          await sink.begin(
            samples,
            widths.reduce((a, b) => a + b, 0),
          );
        }
        const rows = await batchRows(file, probe, chosen, widths, given, done, count, payload);
        await sink.rows(done, count, rows);
        done += count;
        copts.onProgress?.({ stage: 'capture', done, total: samples, detail: file });
      }
    } catch (err) {
      // The script is still sending this capture's batches: a later capture must not read them.
      bridge.close();
      throw err;
    }
    const slices: LayerSlice[] = [];
    const captured: CapturedLayer[] = [];
    let start = 0;
    chosen.forEach((l, i) => {
      const end = start + (widths as number[])[i];
      slices.push({ name: l.name, start, end });
      captured.push({
        name: l.name,
        start,
        end,
        point: specs[i].module === l.name ? 'preactivation' : 'output',
        reduction: specs[i].reduction,
      });
      start = end;
    });
    return {
      acts: { samples, neurons: start, data: builder.data, layers: slices },
      layers: captured,
      backend: runtime,
    };
  };
  return {
    path: file,
    format: 'torch',
    backend: runtime,
    inputShape: [null, ...opened.shape.slice(1)],
    layers: listed,
    capture,
    dispose: () => bridge.close(),
  };
}

/**
 * TorchScript modules allow no forward hooks: the script exports the module to ONNX in a
 * temporary folder, MemLens captures that through its ONNX reader, and ONNX node names
 * (`/features/features.0/Conv`) map back to module names (`features.0`). Nodes outside any
 * module (functional calls) are not listed; a module's last node stands for its output.
 */
async function viaOnnx(
  file: string,
  bridge: PythonBridge,
  probe: ProbeSet,
  runtime: string,
  opts: OpenModelOptions,
): Promise<ModelHandle> {
  const dir = mkdtempSync(path.join(tmpdir(), 'memlens-torchscript-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const onnxFile = path.join(dir, 'model.onnx');
    bridge.send({ cmd: 'export', out: onnxFile }, firstExamples(probe, 2));
    const modules = (await bridge.next()).header.modules as Record<string, string>;
    bridge.close();
    const inner = await onnxFormat.open(onnxFile, { ...opts, probe: undefined });
    const toModule = new Map<string, string>();
    for (const l of inner.layers) {
      const scopes = l.name.split('/').filter(Boolean);
      const module = scopes.length >= 2 ? scopes[scopes.length - 2] : undefined;
      if (module !== undefined && module in modules) toModule.set(module, l.name);
    }
    const byOnnx = new Map([...toModule].map(([m, o]) => [o, m]));
    const layers = inner.layers
      .filter((l) => byOnnx.has(l.name))
      .map((l) => {
        const name = byOnnx.get(l.name) as string;
        return { ...l, name, type: modules[name] };
      });
    return {
      ...inner,
      path: file,
      format: 'torch',
      backend: `${runtime} (TorchScript, run through ONNX Runtime)`,
      layers,
      capture: async (p, copts = {}) => {
        const names = selectLayers(file, layers, copts.layers).map(
          (l) => toModule.get(l.name) as string,
        );
        const result = await inner.capture(p, { ...copts, layers: names });
        const rename = (n: string): string => byOnnx.get(n) ?? n;
        return {
          ...result,
          acts: {
            ...result.acts,
            layers: result.acts.layers.map((s) => ({ ...s, name: rename(s.name) })),
          },
          layers: result.layers.map((c) => ({ ...c, name: rename(c.name) })),
          backend: `${runtime} (TorchScript, run through ONNX Runtime)`,
        };
      },
      dispose: () => {
        inner.dispose();
        cleanup();
      },
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}

/** The zip entries or pickle start of a PyTorch file (`torch.save` writes a zip since 1.6). */
const ZIP = [0x50, 0x4b, 0x03, 0x04];
/** Legacy `torch.save` (before 1.6, or `_use_new_zipfile_serialization=False`): a pickle. */
const PICKLE = 0x80;

/**
 * PyTorch models, run in the user's own Python with their torch (--python, memlens.pythonPath):
 * `.pt`/`.pth`/`.ckpt` files (TorchScript, a pickled module, a state_dict or a checkpoint
 * dict, which need a factory) and `pytorch_model.bin`; a Hugging Face save_pretrained folder
 * (config.json with its weights) through transformers, measured at each layer's hidden state
 * (first token). The layers are module names.
 */
export const torchFormat: ModelFormat = {
  id: 'torch',
  description: 'PyTorch .pt/.pth/.ckpt',
  extensions: EXTENSIONS,
  probeAtOpen: true,
  folderMarker: HF_CONFIG,
  folderMarkerIsGeneric: true,
  match: (file: ModelFileInfo) =>
    path.basename(file.path) === HF_CONFIG ||
    ((EXTENSIONS.includes(file.ext) || path.basename(file.path) === HF_WEIGHTS) &&
      (file.head.length === 0 ||
        ZIP.every((b, i) => file.head[i] === b) ||
        file.head[0] === PICKLE)),
  open: openTorch,
  contentFiles: async (file) => {
    if (path.basename(file) !== HF_CONFIG) return [file];
    const dir = path.dirname(file);
    const weights = (await fs.readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && HF_WEIGHT_FILE.test(e.name))
      .map((e) => path.join(dir, e.name))
      .sort();
    return [file, ...weights];
  },
  modelName: (file) =>
    [HF_WEIGHTS, HF_CONFIG].includes(path.basename(file)) ? folderName(file) : fileStem(file),
};
