// The fuzzer's readers: for each, its seeds (small valid files: committed fixtures or files
// written here) and how one case is made from a seed: which mutation, which files land in the
// case folder, and which `memlens` command reads them. A case depends only on (run seed,
// reader, index), so any case can be made again from those three (`npm run fuzz -- --case`, scripts/fuzzMain.ts).
// test/fuzz/run.ts runs and judges the cases.
//
// A case folder holds model/ (the model or activation dump and the files it refers to),
// outside/ (copies of those files outside the model's folder, for the path-escape mutations),
// probe/ (the probe inputs), out/ (the outputs) and tmp/ (the child's TMPDIR).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import type { OnnxModelProto } from '../../src/core/capture/onnx/onnxProto';
import { decodeOnnxModel, encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import { encodeNpy, parseNpy, toFloat64 } from '../../src/core/io/npy';
import {
  encodeSafetensors,
  findJson,
  mutateEmbeddedJson,
  mutateJpeg,
  mutateNpy,
  mutatePng,
  mutateSafetensors,
  mutateZipStructure,
  unzip,
  zip,
} from './formats';
import type { Mutated } from './mutate';
import { caseSeed, FuzzRng, jsonText, mutateBytesStacked, mutateJson, mutateText } from './mutate';

/** Every reader the fuzzer knows, in the order cases cycle through them. */
export const READERS = [
  'npy',
  'npz',
  'safetensors',
  'tfjs',
  'onnx',
  'keras',
  'keras-h5',
  'hdf5',
  'probe-npy',
  'probe-npz',
  'probe-csv',
  'probe-jsonl',
  'probe-png',
  'probe-jpeg',
] as const;
export type ReaderName = (typeof READERS)[number];

/** What each reader covers, for the tally. */
export const READER_INFO: Record<ReaderName, string> = {
  npy: '.npy activation dump (+ .layers.json sidecar): measure, analyze',
  npz: '.npz activation dump: analyze',
  safetensors: '.safetensors activation dump: analyze',
  tfjs: 'TF.js model.json + weights shard (layers- and graph-model)',
  onnx: 'ONNX .onnx (inline and external data)',
  keras: 'Keras .keras zip: the archive, config.json, metadata.json',
  'keras-h5': 'Keras .h5: the model_config JSON inside the HDF5 file',
  hdf5: 'HDF5 bytes: a Keras .h5, the model.weights.h5 inside a .keras',
  'probe-npy': '.npy probe',
  'probe-npz': '.npz probe',
  'probe-csv': '.csv probe',
  'probe-jsonl': '.jsonl probe',
  'probe-png': 'folder of PNG images as a probe',
  'probe-jpeg': 'folder of JPEG images as a probe',
};

/** The command a case runs: what it writes into out/ on success. */
export type CommandKind = 'capture' | 'analyze' | 'measure' | 'layers';

export interface FuzzCase {
  reader: ReaderName;
  /** The run's seed and this case's index among the reader's cases. */
  seed: number;
  index: number;
  /** The seed file the case mutates. */
  seedName: string;
  mutation: string;
  /** Files to write, by path relative to the case folder. */
  files: Record<string, Uint8Array>;
  /** Symbolic links to create: path -> target (both relative to the case folder's layout). */
  links: Record<string, string>;
  /** The CLI arguments (paths relative to the case folder, where the child runs). */
  argv: string[];
  command: CommandKind;
  /** The files the command must leave in out/ on success. */
  outputs: string[];
  /** Set when success is itself a failure: the mutation points a reference outside the model. */
  mustFail?: string;
}

// ---- seeds ----

interface ModelSeed {
  name: string;
  /** The model's files, by name inside model/. */
  files: Record<string, Uint8Array>;
  /** The file given to the CLI. */
  entry: string;
  /** The probe written as probe/probe.npy. */
  probe: Uint8Array;
}

export interface Seeds {
  npyDumps: { name: string; npy: Uint8Array; sidecar?: unknown }[];
  npzDumps: { name: string; members: Record<string, Uint8Array>; level: 0 | 6 }[];
  safetensors: { name: string; bytes: Uint8Array }[];
  tfjs: ModelSeed[];
  onnx: ModelSeed[];
  keras: ModelSeed[];
  kerasH5: ModelSeed[];
  /** The model of the probe readers (TF.js, input [?, 6]) and of the image readers ([?, 6, 6, 1]). */
  probeModel: ModelSeed;
  imageModel: ModelSeed;
  csv: { name: string; text: string }[];
  jsonl: { name: string; text: string }[];
  png: { name: string; images: Record<string, Uint8Array> }[];
  jpeg: { name: string; images: Record<string, Uint8Array> }[];
}

/** Deterministic pseudo-normal values (a seeded Box-Muller). */
function normals(seed: number, n: number): Float32Array {
  const rng = new FuzzRng(seed);
  return Float32Array.from({ length: n }, () => {
    const u = Math.max(rng.float(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.float());
  });
}

const bytesOf = (a: Float32Array | Float64Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * A TF.js graph-model written here: `dense` is x[?, 6] -> MatMul/BiasAdd/Relu (4) ->
 * MatMul/BiasAdd (2) -> Identity; `conv` is x[?, 6, 6, 1] -> Conv2D 3x3/BiasAdd/Relu (3) ->
 * Conv2D 3x3/BiasAdd (2) -> Identity. The probe readers use these (not the ONNX models: ONNX
 * Runtime leaves files in TMPDIR, which would fail every probe case).
 */
function graphModel(kind: 'dense' | 'conv'): Record<string, Uint8Array> {
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  const t = { T: { type: 'DT_FLOAT' } };
  const dims = (ds: number[]) => ({ dim: ds.map((d) => ({ size: `${d}` })) });
  const constant = (name: string, shape: number[]) => ({
    name,
    op: 'Const',
    attr: {
      dtype: { type: 'DT_FLOAT' },
      value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(shape) } },
    },
  });
  const input = kind === 'dense' ? [-1, 6] : [-1, 6, 6, 1];
  const shapes: [string, number[]][] =
    kind === 'dense'
      ? [
          ['W1', [6, 4]],
          ['b1', [4]],
          ['W2', [4, 2]],
          ['b2', [2]],
        ]
      : [
          ['W1', [3, 3, 1, 3]],
          ['b1', [3]],
          ['W2', [3, 3, 3, 2]],
          ['b2', [2]],
        ];
  const layer = (name: string, x: string, w: string) =>
    kind === 'dense'
      ? {
          name,
          op: 'MatMul',
          input: [x, w],
          attr: { ...t, transpose_a: { b: false }, transpose_b: { b: false } },
        }
      : {
          name,
          op: 'Conv2D',
          input: [x, w],
          attr: {
            ...t,
            strides: { list: { i: ['1', '1', '1', '1'] } },
            padding: { s: b64('VALID') },
            data_format: { s: b64('NHWC') },
            dilations: { list: { i: ['1', '1', '1', '1'] } },
            use_cudnn_on_gpu: { b: true },
            explicit_paddings: { list: {} },
          },
        };
  const bias = (name: string, x: string, b: string) => ({
    name,
    op: 'BiasAdd',
    input: [x, b],
    attr: { ...t, data_format: { s: b64('NHWC') } },
  });
  const nodes = [
    {
      name: 'x',
      op: 'Placeholder',
      attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims(input) } },
    },
    ...shapes.map(([n, shape]) => constant(n, shape)),
    layer('hidden/op', 'x', 'W1'),
    bias('hidden/BiasAdd', 'hidden/op', 'b1'),
    { name: 'hidden/Relu', op: 'Relu', input: ['hidden/BiasAdd'], attr: t },
    layer('out/op', 'hidden/Relu', 'W2'),
    bias('out/BiasAdd', 'out/op', 'b2'),
    { name: 'Identity', op: 'Identity', input: ['out/BiasAdd'], attr: t },
  ];
  const json = {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: shapes.map(([name, shape]) => ({ name, shape, dtype: 'float32' })),
      },
    ],
  };
  const count = shapes.reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
  return {
    'model.json': new TextEncoder().encode(JSON.stringify(json)),
    'group1-shard1of1.bin': bytesOf(normals(kind === 'dense' ? 77 : 78, count)),
  };
}

