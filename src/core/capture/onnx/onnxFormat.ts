import { MatrixBuilder } from '../../activations';
import { UserError, throwIfAborted, withSuffix } from '../../errors';
import { fitProbe, showShape } from '../../probe/fit';
import { checkFeedSize } from '../common/batchCapture';
import { impliedImageScale, scaleForIntegerImage } from '../../probe/imageScale';
import type { ImageScale } from '../../probe/types';
import type { ProbeSet } from '../../probe/types';
import type { OnnxLayer } from './onnxGraph';
import { onnxLayers } from './onnxGraph';
import { selectLayers } from '../common/layerSelection';
import type { FetchSpec, ReducedTensor } from './onnxProtocol';
import type { OnnxModelProto, OnnxTensorProto, OnnxValueInfo } from './onnxProto';
import {
  decodeOnnxModel,
  dimSize,
  encodeOnnxModel,
  externalDataLocations,
  graphNodes,
  graphTensors,
  int64,
} from './onnxProto';
import {
  checkInputValues,
  filledInputsHint,
  otherInputsNotice,
  pickInput,
} from '../common/modelInputs';
import { OnnxOutOfMemory, OnnxSession } from './onnxSession';
import type { ExposedTensor, ScopedTensor } from './onnxExpose';
import { exposeTensors, scopedKey } from './onnxExpose';
import { feedsFor, fedTypeOf } from './onnxFeeds';
import { batchSizeFor, outOfMemory } from './onnxBatch';
import { containedFile, fileStem } from '../common/modelFiles';
import { readInput } from '../../io/readInput';
import { allFinite, modelNonFinite } from '../tfjs/nonFiniteBlame';
import type {
  CapturedLayer,
  CaptureOptions,
  CapturePoint,
  CaptureResult,
  ModelFileInfo,
  ModelFormat,
  ModelHandle,
  OpenModelOptions,
} from '../format';

const MAGIC_NAMES: [number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive (a .keras file?)'],
  [[0x89, 0x48, 0x44, 0x46], 'an HDF5 file (a Keras .h5?)'],
  [[0x7b], 'JSON text (a TF.js model.json?)'],
];

function looksLike(head: Uint8Array): string | undefined {
  return MAGIC_NAMES.find(([magic]) => magic.every((b, i) => head[i] === b))?.[1];
}

/**
 * Inlines external-data tensors (weights kept in side files next to the model) so the edited
 * model can be handed to the runtime as bytes.
 */
async function inlineExternalData(file: string, tensors: OnnxTensorProto[]): Promise<void> {
  const cache = new Map<string, Buffer>();
  for (const t of tensors) {
    if (t.dataLocation !== 1) continue;
    const entry = (key: string): string | undefined =>
      t.externalData.find((e) => e.key === key)?.value;
    const location = entry('location');
    if (location === undefined)
      throw new UserError(
        `${file}: tensor '${t.name ?? ''}' keeps its data externally but names no location`,
      );
    const offset = Number(entry('offset') ?? 0);
    const declared = entry('length') === undefined ? undefined : Number(entry('length'));
    if (
      !Number.isSafeInteger(offset) ||
      offset < 0 ||
      (declared !== undefined && (!Number.isSafeInteger(declared) || declared < 0))
    )
      throw new UserError(
        `${file}: tensor '${t.name ?? ''}' names an external-data offset or length that is not a non-negative integer`,
      );
    const side = await containedFile(file, location, 'external data file', {
      context: `tensor '${t.name ?? ''}'`,
    });
    let bytes = cache.get(side);
    if (bytes === undefined) {
      bytes = await readInput(side, 'the external data file');
      cache.set(side, bytes);
    }
    const length = declared ?? bytes.length - offset;
    if (offset + length > bytes.length) {
      throw new UserError(
        `${file}: external data file '${location}' holds ${bytes.length} bytes: expected at least ${offset + length} for tensor '${t.name ?? ''}' (truncated?)`,
      );
    }
    t.rawData = bytes.subarray(offset, offset + length);
    t.externalData = [];
    t.dataLocation = 0;
  }
}

function inputShape(v: OnnxValueInfo): (number | null)[] {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d, i) => (i === 0 ? null : dimSize(d)));
}

/** The batch size a model was exported with, or undefined when its batch dimension is dynamic. */
function fixedBatchOf(fed: OnnxValueInfo): number | undefined {
  return dimSize(fed.type?.tensorType?.shape?.dim[0]) || undefined;
}

