import type { Dirent, Stats } from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DUMP_EXTENSIONS, isActivationDump } from '../dumps/dumpFiles';
import { sidecarPath } from '../dumps/loadDump';
import { UserError } from '../errors';
import { fileStem, naturalOrder } from './common/modelFiles';
import type { ImageScale, ProbeSet } from '../probe/types';
import type { ModelFileInfo, ModelFormat, ModelHandle, OpenModelOptions } from './format';
import { kerasFormat } from './keras/kerasFormat';
import { onnxFormat } from './onnx/onnxFormat';
import { savedModelFormat } from './savedModel/savedModelFormat';
import { tfjsFormat } from './tfjs/tfjsFormat';
import { torchFormat } from './torch/torchFormat';

/** The formats, tried in order. Adding a format = its folder and one entry here. */
export const modelFormats: readonly ModelFormat[] = [
  tfjsFormat,
  onnxFormat,
  kerasFormat,
  savedModelFormat,
  torchFormat,
];

async function statOrNull(p: string): Promise<Stats | null> {
  return fs.stat(p).catch(() => null);
}

/** The marker file of the folder format whose marker `dir` holds, or null. */
export async function folderModelFile(dir: string): Promise<string | null> {
  for (const f of modelFormats) {
    if (f.folderMarker === undefined) continue;
    const marker = path.join(dir, f.folderMarker);
    if ((await statOrNull(marker))?.isFile()) return marker;
  }
  return null;
}

/** The format claiming a file by its name alone: a folder marker or a listed extension. */
function formatByName(file: string): ModelFormat | undefined {
  const base = path.basename(file).toLowerCase();
  const ext = path.extname(base);
  return (
    modelFormats.find((f) => f.folderMarker === base) ??
    modelFormats.find((f) => f.extensions.includes(ext))
  );
}

async function fileInfo(file: string): Promise<ModelFileInfo> {
  const handle = await fs.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`${file}: cannot open the model (${err.code ?? 'error'})`);
  });
  try {
    const head = new Uint8Array(64);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return { path: file, ext: path.extname(file).toLowerCase(), head: head.subarray(0, bytesRead) };
  } finally {
    await handle.close();
  }
}

/** A model path resolved to the file that opens it and the format that reads it. */
export interface ResolvedModel {
  /** The model file: a folder model's marker (model.json, saved_model.pb), else the path. */
  file: string;
  format: ModelFormat;
}

/**
 * Resolves a model file, or a folder holding a format's marker file, to the file and the
 * first registered format that matches it (extension and leading bytes). Anything else is a
 * one-line UserError saying what was found.
 */
export async function resolveModel(target: string): Promise<ResolvedModel> {
  const stat = await fs.stat(target).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`${target}: cannot open the model (${err.code ?? 'error'})`);
  });
  let file = target;
  if (stat.isDirectory()) {
    const marker = await folderModelFile(target);
    if (marker === null) {
      const markers = modelFormats.flatMap((f) => (f.folderMarker ? [f.folderMarker] : []));
      throw new UserError(
        `${target}: expected a model file or a model folder (holding ${markers.slice(0, -1).join(', ')} or ${markers[markers.length - 1]}), found a folder with none of them`,
      );
    }
    file = marker;
  } else if (!stat.isFile()) {
    throw new UserError(`${target}: expected a model file, found a special file`);
  }
  const info = await fileInfo(file);
  // A folder marker (model.json, saved_model.pb, config.json) belongs to its format first.
  const base = path.basename(file).toLowerCase();
  const format =
    modelFormats.find((f) => f.folderMarker === base && f.match(info)) ??
    modelFormats.find((f) => f.match(info));
  if (format === undefined) {
    const head = Array.from(info.head.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(
      ' ',
    );
    throw new UserError(
      `${info.path}: expected a model (${modelFormats.map((f) => f.description).join(', ')}), found a '${info.ext || 'no extension'}' file starting with bytes ${head || '(empty)'}`,
    );
  }
  return { file, format };
}