/** The ONNX mlp with its initializers moved into an external data file. */
function externalOnnx(bytes: Uint8Array): Record<string, Uint8Array> {
  const model = decodeOnnxModel(bytes, 'mlp.onnx');
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const t of model.graph?.initializer ?? []) {
    const raw = t.rawData;
    if (raw === undefined || raw === null || raw.length === 0) continue;
    t.externalData = [
      { key: 'location', value: 'mlp_ext.weights' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    t.dataLocation = 1;
    t.rawData = new Uint8Array(0);
    blobs.push(new Uint8Array(raw));
    offset += raw.length;
  }
  const blob = new Uint8Array(offset);
  let at = 0;
  for (const b of blobs) {
    blob.set(b, at);
    at += b.length;
  }
  return { 'mlp_ext.onnx': encodeOnnxModel(model), 'mlp_ext.weights': blob };
}

function pngImage(width: number, height: number, colorType: 0 | 2 | 6, seed: number): Uint8Array {
  const png = new PNG({ width, height, colorType, inputColorType: 6, bitDepth: 8 });
  const rng = new FuzzRng(seed);
  for (let i = 0; i < png.data.length; i++) png.data[i] = i % 4 === 3 ? 255 : rng.int(256);
  return new Uint8Array(PNG.sync.write(png, { colorType, inputColorType: 6 }));
}

function jpegImage(width: number, height: number, seed: number, quality: number): Uint8Array {
  const rng = new FuzzRng(seed);
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : 64 + rng.int(128);
  return new Uint8Array(encodeJpeg({ data, width, height }, quality).data);
}

let seedCache: { root: string; seeds: Seeds } | undefined;

/** The seeds, read from the repository at `root` (the committed fixtures) or made here. */
export function loadSeeds(root: string): Seeds {
  if (seedCache?.root === root) return seedCache.seeds;
  const read = (rel: string): Uint8Array => new Uint8Array(readFileSync(path.join(root, rel)));
  const K = 'test/fixtures/real-keras';
  const C = 'test/capture/files';
  const mlpProbe = read(`${C}/mlp-probe.npy`);
  const kerasSeed = (file: string, probe: string): ModelSeed => ({
    name: file,
    files: { [file]: read(`${K}/${file}`) },
    entry: file,
    probe: read(`${K}/${probe}`),
  });
  const probeArray = parseNpy(mlpProbe, 'mlp-probe.npy');
  const probeValues = toFloat64(probeArray.data);
  const [rows, cols] = probeArray.shape;
  const row = (r: number): number[] => Array.from(probeValues.subarray(r * cols, (r + 1) * cols));
  const csvHeader = Array.from({ length: cols }, (_, j) => `f${j}`).join(',');
  const csvRows = Array.from({ length: rows }, (_, r) =>
    row(r)
      .map((v) => v.toFixed(5))
      .join(','),
  );
  const a = normals(1, 40 * 3);
  const b = Float64Array.from(normals(2, 40 * 2));
  const safeData = new Uint8Array(a.byteLength + b.byteLength);
  safeData.set(bytesOf(a), 0);
  safeData.set(bytesOf(b), a.byteLength);
  const seeds: Seeds = {
    npyDumps: [
      { name: 'acts-f4-40x6', npy: encodeNpy(normals(3, 40 * 6), [40, 6]) },
      {
        name: 'acts-f8-30x4+sidecar',
        npy: encodeNpy(Float64Array.from(normals(4, 30 * 4)), [30, 4]),
        sidecar: {
          layers: [
            { name: 'dense1', start: 0, end: 2 },
            { name: 'dense2', start: 2, end: 4 },
          ],
        },
      },
    ],
    npzDumps: [0, 6].map((level) => ({
      name: `acts-${level === 0 ? 'stored' : 'deflated'}.npz`,
      members: {
        'layer1.npy': encodeNpy(a, [40, 3]),
        'layer2.npy': encodeNpy(b, [40, 2]),
      },
      level: level as 0 | 6,
    })),
    safetensors: [
      {
        name: 'acts.safetensors',
        bytes: encodeSafetensors(
          {
            __metadata__: { order: 'layer1,layer2' },
            layer1: { dtype: 'F32', shape: [40, 3], data_offsets: [0, a.byteLength] },
            layer2: {
              dtype: 'F64',
              shape: [40, 2],
              data_offsets: [a.byteLength, a.byteLength + b.byteLength],
            },
          },
          safeData,
        ),
      },
    ],
    tfjs: [
      {
        name: 'examples/shortcut',
        files: {
          'model.json': read('examples/shortcut/model.json'),
          'weights.bin': read('examples/shortcut/weights.bin'),
        },
        entry: 'model.json',
        probe: read(`${C}/shortcut-probe.npy`),
      },
      { name: 'graph-model', files: graphModel('dense'), entry: 'model.json', probe: mlpProbe },
    ],
    onnx: [
      {
        name: 'mlp.onnx',
        files: { 'mlp.onnx': read(`${C}/mlp.onnx`) },
        entry: 'mlp.onnx',
        probe: mlpProbe,
      },
      {
        name: 'conv.onnx',
        files: { 'conv.onnx': read(`${C}/conv.onnx`) },
        entry: 'conv.onnx',
        probe: read(`${C}/conv-probe.npy`),
      },
      {
        name: 'mlp_ext.onnx',
        files: externalOnnx(read(`${C}/mlp.onnx`)),
        entry: 'mlp_ext.onnx',
        probe: mlpProbe,
      },
    ],
    keras: [
      kerasSeed('masked.keras', 'masked-probe.npy'),
      kerasSeed('nested.keras', 'probe.npy'),
      kerasSeed('conv.keras', 'conv-probe.npy'),
    ],
    kerasH5: [kerasSeed('masked.h5', 'masked-probe.npy'), kerasSeed('nested.h5', 'probe.npy')],
    probeModel: {
      name: 'graph-model (dense)',
      files: graphModel('dense'),
      entry: 'model.json',
      probe: mlpProbe,
    },
    imageModel: {
      name: 'graph-model (conv)',
      files: graphModel('conv'),
      entry: 'model.json',
      probe: encodeNpy(normals(5, 12 * 36), [12, 6, 6, 1]),
    },
    csv: [
      { name: 'probe.csv (header)', text: [csvHeader, ...csvRows].join('\n') + '\n' },
      { name: 'probe.csv (no header)', text: csvRows.join('\n') + '\n' },
    ],
    jsonl: [
      {
        name: 'probe.jsonl (arrays)',
        text: Array.from({ length: rows }, (_, r) => JSON.stringify(row(r))).join('\n') + '\n',
      },
      {
        name: 'probe.jsonl (objects)',
        text:
          Array.from({ length: rows }, (_, r) =>
            JSON.stringify({ input: row(r), label: r % 2 }),
          ).join('\n') + '\n',
      },
    ],
    png: [
      {
        name: 'png folder',
        images: {
          'a.png': pngImage(8, 8, 6, 11),
          'b.png': pngImage(8, 8, 0, 12),
          'c.png': pngImage(9, 7, 2, 13),
        },
      },
    ],
    jpeg: [
      {
        name: 'jpeg folder',
        images: {
          'a.jpg': jpegImage(8, 8, 21, 90),
          'b.jpg': jpegImage(16, 12, 22, 75),
          'c.jpeg': jpegImage(6, 6, 23, 50),
        },
      },
    ],
  };
  seedCache = { root, seeds };
  return seeds;
}

// ---- commands ----

interface Command {
  argv: string[];
  command: CommandKind;
  outputs: string[];
}

const CAPTURE_OUT = ['acts.layers.json', 'acts.npy'];
const REPORT_OUT = ['report.json'];

/** capture (mostly), layers --json or analyze, on a model with a probe. */
function modelCommand(
  rng: FuzzRng,
  model: string,
  probe: string,
  opts: { layers?: boolean } = {},
): Command {
  const kind = rng.weighted<CommandKind>([
    [7, 'capture'],
    [opts.layers === false ? 0 : 2, 'layers'],
    [1, 'analyze'],
  ]);
  const samples = rng.chance(0.7) ? ['--samples', '8'] : [];
  if (kind === 'layers')
    return { argv: ['layers', model, '--backend', 'cpu', '--json'], command: kind, outputs: [] };
  if (kind === 'analyze') {
    return {
      argv: [
        'analyze',
        model,
        '--probe',
        probe,
        '--out',
        'out/report.json',
        '--quiet',
        '--backend',
        'cpu',
        '--threads',
        '1',
        '--bins',
        '10',
        ...samples,
      ],
      command: kind,
      outputs: REPORT_OUT,
    };
  }
  return {
    argv: [
      'capture',
      model,
      '--probe',
      probe,
      '--out',
      'out/acts.npy',
      '--quiet',
      '--backend',
      'cpu',
      ...samples,
    ],
    command: kind,
    outputs: CAPTURE_OUT,
  };
}

/** measure (for an .npy, half the time) or analyze, on an activation dump. */
function dumpCommand(rng: FuzzRng, dump: string): Command {
  if (dump.endsWith('.npy') && rng.chance(0.5)) {
    return {
      argv: ['measure', dump, '--out', 'out/measure.json', '--threads', '1', '--bins', '10'],
      command: 'measure',
      outputs: ['measure.json'],
    };
  }
  return {
    argv: [
      'analyze',
      dump,
      '--out',
      'out/report.json',
      '--quiet',
      '--threads',
      '1',
      '--bins',
      '10',
    ],
    command: 'analyze',
    outputs: REPORT_OUT,
  };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The model's files under model/, plus its probe as probe/probe.npy. */
function modelFiles(seed: ModelSeed): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = { 'probe/probe.npy': seed.probe };
  for (const [k, v] of Object.entries(seed.files)) files[`model/${k}`] = v;
  return files;
}

/** A structural mutation of a JSON file's bytes (or a byte mutation when it does not parse). */
function mutateJsonBytes(rng: FuzzRng, bytes: Uint8Array, focus?: RegExp): Mutated<Uint8Array> {
  let value: unknown;
  try {
    value = JSON.parse(dec(bytes));
  } catch {
    return mutateBytesStacked(rng, bytes);
  }
  const m = mutateJson(rng, value, focus);
  return { value: enc(jsonText(m.value)), desc: m.desc };
}

/** A mutation of an .npz (as zip members): raw zip bytes, a member's .npy, the zip's structure. */
function mutateNpzMembers(
  rng: FuzzRng,
  members: Record<string, Uint8Array>,
  level: 0 | 6,
): Mutated<Uint8Array> {
  const op = rng.weighted<string>([
    [3, 'raw'],
    [4, 'member-npy'],
    [1, 'member-bytes'],
    [2, 'structure'],
  ]);
  if (op === 'raw') {
    const bytes = zip(members, level);
    const hot: [number, number] = rng.chance(0.5)
      ? [0, 96]
      : [Math.max(0, bytes.length - 160), bytes.length];
    const m = mutateBytesStacked(rng, bytes, { hot });
    return { value: m.value, desc: `zip bytes: ${m.desc}` };
  }
  if (op === 'structure') return mutateZipStructure(rng, members, level);
  const name = rng.pick(Object.keys(members));
  const m =
    op === 'member-npy' ? mutateNpy(rng, members[name]) : mutateBytesStacked(rng, members[name]);
  return { value: zip({ ...members, [name]: m.value }, level), desc: `member ${name}: ${m.desc}` };
}

/**
 * A path-escape mutation of a model's reference to a side file (a TF.js shard, an ONNX external
 * data file): the reference points outside the model's folder, where a valid copy waits in
 * outside/, so a reader that follows it succeeds: success is the failure.
 */
function escape(
  rng: FuzzRng,
  side: string,
  absOutside: string,
): { reference: string; links: Record<string, string>; desc: string } {
  const v = rng.int(6);
  if (v === 0) return { reference: `../outside/${side}`, links: {}, desc: `'../outside/${side}'` };
  if (v === 1) return { reference: absOutside, links: {}, desc: 'an absolute path to outside/' };
  if (v === 2) {
    return {
      reference: 'link.bin',
      links: { 'model/link.bin': `../outside/${side}` },
      desc: 'a symlink in the model folder to outside/',
    };
  }
  if (v === 3) {
    return {
      reference: side,
      links: { [`model/${side}`]: `../outside/${side}` },
      desc: `model/${side} itself a symlink to outside/`,
    };
  }
  if (v === 4) {
    return {
      reference: `sub/../../outside/${side}`,
      links: {},
      desc: `'sub/../../outside/${side}'`,
    };
  }
  return { reference: `..%2Foutside%2F${side}`, links: {}, desc: 'a percent-encoded ../' };
}

// ---- the readers ----

interface Context {
  rng: FuzzRng;
  seeds: Seeds;
  /** The case folder's absolute path when known (for absolute-path escapes), else a placeholder. */
  caseDir: string;
}

type Made = Omit<FuzzCase, 'reader' | 'seed' | 'index'>;

function npyCase({ rng, seeds }: Context): Made {
  const s = rng.pick(seeds.npyDumps);
  const files: Record<string, Uint8Array> = { 'model/acts.npy': s.npy };
  if (s.sidecar !== undefined) files['model/acts.layers.json'] = enc(JSON.stringify(s.sidecar));
  const op = rng.weighted<string>([
    [6, 'header'],
    [3, 'bytes'],
    [s.sidecar === undefined ? 0 : 2, 'sidecar'],
  ]);
  let mutation: string;
  if (op === 'sidecar') {
    const m = mutateJsonBytes(rng, files['model/acts.layers.json'], /layers|start|end|name/);
    files['model/acts.layers.json'] = m.value;
    mutation = `sidecar: ${m.desc}`;
  } else {
    const m =
      op === 'header' ? mutateNpy(rng, s.npy) : mutateBytesStacked(rng, s.npy, { hot: [0, 128] });
    files['model/acts.npy'] = m.value;
    mutation = m.desc;
  }
  return { seedName: s.name, mutation, files, links: {}, ...dumpCommand(rng, 'model/acts.npy') };
}

function npzCase({ rng, seeds }: Context): Made {
  const s = rng.pick(seeds.npzDumps);
  const m = mutateNpzMembers(rng, s.members, s.level);
  return {
    seedName: s.name,
    mutation: m.desc,
    files: { 'model/acts.npz': m.value },
    links: {},
    ...dumpCommand(rng, 'model/acts.npz'),
  };
}

function safetensorsCase({ rng, seeds }: Context): Made {
  const s = rng.pick(seeds.safetensors);
  const m = mutateSafetensors(rng, s.bytes);
  return {
    seedName: s.name,
    mutation: m.desc,
    files: { 'model/acts.safetensors': m.value },
    links: {},
    ...dumpCommand(rng, 'model/acts.safetensors'),
  };
}

function tfjsCase({ rng, seeds, caseDir }: Context): Made {
  const s = rng.pick(seeds.tfjs);
  const files = modelFiles(s);
  const links: Record<string, string> = {};
  const shard = Object.keys(s.files).find((f) => f.endsWith('.bin')) as string;
  const op = rng.weighted<string>([
    [9, 'json'],
    [3, 'json-bytes'],
    [5, 'shard'],
    [3, 'escape'],
  ]);
  let mutation: string;
  let mustFail: string | undefined;
  if (op === 'json') {
    const m = mutateJsonBytes(
      rng,
      files['model/model.json'],
      /weightsManifest|paths|shape|dtype|class_name|inbound_nodes|units|batch_input_shape|format|node|op|input|attr/,
    );
    files['model/model.json'] = m.value;
    mutation = `model.json: ${m.desc}`;
  } else if (op === 'json-bytes') {
    const m = mutateBytesStacked(rng, files['model/model.json']);
    files['model/model.json'] = m.value;
    mutation = `model.json bytes: ${m.desc}`;
  } else if (op === 'shard') {
    const m = mutateBytesStacked(rng, files[`model/${shard}`]);
    files[`model/${shard}`] = m.value;
    mutation = `${shard}: ${m.desc}`;
  } else {
    const e = escape(rng, shard, path.join(caseDir, 'outside', shard));
    const json = JSON.parse(dec(files['model/model.json'])) as {
      weightsManifest: { paths: string[] }[];
    };
    json.weightsManifest[0].paths[0] = e.reference;
    files['model/model.json'] = enc(JSON.stringify(json));
    files[`outside/${shard}`] = files[`model/${shard}`];
    delete files[`model/${shard}`];
    Object.assign(links, e.links);
    mutation = `weightsManifest path -> ${e.desc}`;
    mustFail = 'the weights shard lies outside the model folder';
  }
  const cmd = modelCommand(rng, `model/${s.entry}`, 'probe/probe.npy', {
    layers: mustFail === undefined,
  });
  return { seedName: s.name, mutation, files, links, mustFail, ...cmd };
}

/** A structural mutation of an ONNX model: decoded to JSON, mutated, encoded again. */
function mutateOnnxStructure(rng: FuzzRng, bytes: Uint8Array): Mutated<Uint8Array> | undefined {
  let model: OnnxModelProto;
  try {
    model = decodeOnnxModel(bytes, 'seed.onnx');
  } catch {
    return undefined;
  }
  const json: unknown = JSON.parse(JSON.stringify(model));
  for (let tries = 0; tries < 5; tries++) {
    const m = mutateJson(
      rng,
      json,
      /dims|dataType|rawData|externalData|opType|input|output|dimValue|attribute|initializer|elemType|opsetImport/,
    );
    try {
      return { value: encodeOnnxModel(m.value as OnnxModelProto), desc: `onnx proto: ${m.desc}` };
    } catch {
      // The mutation does not encode (a value of the wrong type for protobuf): try another.
    }
  }
  return undefined;
}

/**
 * The model with its first initializer moved into a Constant node whose value tensor keeps its
 * data externally, at `location`: a path inside the working directory (the case folder, where
 * the CLI runs) but outside the model's folder. Success means the data was read from there.
 */
function constantEscape(
  rng: FuzzRng,
  bytes: Uint8Array,
  file: string,
): { model: Uint8Array; data: Uint8Array; name: string; location: string } {
  const model = decodeOnnxModel(bytes, file);
  const graph = model.graph as NonNullable<OnnxModelProto['graph']>;
  const at = graph.initializer.findIndex((t) => (t.rawData?.length ?? 0) > 0);
  const [init] = graph.initializer.splice(at, 1);
  const data = new Uint8Array(init.rawData as Uint8Array);
  const location = rng.pick([
    'outside/const.bin',
    './outside/const.bin',
    'probe/../outside/const.bin',
  ]);
  const value = {
    name: init.name,
    dims: init.dims,
    dataType: init.dataType,
    dataLocation: 1,
    rawData: new Uint8Array(0),
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: '0' },
      { key: 'length', value: String(data.length) },
    ],
  };
  graph.node.unshift({
    name: `${init.name ?? ''}/Constant`,
    opType: 'Constant',
    input: [],
    output: [init.name ?? ''],
    attribute: [{ name: 'value', type: 4, t: value }],
  } as unknown as (typeof graph.node)[number]);
  return { model: encodeOnnxModel(model), data, name: init.name ?? '', location };
}

