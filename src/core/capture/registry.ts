import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { kerasFormat } from './keras/kerasFormat';
import { onnxFormat } from './onnx/onnxFormat';
import { savedModelFormat } from './savedModel/savedModelFormat';
import { tfjsFormat } from './tfjs/tfjsFormat';
import type { ModelHandle, OpenModelOptions } from './format';

/** What a format sees of a candidate file in its `match` step. */
export interface ModelFileInfo {
  path: string;
  /** Lower-case extension with the dot, e.g. `.json`. */
  ext: string;
  /** The first bytes of the file (up to 64). */
  head: Uint8Array;
}

/**
 * A model format: `match` is a cheap test on the extension and leading bytes; `open` reads the
 * model and turns every failure into a one-line UserError. Adding a format = one file with a
 * ModelFormat and one line in `modelFormats`.
 */
export interface ModelFormat {
  id: string;
  /** For error messages: "TF.js model.json". */
  description: string;
  extensions: string[];
  match(file: ModelFileInfo): boolean;
  open(file: string, opts: OpenModelOptions): Promise<ModelHandle>;
}

/** The formats tried in order. */
export const modelFormats: ModelFormat[] = [tfjsFormat, onnxFormat, kerasFormat, savedModelFormat];

async function fileInfo(file: string): Promise<ModelFileInfo> {
  let target = file;
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    throw new UserError(
      `${file}: cannot open the model (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (stat.isDirectory()) {
    // A TF SavedModel folder is opened through its saved_model.pb, any other through model.json.
    const candidates = [path.join(file, 'saved_model.pb'), path.join(file, 'model.json')];
    const found = await Promise.all(
      candidates.map((c) =>
        fs.access(c).then(
          () => true,
          () => false,
        ),
      ),
    );
    const index = found.indexOf(true);
    if (index < 0) {
      throw new UserError(
        `${file}: expected a model file or a folder holding model.json or saved_model.pb, found a folder with neither`,
      );
    }
    target = candidates[index];
  }
  const handle = await fs.open(target, 'r');
  try {
    const head = new Uint8Array(64);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return {
      path: target,
      ext: path.extname(target).toLowerCase(),
      head: head.subarray(0, bytesRead),
    };
  } finally {
    await handle.close();
  }
}

/**
 * Opens a model file (or a folder holding model.json) with the first registered format that
 * matches it, on the backend asked for or the first that starts (tfjs-node, wasm, cpu).
 */
export async function openModel(file: string, opts: OpenModelOptions = {}): Promise<ModelHandle> {
  const info = await fileInfo(file);
  const format = modelFormats.find((f) => f.match(info));
  if (format === undefined) {
    const head = Array.from(info.head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(
      ' ',
    );
    throw new UserError(
      `${info.path}: expected a model (${modelFormats.map((f) => `${f.description}`).join(', ')}), found a '${info.ext || 'no extension'}' file starting with bytes ${head || '(empty)'}`,
    );
  }
  return format.open(info.path, opts);
}