/**
 * Opens a model file (or a folder holding a format's marker) with the format that matches it,
 * on the backend asked for or the first that starts (tfjs-node, wasm, cpu).
 */
export async function openModel(target: string, opts: OpenModelOptions = {}): Promise<ModelHandle> {
  const { file, format } = await resolveModel(target);
  return format.open(file, opts);
}

/**
 * Opens a model together with its probe, in the order its format needs: the probe is loaded
 * for the model's input shape and the pixel scale its input implies (`load(inputShape,
 * imageScale)` fits it), except for a format that finds
 * its layers by running the model (`probeAtOpen`, PyTorch), which is opened with the probe.
 * On any failure the model is disposed.
 */
export async function openWithProbe(
  target: string,
  opts: OpenModelOptions,
  load: (inputShape?: (number | null)[], imageScale?: ImageScale) => Promise<ProbeSet>,
): Promise<{ handle: ModelHandle; probe: ProbeSet }> {
  const { file, format } = await resolveModel(target);
  if (format.probeAtOpen) {
    const probe = await load();
    return { handle: await format.open(file, { ...opts, probe }), probe };
  }
  const handle = await format.open(file, opts);
  try {
    return { handle, probe: await load(handle.inputShape, handle.imageScale) };
  } catch (err) {
    handle.dispose();
    throw err;
  }
}

/**
 * The files whose bytes make up a model or an activation dump, in a fixed order: the model
 * file first, then what its format reads beside it (weight shards, external data, variables),
 * each checked to lie inside the model's folder; a dump and its layer sidecar.
 */
export async function modelContentFiles(target: string): Promise<string[]> {
  if (isActivationDump(target)) {
    const sidecar = sidecarPath(target);
    const hasSidecar = sidecar !== target && (await statOrNull(sidecar))?.isFile();
    return hasSidecar ? [target, sidecar] : [target];
  }
  const { file, format } = await resolveModel(target);
  return format.contentFiles(file);
}

/**
 * The short name of a model or dump: the folder of a folder model (given as the folder or its
 * marker file), else the file name without its extension.
 */
export function modelName(source: string): string {
  const format = formatByName(source);
  if (format !== undefined) return format.modelName(source);
  if (isActivationDump(source)) return fileStem(source);
  return path.basename(path.resolve(source));
}

/** Whether two paths name the same model (a folder and its marker file count as the same). */
export function sameModel(a: string, b: string): boolean {
  const norm = (p: string): string => {
    const r = path.resolve(p);
    const base = path.basename(r).toLowerCase();
    return modelFormats.some((f) => f.folderMarker === base) ? path.dirname(r) : r;
  };
  return norm(a) === norm(b);
}

/** Whether a path is a folder that is one model (it holds a format's marker file). */
export async function isModelFolder(p: string): Promise<boolean> {
  return (await statOrNull(p))?.isDirectory() === true && (await folderModelFile(p)) !== null;
}

/**
 * The models directly inside a folder, in natural order (step-9 before step-10): its files
 * with a format's extension and its subfolders that are models.
 */
export async function modelsInFolder(dir: string): Promise<string[]> {
  const entries: Dirent[] = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) =>
    naturalOrder(a.name, b.name),
  );
  const found: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (await folderModelFile(p)) found.push(p);
    } else if (e.isFile()) {
      const ext = path.extname(e.name).toLowerCase();
      if (modelFormats.some((f) => f.extensions.includes(ext))) found.push(p);
    }
  }
  return found;
}

/**
 * The file names the extension's menus and model viewer offer: every format's extensions and
 * folder markers (leaving out formats that need an optional package the extension never
 * ships), and the activation dumps'.
 */
export function analysableFileNames(): { extensions: string[]; markers: string[] } {
  const shipped = modelFormats.filter((f) => f.requires === undefined);
  return {
    extensions: [...shipped.flatMap((f) => f.extensions), ...DUMP_EXTENSIONS],
    markers: shipped.flatMap((f) =>
      f.folderMarker && f.folderMarkerIsGeneric !== true ? [f.folderMarker] : [],
    ),
  };
}
