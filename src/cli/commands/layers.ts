import { parseArgs } from 'node:util';
import { openModel, openWithProbe } from '../../core/capture/registry';
import { IMAGE_SCALES } from '../../core/probe/imageScale';
import { loadProbe } from '../../core/probe/loadProbe';
import { TORCH_FLAGS_HELP, torchFlagConfig, torchOpenOptions } from '../torchFlags';
import { backendNames } from '../../core/capture/tfjs/tfjsRuntime';
import type { BackendName, ModelHandle } from '../../core/capture/format';
import { UserError } from '../../core/errors';
import { showShape } from '../../core/probe/fit';
import { inputValuesFlag } from './measureFlags';
import type { Command } from '../command';
import { formatTable, MODEL_FORMATS_HELP, oneOf } from '../flags';

const HELP = `Usage: memlens layers <model> [--backend tfjs-node|wasm|cpu] [--json]

Lists the layers of a model: name, type, output shape (? = any, the batch first), fused
activation, and whether 'memlens capture' measures it when no --layers are given.

${MODEL_FORMATS_HELP}

Measured by default, in a layers-model (TF.js, Keras): every hidden layer with parameters
(Dense, Conv, ...; not normalisation or embedding layers), excluding the input and the head:
the output layers and the last layer with weights before them (the logits, even when Dropout
or Activation('softmax') follow it). In a TF.js graph-model: every activation node (Relu,
Tanh, ...; or a fused MatMul/Conv with an activation) outside the head (the outputs back to
the nearest node with weights, e.g. Identity <- Sigmoid <- BiasAdd). In ONNX: every Gemm,
MatMul, Conv or ConvTranspose with weights outside the head, and their quantized forms
(ConvInteger, MatMulInteger: the float value after their Cast and scale Mul; QLinearConv,
QLinearMatMul: dequantized), named after the float node. In PyTorch: every nn.Linear and
nn.Conv1d/2d/3d but the last.

Options:
  --backend <b>   tfjs-node, wasm or cpu (default: the first that starts, in that order)
  --input <name>  the input the probe will feed, for a model with several (ONNX, TF.js)
  --input-value <n=v>  the number another input gets in the shape pass (repeatable,
                  e.g. --input-value sr=8000: the If branches it selects get their shapes)
  --probe <file>  probe inputs: a PyTorch model's layers and shapes come from running it
                  on the first examples (required for .pt/.pth/.ckpt)
  --image-scale <s>  an image probe's pixels as 0-1, 0-255 or neg1-1 (default: 0-255 for
                  an int32/uint8 image input, else 0-1)
  --json          print the listing as JSON

${TORCH_FLAGS_HELP}`;

export function parseBackend(value: string | undefined): BackendName | undefined {
  if (value === undefined) return undefined;
  if (!(backendNames as readonly string[]).includes(value)) {
    throw new UserError(`--backend: expected one of ${backendNames.join(', ')}, found '${value}'`);
  }
  return value as BackendName;
}

/** The readable listing of a model's layers. */
export function layersTable(handle: ModelHandle): string {
  const rows = handle.layers.map((l) => [
    l.name,
    l.type,
    l.outputShape.length === 0 ? '-' : showShape(l.outputShape),
    l.activation ?? '-',
    l.measuredByDefault ? 'yes' : 'no',
  ]);
  return [
    `${handle.path} (${handle.format}, backend ${handle.backend}), input ${showShape(handle.inputShape)}`,
    '',
    formatTable(['layer', 'type', 'output shape', 'activation', 'measured'], rows),
    '',
    `${handle.layers.filter((l) => l.measuredByDefault).length} of ${handle.layers.length} layers measured by default`,
  ].join('\n');
}

/** The `layers` verb; `write` receives its standard output. */
export async function runLayers(args: string[], write: (text: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        backend: { type: 'string' },
        input: { type: 'string' },
        'input-value': { type: 'string', multiple: true },
        probe: { type: 'string' },
        'image-scale': { type: 'string' },
        ...torchFlagConfig,
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (err) {
    throw new UserError(`layers: ${(err as Error).message}; see memlens layers --help`);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    write(HELP + '\n');
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UserError(
      `layers: expected one model, found ${positionals.length === 0 ? 'none' : positionals.join(' ')}; see memlens layers --help`,
    );
  }
  const open = {
    backend: parseBackend(values.backend),
    input: values.input,
    inputValues: inputValuesFlag(values['input-value']),
    onWarning: (m: string) => process.stderr.write(`warning: ${m}\n`),
    ...torchOpenOptions(values),
  };
  const probe = values.probe;
  const imageScale = oneOf('image-scale', values['image-scale'], IMAGE_SCALES);
  const handle =
    probe === undefined
      ? await openModel(positionals[0], open)
      : (
          await openWithProbe(positionals[0], open, (inputShape, implied) =>
            loadProbe(probe, {
              samples: 3,
              seed: 0,
              ...(inputShape ? { inputShape } : {}),
              imageScale: imageScale ?? implied ?? '0-1',
            }),
          )
        ).handle;
  try {
    if (values.json === true) {
      const { path, format, backend, inputShape, layers } = handle;
      write(JSON.stringify({ path, format, backend, inputShape, layers }, null, 1) + '\n');
    } else {
      write(layersTable(handle) + '\n');
    }
  } finally {
    handle.dispose();
  }
  return 0;
}

export const layersCommand: Command = {
  summary: 'list the layers of a model and which are measured by default',
  run: (args) => runLayers(args, (text) => process.stdout.write(text)),
};
