import type { OpenModelOptions } from '../core/capture/format';

/** The PyTorch flags every command that opens models shares. */
export const torchFlagConfig = {
  python: { type: 'string' },
  'torch-factory': { type: 'string' },
} as const;

export const TORCH_FLAGS_HELP = `PyTorch options (.pt, .pth, .ckpt, pytorch_model.bin, Hugging Face folders; run in your
own Python with your torch):
  --python <path>       the Python interpreter (default: python3 on PATH)
  --torch-factory <m:f> module:callable building the model a state_dict loads into, e.g.
                        nets:make_mlp or train:Net (the model's folder and the current
                        directory are on sys.path)`;

/** The open options of the PyTorch flags (the current directory is the workspace). */
export function torchOpenOptions(values: {
  python?: string;
  'torch-factory'?: string;
}): Pick<OpenModelOptions, 'python' | 'torchFactory' | 'searchPaths'> {
  return {
    ...(values.python === undefined ? {} : { python: values.python }),
    ...(values['torch-factory'] === undefined ? {} : { torchFactory: values['torch-factory'] }),
    searchPaths: [process.cwd()],
  };
}