/** Opens an ONNX model: parses and edits the graph here, runs it in a child process. */
async function openOnnx(file: string, opts: OpenModelOptions): Promise<ModelHandle> {
  const bytes = await readInput(file, 'the ONNX model');
  const other = looksLike(bytes.subarray(0, 8));
  if (other !== undefined)
    throw new UserError(`${file}: expected an ONNX model (protobuf), found ${other}`);
  const model: OnnxModelProto = decodeOnnxModel(bytes, file);
  const graph = model.graph!;
  await inlineExternalData(file, graphTensors(graph));
  // The model as read, external data inlined: each session edits a fresh copy of it.
  const base = encodeOnnxModel(model);
  const layers = onnxLayers(graph);
  const weightNames = new Set(graph.initializer.map((t) => t.name ?? ''));
  const inputs = graph.input.filter((v) => !weightNames.has(v.name ?? ''));
  const choice = pickInput(
    file,
    inputs.map((v) => ({
      name: v.name ?? '',
      dims: (v.type?.tensorType?.shape?.dim ?? []).map(dimSize),
    })),
    opts.input,
  );
  const fed: OnnxValueInfo = inputs[choice.index];
  const others = inputs.filter((v) => v !== fed);
  const otherNames = others.map((v) => v.name ?? '');
  const openValues = opts.inputValues ?? {};
  checkInputValues(file, fed.name ?? '', otherNames, openValues);
  const batchDependent = graphNodes(graph).some((n) => n.opType === 'DynamicQuantizeLinear');
  const opset = int64(model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version);

  let session: OnnxSession | undefined;
  let sessionKey = '';
  let exposed = new Map<string, ExposedTensor>();
  /**
   * A session whose graph outputs are exactly `tensors` (or their shapes) and the model's
   * own: the runtime keeps every graph output whole until a run ends, so a capture reopens
   * the model with only what it reads.
   */
  async function sessionFor(
    tensors: ScopedTensor[],
    read: 'values' | 'shapes' = 'values',
  ): Promise<OnnxSession> {
    const key = [read, ...new Set(tensors.map(scopedKey))].sort().join('\n');
    if (session !== undefined && !session.stopped && key === sessionKey) return session;
    session?.close();
    session = undefined;
    const copy = decodeOnnxModel(base, file);
    exposed = exposeTensors(copy, tensors, file, read);
    try {
      session = await OnnxSession.open(file, encodeOnnxModel(copy));
    } catch (err) {
      // onnxruntime implements the default domain from opset 7 on; say so next to its message.
      if (err instanceof UserError && opset > 0 && opset < 7)
        throw new UserError(
          `${err.message} (the model uses opset ${opset} of ai.onnx: expected 7 or later; re-export it with a newer opset)`,
        );
      throw err;
    }
    sessionKey = key;
    return session;
  }
  const tensorOf = (l: OnnxLayer, point: CapturePoint): ScopedTensor => ({
    tensor: point === 'preactivation' && l.activation !== null ? l.preTensor : l.outTensor,
    scope: l.scope,
    ...(l.dequantize === undefined ? {} : { dequantize: l.dequantize }),
  });

  const shape = inputShape(fed);
  checkFeedSize(file, fed.name ?? '', fixedBatchOf(fed) ?? 1, shape.slice(1));
  // Output shapes the graph does not declare come from one pass on a zero example. The pass
  // fetches the Shape of each such tensor only: the tensors themselves are freed as the run
  // goes, as in a plain inference.
  const example = shape.slice(1);
  const unknown = layers.filter((l) => l.outputShape.length === 0);
  if (example.every((d) => d !== null) && unknown.length > 0) {
    const run = fixedBatchOf(fed) ?? 1;
    const size = (example as number[]).reduce((a, b) => a * b, 1);
    const shapeTensors = unknown.map((l): ScopedTensor => ({
      tensor: l.shapeTensor,
      scope: l.scope,
    }));
    const s = await sessionFor(shapeTensors, 'shapes');
    try {
      const specs = shapeTensors.map((t): FetchSpec => ({
        name: exposed.get(scopedKey(t))!.output,
        mode: 'shape',
        convLike: false,
        sequence: 'first',
        stacked: 0,
      }));
      const feeds = feedsFor(
        file,
        fed,
        others,
        run,
        example as number[],
        new Float32Array(run * size),
        openValues,
      );
      const out = await s.run(feeds, uniqueSpecs(specs));
      unknown.forEach((l, i) => {
        const dims = out[specs[i].name]?.dims;
        if (dims !== undefined && dims[0] === run) l.outputShape = [null, ...dims.slice(1)];
      });
    } catch (err) {
      if (s.stopped) throw err;
      opts.onWarning?.(
        `${file}: layer output shapes unknown (a pass on a zero example failed: ${(err as Error).message})`,
      );
    }
  } else {
    // Loading the model now reports a model the runtime refuses at open, not at capture.
    await sessionFor(
      layers.filter((l) => l.measuredByDefault).map((l) => tensorOf(l, 'preactivation')),
    );
  }

  async function capture(probe: ProbeSet, copts: CaptureOptions = {}): Promise<CaptureResult> {
    const elementType = fedTypeOf(file, fed);
    const values = copts.inputValues ?? openValues;
    checkInputValues(file, fed.name ?? '', otherNames, values);
    // An integer image input takes pixels as 0-255, as the TF.js reader does (imageScale.ts).
    const scaled = scaleForIntegerImage(file, fitProbe(probe, shape), elementType, shape);
    if (scaled.notice !== undefined) copts.onWarning?.(scaled.notice);
    const fitted = scaled.probe;
    const chosen = selectLayers(file, layers, copts.layers, (l) => l.aliases);
    const point = copts.point ?? 'preactivation';
    const sequence = copts.sequence ?? 'first';
    const tensors = chosen.map((l) => tensorOf(l, point));
    const s = await sessionFor(tensors);
    const specs = chosen.map((l, i): FetchSpec => {
      const e = exposed.get(scopedKey(tensors[i]))!;
      return { name: e.output, mode: 'reduce', convLike: l.convLike, sequence, stacked: e.stacked };
    });
    const samples = fitted.shape[0];
    if (!(samples > 0))
      throw new UserError(
        `${probe.source}: expected at least one probe example, found an empty probe set`,
      );
    // A model exported with a fixed batch size runs in batches of exactly that size (the last
    // one padded with zeros, its extra rows dropped). Otherwise the first batch is one
    // example, and its real output sizes set the batch under a memory budget.
    const fixedBatch = fixedBatchOf(fed);
    let batchSize = fixedBatch ?? copts.batchSize ?? 1;
    let sized = fixedBatch !== undefined || copts.batchSize !== undefined;
    // DynamicQuantizeLinear scales each run by that run's range: in a batch, an example's
    // values would move with its batch-mates'. One example a run, unless told otherwise.
    if (batchDependent && fixedBatch === undefined) {
      if (copts.batchSize === undefined) sized = true;
      copts.onWarning?.(
        copts.batchSize === undefined || copts.batchSize === 1
          ? `${file}: the model quantizes its activations per run (DynamicQuantizeLinear): one example a run, so that no example's values depend on the others in its batch`
          : `${file}: the model quantizes its activations per run (DynamicQuantizeLinear): with --batch-size ${copts.batchSize}, an example's values move with the others in its batch (by up to one quantization step); --batch-size 1 avoids it`,
      );
    }
    const exampleShape = fitted.shape.slice(1);
    const exampleSize = exampleShape.reduce((a, b) => a * b, 1);
    if (others.length > 0) {
      copts.onWarning?.(otherInputsNotice(file, fed.name ?? '', otherNames, choice.reason, values));
    }
    /** Per chosen layer: its columns, or null when it gave no values (a branch not taken). */
    let columns: ({
      start: number;
      width: number;
      reduction: CapturedLayer['reduction'];
    } | null)[] = [];
    // Each batch's rows go to the caller's sink (then no S x N matrix is held here), else to
    // the matrix the capture returns: row by row, as captureBatches feeds them.
    const builder = new MatrixBuilder();
    const sink = copts.sink ?? builder;
    let neurons = 0;
    for (let start = 0; start < samples;) {
      throwIfAborted(copts.signal);
      const count = Math.min(batchSize, samples - start);
      const run = fixedBatch ?? count;
      const batch = new Float32Array(run * exampleSize);
      batch.set(fitted.data.subarray(start * exampleSize, (start + count) * exampleSize));
      const feeds = feedsFor(file, fed, others, run, exampleShape, batch, values);
      let out: Record<string, ReducedTensor>;
      try {
        out = await s.run(feeds, uniqueSpecs(specs), copts.signal);
      } catch (err) {
        if (err instanceof OnnxOutOfMemory) throw outOfMemory(file, run, err);
        const hint = filledInputsHint(otherNames, values);
        if (err instanceof UserError && hint !== '')
          throw new UserError(withSuffix(err.message, hint));
        throw err;
      }
      if (!sized) {
        batchSize = batchSizeFor(
          specs.map((sp) => out[sp.name]),
          run,
          exampleSize * 4,
        );
        sized = true;
      }
      const results = chosen.map((l, i) => {
        const r = out[specs[i].name];
        if (r.reduction === null) return null;
        if (r.dims[specs[i].stacked] !== run)
          throw new UserError(
            `${file}: layer '${l.name}' gave an output of shape ${showShape(r.dims)}: expected the batch (${run}) first`,
          );
        return r;
      });
      if (start === 0) {
        let col = 0;
        columns = results.map((r, i) => {
          if (r === null) {
            copts.onWarning?.(
              `${file}: layer '${chosen[i].name}' has no activations on this probe (its If branch was not taken, or its Loop ran no iterations)`,
            );
            return null;
          }
          const c = { start: col, width: r.width, reduction: r.reduction! };
          col += r.width;
          return c;
        });
        neurons = col;
        if (neurons === 0)
          throw new UserError(
            `${file}: the chosen layers have no activations on this probe (If branches not taken): expected at least one layer that runs; pick others (CLI --layers) or give the inputs that select the branch (CLI --input-value)`,
          );
        await sink.begin(samples, neurons);
      }
      const rows = new Float64Array(count * neurons);
      for (let i = 0; i < chosen.length; i++) {
        const c = columns[i];
        const r = results[i];
        const name = chosen[i].name;
        if ((c === null) !== (r === null))
          throw new UserError(
            `${probe.source}: layer '${name}' ran on some batches only (an If branch the batch decides): expected the same branch for every batch`,
          );
        if (c === null || r === null) continue;
        if (r.width !== c.width)
          throw new UserError(
            `${probe.source}: layer '${name}' gave ${r.width} values per example in a later batch: expected ${c.width} like the first`,
          );
        for (let e = 0; e < count; e++) {
          for (let j = 0; j < c.width; j++) {
            const v = r.data[e * c.width + j];
            if (!Number.isFinite(v)) {
              const example = probe.sampleIndices[start + e] ?? start + e;
              // From a finite probe, the model made it (corrupt weights, an overflow).
              if (allFinite(fitted.data))
                throw await modelNonFinite(
                  file,
                  { layer: name, value: v, example, neuron: j },
                  null,
                );
              throw new UserError(
                `${probe.source}: layer '${name}' produced ${String(v)} on probe example ${example} (neuron ${j}): expected finite activations`,
              );
            }
            rows[e * neurons + c.start + j] = v;
          }
        }
      }
      await sink.rows(start, count, rows);
      start += count;
      copts.onProgress?.({ stage: 'capture', done: start, total: samples });
    }
    const captured: CapturedLayer[] = [];
    chosen.forEach((l, i) => {
      const c = columns[i];
      if (c === null) return;
      captured.push({
        name: l.name,
        start: c.start,
        end: c.start + c.width,
        point: point === 'preactivation' && l.activation !== null ? 'preactivation' : 'output',
        reduction: c.reduction,
      });
    });
    return {
      acts: {
        samples,
        neurons,
        data: builder.data,
        layers: captured.map(({ name, start, end }) => ({ name, start, end })),
      },
      layers: captured,
      backend: 'cpu',
    };
  }

  const imageScale = impliedImageScaleOf(file, fed, shape);
  return {
    path: file,
    format: 'onnx',
    backend: 'cpu',
    inputShape: shape,
    ...(imageScale === undefined ? {} : { imageScale }),
    layers: layers.map(({ name, type, outputShape, activation, measuredByDefault }) => ({
      name,
      type,
      outputShape,
      activation,
      measuredByDefault,
    })),
    capture,
    dispose: () => session?.close(),
  };
}