function onnxCase({ rng, seeds, caseDir }: Context): Made {
  const s = rng.pick(seeds.onnx);
  const files = modelFiles(s);
  const links: Record<string, string> = {};
  const side = Object.keys(s.files).find((f) => f.endsWith('.weights'));
  const op = rng.weighted<string>([
    [5, 'bytes'],
    [6, 'structure'],
    [side === undefined ? 0 : 2, 'side'],
    [side === undefined ? 0 : 2, 'escape'],
    [side === undefined ? 1.5 : 0, 'constant-escape'],
  ]);
  let mutation: string;
  let mustFail: string | undefined;
  const entry = `model/${s.entry}`;
  if (op === 'constant-escape') {
    const m = constantEscape(rng, files[entry], s.entry);
    files[entry] = m.model;
    files['outside/const.bin'] = m.data;
    mutation = `initializer ${m.name} -> a Constant node with external data at '${m.location}' (relative to the working directory, outside model/)`;
    mustFail = "a Constant node's external data lies outside the model folder";
  } else if (op === 'structure') {
    const m = mutateOnnxStructure(rng, files[entry]) ?? mutateBytesStacked(rng, files[entry]);
    files[entry] = m.value;
    mutation = m.desc;
  } else if (op === 'side' && side !== undefined) {
    const m = mutateBytesStacked(rng, files[`model/${side}`]);
    files[`model/${side}`] = m.value;
    mutation = `${side}: ${m.desc}`;
  } else if (op === 'escape' && side !== undefined) {
    const e = escape(rng, side, path.join(caseDir, 'outside', side));
    const model = decodeOnnxModel(files[entry], s.entry);
    for (const t of model.graph?.initializer ?? []) {
      for (const kv of t.externalData) if (kv.key === 'location') kv.value = e.reference;
    }
    files[entry] = encodeOnnxModel(model);
    files[`outside/${side}`] = files[`model/${side}`];
    delete files[`model/${side}`];
    Object.assign(links, e.links);
    mutation = `external_data location -> ${e.desc}`;
    mustFail = 'the external data file lies outside the model folder';
  } else {
    const m = mutateBytesStacked(rng, files[entry]);
    files[entry] = m.value;
    mutation = `bytes: ${m.desc}`;
  }
  const cmd = modelCommand(rng, entry, 'probe/probe.npy', { layers: mustFail === undefined });
  return { seedName: s.name, mutation, files, links, mustFail, ...cmd };
}

