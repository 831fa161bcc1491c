import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';

/**
 * The files whose bytes make up a model, in a fixed order: a TF.js model.json (or the folder
 * holding it) plus the weight shards its manifest lists; any other model is its own file.
 */
export async function modelContentFiles(modelPath: string): Promise<string[]> {
  let file = modelPath;
  const stat = await fs.stat(modelPath).catch(() => {
    throw new UserError(`${modelPath}: expected a model file, found nothing at that path`);
  });
  if (stat.isDirectory()) file = path.join(modelPath, 'model.json');
  if (path.extname(file).toLowerCase() !== '.json') return [file];
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
