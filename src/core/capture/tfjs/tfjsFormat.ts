import { UserError } from '../../errors';
import * as path from 'node:path';
import { fileStem, folderName } from '../common/modelFiles';
import type { ModelFileInfo, ModelFormat } from '../format';
import { manifestShards, readModelJson } from './fsHandler';
import { openGraphModel } from './tfjsGraph';
import { openLayersModel } from './tfjsLayers';

const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

function startsWithBrace(head: Uint8Array): boolean {
  for (const b of head) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b; // '{'
  }
  return false;
}

/**
 * TF.js models: a model.json (layers-model or graph-model) with weight shards beside it, so a
 * folder holding model.json is one model. Matches a `.json` file (so a broken model.json gets
 * a precise error) or any file starting with `{`; `open` tells the two kinds apart by `format`
 * or the topology's shape.
 */
export const tfjsFormat: ModelFormat = {
  id: 'tfjs',
  description: 'TF.js model.json',
  extensions: [],
  folderMarker: 'model.json',
  // JavaScript too: a package's model wrapped in a JS module gets an error naming the wrapper.
  match: (file: ModelFileInfo) =>
    file.ext === '.json' || JS_EXTENSIONS.has(file.ext) || startsWithBrace(file.head),
  contentFiles: async (file) => [file, ...(await manifestShards(file, await readModelJson(file)))],
  modelName: (file) =>
    path.basename(file).toLowerCase() === 'model.json' ? folderName(file) : fileStem(file),
  async open(file, opts) {
    const json = await readModelJson(file);
    const topo = json.modelTopology;
    if (json.format === 'graph-model' || Array.isArray(topo.node))
      return openGraphModel(file, json, opts);
    if (json.format === 'layers-model' || 'class_name' in topo || 'model_config' in topo) {
      return openLayersModel(file, json, opts);
    }
    throw new UserError(
      `${file}: expected a TF.js layers-model or graph-model, found format '${String(json.format ?? 'none')}' and a topology without layers or nodes`,
    );
  },
};