/** Each output once (two layers may read the same tensor). */
function uniqueSpecs(specs: FetchSpec[]): FetchSpec[] {
  return [...new Map(specs.map((s) => [s.name, s])).values()];
}

/**
 * ONNX models (.onnx), run with onnxruntime-node in a child process. Matches the `.onnx`
 * extension; `open` checks the bytes (a zip, HDF5 or JSON file under that name gets an error
 * saying what it is; anything else must parse as a ModelProto).
 */
export const onnxFormat: ModelFormat = {
  id: 'onnx',
  description: 'ONNX .onnx',
  extensions: ['.onnx'],
  match: (file: ModelFileInfo) => file.ext === '.onnx',
  open: openOnnx,
  contentFiles: async (file) => {
    let locations: string[];
    try {
      locations = externalDataLocations(
        decodeOnnxModel(await readInput(file, 'the ONNX model'), file),
      );
    } catch {
      return [file]; // not parseable: opening it reports why
    }
    const sides: string[] = [];
    for (const l of locations) sides.push(await containedFile(file, l, 'external data file'));
    return [file, ...sides];
  },
  modelName: fileStem,
};

/** The pixel scale the fed input implies (0-255 for an integer image); none for a type capture refuses. */
function impliedImageScaleOf(
  file: string,
  fed: Parameters<typeof fedTypeOf>[1],
  shape: (number | null)[],
): ImageScale | undefined {
  try {
    return impliedImageScale(fedTypeOf(file, fed), shape);
  } catch {
    // An element type capture refuses (float16, bool) is said, in one line, at capture.
    return undefined;
  }
}