const KERAS_FOCUS =
  /class_name|config|shape|units|inbound_nodes|layers|name|build_config|dtype|module|registered_name|keras_version|input_layers|output_layers/;

function kerasCase({ rng, seeds }: Context): Made {
  const s = rng.pick(seeds.keras);
  const files = modelFiles(s);
  const entry = `model/${s.entry}`;
  const members = unzip(files[entry]);
  const op = rng.weighted<string>([
    [5, 'config'],
    [1, 'metadata'],
    [1, 'config-bytes'],
    [3, 'zip-bytes'],
    [3, 'zip-structure'],
  ]);
  let m: Mutated<Uint8Array>;
  if (op === 'config' || op === 'metadata' || op === 'config-bytes') {
    const member = op === 'metadata' ? 'metadata.json' : 'config.json';
    const inner =
      op === 'config-bytes'
        ? mutateBytesStacked(rng, members[member])
        : mutateJsonBytes(rng, members[member], op === 'config' ? KERAS_FOCUS : undefined);
    m = { value: zip({ ...members, [member]: inner.value }), desc: `${member}: ${inner.desc}` };
  } else if (op === 'zip-bytes') {
    const bytes = files[entry];
    const hot: [number, number] = rng.chance(0.5)
      ? [0, 128]
      : [Math.max(0, bytes.length - 300), bytes.length];
    const inner = mutateBytesStacked(rng, bytes, { hot });
    m = { value: inner.value, desc: `zip bytes: ${inner.desc}` };
  } else {
    m = mutateZipStructure(rng, members, 0);
  }
  files[entry] = m.value;
  return {
    seedName: s.name,
    mutation: m.desc,
    files,
    links: {},
    ...modelCommand(rng, entry, 'probe/probe.npy'),
  };
}

