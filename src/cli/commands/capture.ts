import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { ActivationMatrix } from '../../core/activations';
import { DEFAULT_MEMORY_BUDGET_MB, toRowMajorFloat32 } from '../../core/activations';
import { openWithProbe } from '../../core/capture/registry';
import { TORCH_FLAGS_HELP, torchFlagConfig, torchOpenOptions } from '../torchFlags';
import type { CapturePoint, SequenceReduction } from '../../core/capture/format';
import { sidecarPath } from '../../core/dumps/loadDump';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/io/atomicWrite';
import { BudgetSink } from '../../core/io/budgetSink';
import { encodeNpy } from '../../core/io/npy';
import { NpyRowWriter } from '../../core/io/npyStream';
import { loadProbe } from '../../core/probe/loadProbe';
import type { ImageScale } from '../../core/probe/types';
import type { Command } from '../command';
import { showShape } from '../../core/probe/fit';
import {
  checkOutputs,
  formatTable,
  intFlag,
  MODEL_FORMATS_HELP,
  numberFlag,
  oneOf,
} from '../flags';
import { parseBackend } from './layers';
import { inputValuesFlag } from './measureFlags';

const HELP = `Usage: memlens capture <model> --probe <inputs> --out acts.npy [options]

Runs the model on the probe inputs and writes the activations of the measured layers as an
S x N float32 .npy (S examples, N neurons; layers concatenated in the order given) plus a
sidecar acts.layers.json with each layer's name and column range, the backend, capture point
and probe subset. 'memlens analyze acts.npy' reads both.

${MODEL_FORMATS_HELP}

Options:
  --probe <inputs>       .npy or .npz (batch first), .csv (numeric rows, header optional),
                         .jsonl (an array or {"input": ...} per line) or a folder of PNG/JPEG
                         images (resized bilinearly to the model input)
  --out <file.npy>       the activation matrix (required); the sidecar goes beside it
  --layers a,b,...       layers to capture, in this column order (default: see memlens layers)
  --point <p>            preactivation (default: the value before a fused activation such as
                         Dense(relu); a layer without one gives its output) or output
  --samples <S>          use S probe examples, a subset drawn with --seed (default: all)
  --seed <N>             seed of the subset (default 0)
  --batch-size <N>       examples per forward pass (default 256, fewer when a layer's
                         output is large: at most 64 MiB per float32 batch tensor; ONNX:
                         sized from the first example's outputs, at most 256 MiB a batch;
                         --batch is the same)
  --memory-budget <MB>   MiB the S x N matrix may take in memory (16 bytes a value: float64,
                         then the float32 file; default 1024): a larger one is written to
                         --out batch by batch as it is captured, never held whole
  --backend <b>          tfjs-node, wasm or cpu (default: the first that starts, in that order)
  --sequence <r>         sequence outputs (batch x tokens x features): first (token, default)
                         or mean; conv feature maps are always global-average-pooled
  --image-scale <s>      image pixel scaling: 0-1, 0-255 or neg1-1 (default: 0-255 for a
                         model whose image input is int32/uint8, else 0-1)
  --on-bad-image <a>     an image that fails to decode: fail (default) or skip
  --probe-array <name>   the array of an .npz probe holding several
  --input <name>         the model input the probe feeds, for a model with several (ONNX, TF.js;
                         default: the only one with a batch dimension first, not a mask); the
                         others get zeros (ones for a mask or a *_ratio/*_scale, 16000 for
                         sr/sample_rate)
  --input-value <n=v>    the number another input gets instead, broadcast to its shape per
                         batch (repeatable: --input-value sr=8000 --input-value state=0)
  --quiet                no progress line
${TORCH_FLAGS_HELP}`;

/** Indented JSON with number arrays (shapes, sample indices) kept on one line. */
function sidecarJson(value: unknown): string {
  const compact = (_key: string, v: unknown): unknown =>
    Array.isArray(v) && v.every((x) => typeof x === 'number') ? `\u0000${JSON.stringify(v)}` : v;
  return JSON.stringify(value, compact, 1).replace(/"\\u0000(\[[^\]]*\])"/g, '$1') + '\n';
}

