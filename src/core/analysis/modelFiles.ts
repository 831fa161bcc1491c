import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { readInput } from '../io/readInput';

/**
 * The files whose bytes make up a model, in a fixed order: a TF.js model.json (or the folder
 * holding it) plus the weight shards its manifest lists; an ONNX model plus the external-data
 * files its initializers name; any other model is its own file.
 */
export async function modelContentFiles(modelPath: string): Promise<string[]> {
  let file = modelPath;
  const stat = await fs.stat(modelPath).catch(() => {
    throw new UserError(`${modelPath}: expected a model file, found nothing at that path`);
  });
  if (stat.isDirectory()) file = path.join(modelPath, 'model.json');
  const ext = path.extname(file).toLowerCase();
  if (ext === '.onnx') {
    // Imported on demand: the extension host hashes models too, and rarely ONNX ones.
    const { decodeOnnxModel, externalDataLocations } = await import('../capture/onnx/onnxProto');
    let locations: string[];
    try {
      locations = externalDataLocations(
        decodeOnnxModel(await readInput(file, 'the ONNX model'), file),
      );
    } catch {
      return [file]; // not parseable: opening it reports why
    }
    return [file, ...locations.map((l) => path.resolve(path.dirname(file), l))];
  }
  if (ext !== '.json') return [file];
  let manifest: unknown;
  try {
    manifest = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    throw new UserError(
      `${file}: expected a TF.js model.json, found a file that is not valid JSON`,
    );
  }
  const shards: string[] = [];
  const groups = (manifest as { weightsManifest?: unknown }).weightsManifest;
  if (Array.isArray(groups)) {
    for (const group of groups) {
      const paths = (group as { paths?: unknown }).paths;
      if (Array.isArray(paths))
        for (const p of paths)
          if (typeof p === 'string') shards.push(path.resolve(path.dirname(file), p));
    }
  }
  return [file, ...shards];
}