function kerasH5Case({ rng, seeds }: Context): Made {
  const s = rng.pick(seeds.kerasH5);
  const files = modelFiles(s);
  const entry = `model/${s.entry}`;
  const bytes = files[entry];
  const range = findJson(bytes, '{"class_name"');
  let m: Mutated<Uint8Array> | undefined;
  if (range !== undefined && rng.chance(0.85))
    m = mutateEmbeddedJson(rng, bytes, range, KERAS_FOCUS);
  if (m === undefined && range !== undefined) {
    // Characters overwritten inside the JSON text, in place (the HDF5 structure stays valid).
    const out = new Uint8Array(bytes);
    const n = rng.range(1, 4);
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = range[0] + rng.int(range[1] - range[0]);
      out[p] = rng.pick([0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x5c, 0x00, 0xff, 0x30]);
      at.push(p);
    }
    m = { value: out, desc: `model_config characters overwritten @${at.join(',')}` };
  }
  m ??= mutateBytesStacked(rng, bytes);
  files[entry] = m.value;
  return {
    seedName: s.name,
    mutation: m.desc,
    files,
    links: {},
    ...modelCommand(rng, entry, 'probe/probe.npy'),
  };
}

function hdf5Case({ rng, seeds }: Context): Made {
  const inKeras = rng.chance(0.5);
  const s = inKeras ? rng.pick(seeds.keras) : rng.pick(seeds.kerasH5);
  const files = modelFiles(s);
  const entry = `model/${s.entry}`;
  let mutation: string;
  const hdf5 = (bytes: Uint8Array): Mutated<Uint8Array> =>
    mutateBytesStacked(rng, bytes, { hot: [0, Math.min(bytes.length, 4096)] });
  if (inKeras) {
    const members = unzip(files[entry]);
    const m = hdf5(members['model.weights.h5']);
    files[entry] = zip({ ...members, 'model.weights.h5': m.value });
    mutation = `model.weights.h5: ${m.desc}`;
  } else {
    const m = hdf5(files[entry]);
    files[entry] = m.value;
    mutation = m.desc;
  }
  return {
    seedName: s.name,
    mutation,
    files,
    links: {},
    ...modelCommand(rng, entry, 'probe/probe.npy'),
  };
}