const options = {
  probe: { type: 'string' },
  out: { type: 'string' },
  layers: { type: 'string' },
  point: { type: 'string' },
  samples: { type: 'string' },
  seed: { type: 'string' },
  'batch-size': { type: 'string' },
  batch: { type: 'string' },
  'memory-budget': { type: 'string' },
  backend: { type: 'string' },
  sequence: { type: 'string' },
  'image-scale': { type: 'string' },
  'on-bad-image': { type: 'string' },
  'probe-array': { type: 'string' },
  input: { type: 'string' },
  'input-value': { type: 'string', multiple: true },
  ...torchFlagConfig,
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The `capture` verb; `write` receives its standard output. */
export async function runCapture(
  args: string[],
  signal: AbortSignal,
  write: (text: string) => void,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true });
  } catch (err) {
    throw new UserError(`capture: ${(err as Error).message}; see memlens capture --help`);
  }
  const { values: v, positionals } = parsed;
  if (v.help === true) {
    write(HELP + '\n');
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UserError(
      `capture: expected one model, found ${positionals.length === 0 ? 'none' : positionals.join(' ')}; see memlens capture --help`,
    );
  }
  if (v.probe === undefined)
    throw new UserError(
      'capture: expected --probe <inputs>, found none; see memlens capture --help',
    );
  if (v.out === undefined || !/\.npy$/i.test(v.out)) {
    throw new UserError(
      `capture: expected --out <file.npy>, found ${v.out === undefined ? 'none' : `'${v.out}'`}`,
    );
  }
  const out = v.out;
  const side = sidecarPath(out);
  const point =
    oneOf<CapturePoint>('point', v.point, ['preactivation', 'output']) ?? 'preactivation';
  const sequence = oneOf<SequenceReduction>('sequence', v.sequence, ['first', 'mean']) ?? 'first';
  const imageScale = oneOf<ImageScale>('image-scale', v['image-scale'], ['0-1', '0-255', 'neg1-1']);
  const onBadImage = oneOf('on-bad-image', v['on-bad-image'], ['skip', 'fail'] as const);
  const samples = intFlag('samples', v.samples, 1);
  const seed = intFlag('seed', v.seed, 0) ?? 0;
  // --batch-size as in analyze and compare; --batch, the older name, still works.
  const batchSize = intFlag('batch-size', v['batch-size'] ?? v.batch, 1);
  const budget =
    (numberFlag('memory-budget', v['memory-budget'], 0) ?? DEFAULT_MEMORY_BUDGET_MB) * 2 ** 20;
  const backend = parseBackend(v.backend);
  const layers = v.layers
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  await checkOutputs({
    outputs: [
      ['--out', out],
      ['the sidecar of --out', side],
    ],
    models: [positionals[0]],
    inputs: [
      ['probe', v.probe],
      ['Python interpreter', v.python],
    ],
  });

  const progress = v.quiet !== true && process.stderr.isTTY;
  const warn = (m: string): void => {
    process.stderr.write(`warning: ${m}\n`);
  };
  const probePath = v.probe;
  const { handle, probe } = await openWithProbe(
    positionals[0],
    {
      backend,
      input: v.input,
      inputValues: inputValuesFlag(v['input-value']),
      onWarning: warn,
      ...torchOpenOptions(v),
    },
    (inputShape, implied) =>
      loadProbe(probePath, {
        samples,
        seed,
        inputShape,
        imageScale: imageScale ?? implied,
        onBadImage,
        array: v['probe-array'],
        onWarning: warn,
      }),
  );
  // Within the budget the matrix is written at the end; over it, to `out` as it is captured.
  const sink = new BudgetSink(budget, (samples, neurons) =>
    NpyRowWriter.open(out, samples, neurons, { signal }),
  );
  try {
    const t0 = performance.now();
    const result = await handle
      .capture(probe, {
        layers,
        point,
        batchSize,
        sequence,
        signal,
        sink,
        onWarning: warn,
        onProgress: progress
          ? (p) => process.stderr.write(`\r\x1b[2Kcapture ${p.done}/${p.total} examples`)
          : undefined,
      })
      .catch(async (err: unknown) => {
        await sink.abort();
        throw err;
      });
    if (progress) process.stderr.write('\r\x1b[2K');
    const seconds = (performance.now() - t0) / 1000;
    const { acts } = result;
    const sidecar = {
      model: handle.path,
      format: handle.format,
      backend: result.backend,
      point,
      sequence,
      samples: acts.samples,
      neurons: acts.neurons,
      probe: { path: v.probe, shape: probe.shape, seed, sampleIndices: probe.sampleIndices },
      layers: result.layers,
    };
    const written = await finishCapture(sink, out, acts, signal);
    try {
      await writeFileAtomic(side, sidecarJson(sidecar), { signal });
    } catch (err) {
      // No matrix without its sidecar (through a symbolic link: the file it points to).
      await rm(written, { force: true });
      throw err;
    }
    const rows = result.layers.map((l) => [
      l.name,
      `${l.start}-${l.end - 1}`,
      String(l.end - l.start),
      l.point,
      l.reduction,
    ]);
    write(
      [
        `${handle.path} (${handle.format}, backend ${result.backend})`,
        `probe ${v.probe}: ${acts.samples} examples of shape ${showShape(probe.shape.slice(1))}${samples !== undefined ? ` (seed ${seed})` : ''}`,
        '',
        formatTable(['layer', 'columns', 'neurons', 'point', 'reduction'], rows),
        '',
        `captured ${acts.samples} x ${acts.neurons} in ${seconds.toFixed(2)} s`,
        `wrote ${out} (float32${sink.streamed ? ', streamed batch by batch' : ''}) and ${side}`,
      ].join('\n') + '\n',
    );
  } finally {
    handle.dispose();
  }
  return 0;
}

/**
 * Writes the capture `acts` to `out` from `sink`: the file it streamed, completed, or the
 * matrix it held, at once; returns the path.
 */
async function finishCapture(
  sink: BudgetSink,
  out: string,
  acts: ActivationMatrix,
  signal: AbortSignal,
): Promise<string> {
  const streamed = await sink.commit();
  if (streamed !== undefined) return streamed;
  const matrix = toRowMajorFloat32({ ...acts, data: sink.memory.data });
  return writeFileAtomic(out, encodeNpy(matrix, [acts.samples, acts.neurons]), { signal });
}

export const captureCommand: Command = {
  summary: 'capture layer activations on probe inputs into an S x N .npy',
  run: (args, signal) => runCapture(args, signal, (text) => process.stdout.write(text)),
};
