import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { io } from '@tensorflow/tfjs';
import { UserError } from '../../errors';
import { writeFileAtomic } from '../../io/atomicWrite';
import { readInputText } from '../../io/readInput';
import { containedFile } from '../common/modelFiles';

/** The parts of a TF.js model.json MemLens reads. */
export interface TfjsModelJson {
  format?: string;
  modelTopology: Record<string, unknown>;
  weightsManifest: io.WeightsManifestConfig;
  [key: string]: unknown;
}

/** Reads and checks a TF.js model.json: valid JSON with a modelTopology and a weightsManifest. */
export async function readModelJson(file: string): Promise<TfjsModelJson> {
  return parseModelJson(await readInputText(file, 'the model'), file);
}

/** What a JavaScript file that wraps a model is, for the error naming it; null: not JavaScript. */
function javascriptWrapper(text: string): string | null {
  const head = text.slice(0, 100_000);
  const umd = /typeof exports\s*={2,3}\s*['"]object['"]|define\.amd/.test(head);
  const module = umd || /\bmodule\.exports\b|\bexports\.\w+\s*=|^\s*(import|export)\s/m.test(head);
  if (!module) return null;
  const kind = umd ? 'a UMD JavaScript module' : 'a JavaScript module';
  // Weight shards inlined as base64 (a data: URL or a long run of base64 characters).
  return /base64,|[A-Za-z0-9+/]{4096}/.test(text)
    ? `${kind} with the weight shards inlined as base64 strings`
    : kind;
}

const WEIGHTS_ONLY =
  "a weights manifest without a model topology: the topology is in the package's JavaScript; expected a TF.js model.json with modelTopology";

/** A weights manifest (what tfjs-converter writes beside a model, or a group of one). */
function isWeightsManifest(json: unknown): boolean {
  const isGroup = (g: unknown): boolean => isObject(g) && Array.isArray(g.paths) && 'weights' in g;
  if (Array.isArray(json)) return json.length > 0 && json.every(isGroup);
  return (
    isObject(json) && (isGroup(json) || ('weightsManifest' in json && !('modelTopology' in json)))
  );
}

export function parseModelJson(text: string, file: string): TfjsModelJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const wrapper = javascriptWrapper(text);
    if (wrapper !== null)
      throw new UserError(
        `${file}: ${wrapper}: expected a TF.js model.json with its weight files (MemLens does not run a package's JavaScript)`,
      );
    throw new UserError(
      `${file}: expected a TF.js model.json, found invalid JSON (${(err as Error).message})`,
    );
  }
  if (isWeightsManifest(json)) throw new UserError(`${file}: ${WEIGHTS_ONLY}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError(
      `${file}: expected a TF.js model.json (a JSON object), found ${Array.isArray(json) ? 'an array' : typeof json}`,
    );
  }
  const obj = json as Record<string, unknown>;
  const topo = obj.modelTopology;
  const manifest = obj.weightsManifest;
  if (typeof topo !== 'object' || topo === null || !Array.isArray(manifest)) {
    const keys = Object.keys(obj).slice(0, 6).join(', ') || 'no keys';
    throw new UserError(
      `${file}: expected a TF.js model.json with "modelTopology" and "weightsManifest", found keys ${keys}`,
    );
  }
  manifest.forEach((group, g) => checkManifestGroup(file, group, g));
  return obj as TfjsModelJson;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A manifest group must list its shard paths (strings) and its weights (name, shape, dtype). */
function checkManifestGroup(file: string, group: unknown, g: number): void {
  const bad = (found: string): UserError =>
    new UserError(
      `${file}: weightsManifest[${g}]: expected {"paths": [file names], "weights": [{"name", "shape", "dtype"}]}, found ${found}`,
    );
  if (!isObject(group)) throw bad(Array.isArray(group) ? 'an array' : String(group));
  if (!Array.isArray(group.paths) || group.paths.some((p) => typeof p !== 'string'))
    throw bad(
      `"paths" of type ${Array.isArray(group.paths) ? 'array of non-strings' : typeof group.paths}`,
    );
  if (!Array.isArray(group.weights)) throw bad(`"weights" of type ${typeof group.weights}`);
  group.weights.forEach((w, i) => {
    if (
      !isObject(w) ||
      typeof w.name !== 'string' ||
      typeof w.dtype !== 'string' ||
      !Array.isArray(w.shape) ||
      w.shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)
    )
      throw bad(`weight ${i} without a string name and dtype and a shape of non-negative integers`);
  });
}

/** The weight shards a checked model.json lists, in manifest order, each inside its folder. */
export async function manifestShards(file: string, json: TfjsModelJson): Promise<string[]> {
  const shards: string[] = [];
  for (const group of json.weightsManifest)
    for (const shard of group.paths) shards.push(await containedFile(file, shard, 'weight shard'));
  return shards;
}

const ELEMENT_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** Bytes a weight occupies in its shard, or undefined when it cannot be known (strings). */
function weightBytes(spec: io.WeightsManifestEntry): number | undefined {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const width = ELEMENT_BYTES[dtype];
  return width === undefined ? undefined : count * width;
}

/**
 * Reads the weight shards of every manifest group, in manifest order, and checks that each
 * group's shards exist and hold at least the bytes its weights need.
 */
export async function readWeights(
  file: string,
  manifest: io.WeightsManifestConfig,
): Promise<{ specs: io.WeightsManifestEntry[]; data: ArrayBuffer }> {
  const specs: io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of manifest) {
    const groupParts: Uint8Array[] = [];
    for (const shard of group.paths) {
      const shardPath = await containedFile(file, shard, 'weight shard');
      try {
        groupParts.push(await fs.readFile(shardPath));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        throw new UserError(
          `${file}: weight shard ${shard} cannot be read (${code}): expected it beside model.json`,
        );
      }
    }
    const found = groupParts.reduce((a, p) => a + p.byteLength, 0);
    const needs = group.weights.map(weightBytes);
    if (needs.every((n) => n !== undefined)) {
      const needed = (needs as number[]).reduce((a, b) => a + b, 0);
      if (found < needed) {
        throw new UserError(
          `${file}: weight shards ${group.paths.join(', ')} are short: expected ${needed} bytes for ${group.weights.length} weights, found ${found}`,
        );
      }
    }
    specs.push(...group.weights);
    parts.push(...groupParts);
  }
  const data = concat(parts);
  return { specs, data: data.buffer as ArrayBuffer };
}

/** Builds the in-memory artifacts tfjs loads from a checked model.json and its shards. */
export async function loadArtifacts(
  file: string,
  json?: TfjsModelJson,
): Promise<io.ModelArtifacts> {
  const model = json ?? (await readModelJson(file));
  const { specs, data } = await readWeights(file, model.weightsManifest);
  return {
    modelTopology: model.modelTopology as io.ModelArtifacts['modelTopology'],
    format: model.format,
    generatedBy: model.generatedBy as string | undefined,
    convertedBy: model.convertedBy as string | null | undefined,
    trainingConfig: model.trainingConfig as io.ModelArtifacts['trainingConfig'],
    signature: model.signature as object | undefined,
    userDefinedMetadata: model.userDefinedMetadata as io.ModelArtifacts['userDefinedMetadata'],
    modelInitializer: model.modelInitializer as object | undefined,
    weightSpecs: specs,
    weightData: data,
  };
}

/**
 * A TF.js IOHandler on the file system (no tfjs-node needed): `load` reads model.json and its
 * shards, `save` writes `model.json` and one shard `weights.bin` into the folder of `file`,
 * each atomically.
 */
export function fileSystemHandler(file: string): io.IOHandler {
  return {
    load: () => loadArtifacts(file),
    save: async (artifacts: io.ModelArtifacts): Promise<io.SaveResult> => {
      const dir = path.dirname(file);
      await fs.mkdir(dir, { recursive: true });
      const weights = artifacts.weightData;
      const bytes =
        weights === undefined
          ? new Uint8Array(0)
          : Array.isArray(weights)
            ? concat(weights.map((b) => new Uint8Array(b)))
            : new Uint8Array(weights);
      const shard = 'weights.bin';
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.signature ? { signature: artifacts.signature } : {}),
        ...(artifacts.userDefinedMetadata
          ? { userDefinedMetadata: artifacts.userDefinedMetadata }
          : {}),
        weightsManifest: [{ paths: [shard], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFileAtomic(path.join(dir, shard), bytes);
      await writeFileAtomic(file, JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: bytes.byteLength,
        },
      };
    },
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