/** A probe case: the probe reader's model, its files, and the mutated probe at `probe`. */
function probeCase(
  rng: FuzzRng,
  model: ModelSeed,
  seedName: string,
  probe: string,
  probeFiles: Record<string, Uint8Array>,
  mutation: string,
  extra: string[] = [],
): Made {
  const files: Record<string, Uint8Array> = { ...probeFiles };
  for (const [k, v] of Object.entries(model.files)) files[`model/${k}`] = v;
  const cmd = modelCommand(rng, `model/${model.entry}`, probe, { layers: false });
  return { seedName, mutation, files, links: {}, ...cmd, argv: [...cmd.argv, ...extra] };
}

function probeNpyCase({ rng, seeds }: Context): Made {
  const seed = seeds.probeModel.probe;
  const m = rng.chance(0.7)
    ? mutateNpy(rng, seed)
    : mutateBytesStacked(rng, seed, { hot: [0, 128] });
  return probeCase(
    rng,
    seeds.probeModel,
    'mlp-probe.npy',
    'probe/probe.npy',
    { 'probe/probe.npy': m.value },
    m.desc,
  );
}

function probeNpzCase({ rng, seeds }: Context): Made {
  const level = rng.pick([0, 6] as const);
  const members: Record<string, Uint8Array> = rng.chance(0.5)
    ? { 'x.npy': seeds.probeModel.probe }
    : { 'x.npy': seeds.probeModel.probe, 'y.npy': encodeNpy(new Float32Array(16), [16]) };
  const m = mutateNpzMembers(rng, members, level);
  return probeCase(
    rng,
    seeds.probeModel,
    `probe.npz (${Object.keys(members).join(', ')})`,
    'probe/probe.npz',
    { 'probe/probe.npz': m.value },
    m.desc,
  );
}

function textProbeCase(rng: FuzzRng, seeds: Seeds, kind: 'csv' | 'jsonl'): Made {
  const s = rng.pick(kind === 'csv' ? seeds.csv : seeds.jsonl);
  let bytes: Uint8Array;
  let mutation: string;
  if (rng.chance(0.8)) {
    const m = mutateText(rng, s.text, kind === 'jsonl');
    bytes = enc(m.value);
    mutation = m.desc;
  } else {
    const m = mutateBytesStacked(rng, enc(s.text));
    bytes = m.value;
    mutation = `bytes: ${m.desc}`;
  }
  const file = `probe/probe.${kind}`;
  return probeCase(rng, seeds.probeModel, s.name, file, { [file]: bytes }, mutation);
}

function imageProbeCase(rng: FuzzRng, seeds: Seeds, kind: 'png' | 'jpeg'): Made {
  const s = rng.pick(kind === 'png' ? seeds.png : seeds.jpeg);
  const names = Object.keys(s.images);
  const victim = rng.pick(names);
  const m = kind === 'png' ? mutatePng(rng, s.images[victim]) : mutateJpeg(rng, s.images[victim]);
  const files: Record<string, Uint8Array> = {};
  for (const n of names) files[`probe/images/${n}`] = n === victim ? m.value : s.images[n];
  const extra = rng.chance(0.25) ? ['--on-bad-image', 'skip'] : [];
  return probeCase(
    rng,
    seeds.imageModel,
    s.name,
    'probe/images',
    files,
    `${victim}: ${m.desc}`,
    extra,
  );
}

const MAKERS: Record<ReaderName, (ctx: Context) => Made> = {
  npy: npyCase,
  npz: npzCase,
  safetensors: safetensorsCase,
  tfjs: tfjsCase,
  onnx: onnxCase,
  keras: kerasCase,
  'keras-h5': kerasH5Case,
  hdf5: hdf5Case,
  'probe-npy': probeNpyCase,
  'probe-npz': probeNpzCase,
  'probe-csv': ({ rng, seeds }) => textProbeCase(rng, seeds, 'csv'),
  'probe-jsonl': ({ rng, seeds }) => textProbeCase(rng, seeds, 'jsonl'),
  'probe-png': ({ rng, seeds }) => imageProbeCase(rng, seeds, 'png'),
  'probe-jpeg': ({ rng, seeds }) => imageProbeCase(rng, seeds, 'jpeg'),
};

/**
 * Case `index` of `reader` in the run with `seed`: the same three always give the same case.
 * `caseDir` is the absolute folder the case will run in (absolute-path escapes point into it).
 */
export function makeCase(
  seeds: Seeds,
  reader: ReaderName,
  seed: number,
  index: number,
  caseDir: string,
): FuzzCase {
  const rng = new FuzzRng(caseSeed(seed, reader, index));
  const made = MAKERS[reader]({ rng, seeds, caseDir });
  return { reader, seed, index, ...made };
}

/** An unmutated case of each seed, to check that the seeds themselves pass (the fuzzer's control). */
export function controlCases(seeds: Seeds): FuzzCase[] {
  const base = { seed: 0, index: -1, links: {}, mutation: 'none (control)' };
  const capture = (model: string, probe: string): Command => ({
    argv: [
      'capture',
      model,
      '--probe',
      probe,
      '--out',
      'out/acts.npy',
      '--quiet',
      '--backend',
      'cpu',
    ],
    command: 'capture',
    outputs: CAPTURE_OUT,
  });
  const analyze = (dump: string): Command => ({
    argv: [
      'analyze',
      dump,
      '--out',
      'out/report.json',
      '--quiet',
      '--threads',
      '1',
      '--bins',
      '10',
    ],
    command: 'analyze',
    outputs: REPORT_OUT,
  });
  const out: FuzzCase[] = [];
  for (const s of seeds.npyDumps) {
    const files: Record<string, Uint8Array> = { 'model/acts.npy': s.npy };
    if (s.sidecar !== undefined) files['model/acts.layers.json'] = enc(JSON.stringify(s.sidecar));
    out.push({ ...base, reader: 'npy', seedName: s.name, files, ...analyze('model/acts.npy') });
  }
  for (const s of seeds.npzDumps) {
    out.push({
      ...base,
      reader: 'npz',
      seedName: s.name,
      files: { 'model/acts.npz': zip(s.members, s.level) },
      ...analyze('model/acts.npz'),
    });
  }
  for (const s of seeds.safetensors) {
    out.push({
      ...base,
      reader: 'safetensors',
      seedName: s.name,
      files: { 'model/acts.safetensors': s.bytes },
      ...analyze('model/acts.safetensors'),
    });
  }
  const models: [ReaderName, ModelSeed[]][] = [
    ['tfjs', seeds.tfjs],
    ['onnx', seeds.onnx],
    ['keras', seeds.keras],
    ['keras-h5', seeds.kerasH5],
  ];
  for (const [reader, list] of models) {
    for (const s of list) {
      out.push({
        ...base,
        reader,
        seedName: s.name,
        files: modelFiles(s),
        ...capture(`model/${s.entry}`, 'probe/probe.npy'),
      });
    }
  }
  const pm = seeds.probeModel;
  const withModel = (
    m: ModelSeed,
    files: Record<string, Uint8Array>,
  ): Record<string, Uint8Array> => {
    const all = { ...files };
    for (const [k, v] of Object.entries(m.files)) all[`model/${k}`] = v;
    return all;
  };
  const probes: [ReaderName, string, Record<string, Uint8Array>][] = [
    ['probe-npy', 'probe/probe.npy', { 'probe/probe.npy': pm.probe }],
    ['probe-npz', 'probe/probe.npz', { 'probe/probe.npz': zip({ 'x.npy': pm.probe }, 6) }],
    ...seeds.csv.map((s): [ReaderName, string, Record<string, Uint8Array>] => [
      'probe-csv',
      'probe/probe.csv',
      { 'probe/probe.csv': enc(s.text) },
    ]),
    ...seeds.jsonl.map((s): [ReaderName, string, Record<string, Uint8Array>] => [
      'probe-jsonl',
      'probe/probe.jsonl',
      { 'probe/probe.jsonl': enc(s.text) },
    ]),
  ];
  for (const [reader, probe, files] of probes) {
    out.push({
      ...base,
      reader,
      seedName: probe,
      files: withModel(pm, files),
      ...capture(`model/${pm.entry}`, probe),
    });
  }
  for (const [reader, list] of [
    ['probe-png', seeds.png],
    ['probe-jpeg', seeds.jpeg],
  ] as const) {
    for (const s of list) {
      const files: Record<string, Uint8Array> = {};
      for (const [n, b] of Object.entries(s.images)) files[`probe/images/${n}`] = b;
      out.push({
        ...base,
        reader,
        seedName: s.name,
        files: withModel(seeds.imageModel, files),
        ...capture(`model/${seeds.imageModel.entry}`, 'probe/images'),
      });
    }
  }
  return out;
}
