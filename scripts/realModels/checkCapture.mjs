// Checks a `memlens capture` dump of a real model against an independent run: TF.js
// graph-models (captured with --point output) through tfjs-node's own `execute` of the node
// names; ONNX models (captured at the default point, preactivation: each node's own output)
// through onnxruntime-node on a copy that the `onnx` Python package (not MemLens) gives those
// tensors as graph outputs. Both sides are reduced the same documented way (4-D: mean over the
// spatial axes, NHWC for TF.js unless the node says NCHW, NCHW for ONNX; 2-D as is) and the
// largest difference is printed per layer, relative to the layer's largest |value|.
//
//   memlens capture model.json --probe probe.npy --out dump.npy --point output   (TF.js)
//   memlens capture model.onnx --probe probe.npy --out dump.npy                  (ONNX)
//   node scripts/realModels/checkCapture.mjs model.json|model.onnx probe.npy dump.npy
//
// Only top-level graph nodes are checked (not If/Loop bodies); run after `npm ci`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const [model, probeFile, dumpFile] = process.argv.slice(2);
if (dumpFile === undefined) {
  console.error('usage: checkCapture.mjs <model.json|model.onnx> <probe.npy> <dump.npy>');
  process.exit(2);
}

/** A little-endian C-order float32 .npy: its shape and values. */
function readNpy(file) {
  const bytes = readFileSync(file);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  if (!header.includes("'<f4'") || header.includes("'fortran_order': True"))
    throw new Error(`${file}: expected a C-order float32 .npy, found ${header.trim()}`);
  const shape = header
    .match(/'shape': \(([^)]*)\)/)[1]
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(Number);
  const body = bytes.subarray(10 + headerLength);
  const data = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  return { shape, data };
}

/** Per example, the reduced values of one output tensor (dims batch first). */
function reduce(values, dims, channelsLast) {
  const [n, ...rest] = dims;
  const size = rest.reduce((a, b) => a * b, 1);
  if (rest.length === 1) return { width: rest[0], values: Float64Array.from(values) };
  if (rest.length !== 3) throw new Error(`rank ${dims.length} is not checked here`);
  const [c, spatial] = channelsLast ? [rest[2], rest[0] * rest[1]] : [rest[0], rest[1] * rest[2]];
  const out = new Float64Array(n * c);
  for (let s = 0; s < n; s++)
    for (let p = 0; p < spatial; p++)
      for (let j = 0; j < c; j++) {
        const at = s * size + (channelsLast ? p * c + j : j * spatial + p);
        out[s * c + j] += values[at] / spatial;
      }
  return { width: c, values: out };
}

const probe = readNpy(probeFile);
const dump = readNpy(dumpFile);
const sidecar = JSON.parse(readFileSync(dumpFile.replace(/\.npy$/, '.layers.json'), 'utf8'));
const [samples, neurons] = dump.shape;
const wanted = model.endsWith('.onnx') ? 'preactivation' : 'output';
if (sidecar.point !== wanted)
  throw new Error(`${dumpFile}: expected a capture at point ${wanted}, found ${sidecar.point}`);
const rows = sidecar.probe?.sampleIndices ?? Array.from({ length: samples }, (_, i) => i);
const exampleSize = probe.shape.slice(1).reduce((a, b) => a * b, 1);
const batch = new Float32Array(samples * exampleSize);
rows.forEach((r, i) =>
  batch.set(probe.data.subarray(r * exampleSize, (r + 1) * exampleSize), i * exampleSize),
);

/** name -> { dims, values } of every layer, from the independent run. */
async function runIndependently(names) {
  if (model.endsWith('.onnx')) {
    const ort = await import('onnxruntime-node');
    const dir = mkdtempSync(path.join(tmpdir(), 'memlens-check-'));
    try {
      const edited = path.join(dir, 'with-outputs.onnx');
      // Debian's python3-onnx lives under /usr/bin/python3 (not a pyenv python3 on PATH).
      const py = spawnSync(
        process.env.PYTHON ?? '/usr/bin/python3',
        [
          '-c',
          `import onnx, sys, json
m = onnx.load(sys.argv[1]); names = json.loads(sys.argv[3])
outs = {n.name: n.output[0] for n in m.graph.node if n.name in names}
known = {o.name for o in m.graph.output}
for t in outs.values():
    if t not in known: m.graph.output.append(onnx.ValueInfoProto(name=t))
onnx.save(m, sys.argv[2]); print(json.dumps(outs))`,
          model,
          edited,
          JSON.stringify(names),
        ],
        { encoding: 'utf8', maxBuffer: 1 << 26 },
      );
      if (py.status !== 0) throw new Error(py.stderr);
      const tensorOf = JSON.parse(py.stdout);
      const session = await ort.InferenceSession.create(edited);
      const input = session.inputNames[0];
      const result = {};
      // One example at a time: the shape a batch-1 export accepts, and bounded memory.
      for (let s = 0; s < samples; s++) {
        const x = new ort.Tensor('float32', batch.slice(s * exampleSize, (s + 1) * exampleSize), [
          1,
          ...probe.shape.slice(1),
        ]);
        const out = await session.run({ [input]: x });
        for (const name of names) {
          const t = out[tensorOf[name]];
          const data = t.type === 'float16' ? Float32Array.from(t.data, halfToFloat) : t.data;
          const r = reduce(data, t.dims, false);
          (result[name] ??= { width: r.width, values: [] }).values.push(...r.values);
        }
      }
      return result;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const tf = await import('@tensorflow/tfjs-node');
  const graph = await tf.loadGraphModel(tf.io.fileSystem(model));
  const nodes = JSON.parse(readFileSync(model, 'utf8')).modelTopology.node;
  const nchw = new Set(
    nodes.filter((n) => JSON.stringify(n.attr ?? {}).includes('TkNIVw')).map((n) => n.name),
  );
  const fixed = graph.inputs[0].shape[0];
  const step = fixed > 0 ? fixed : samples;
  const result = {};
  for (let s = 0; s < samples; s += step) {
    const part = batch.slice(s * exampleSize, (s + step) * exampleSize);
    const padded = new Float32Array(step * exampleSize);
    padded.set(part);
    // An int32 image input takes the [0, 1] probe as 0-255 pixels, rounded (docs/cli.md).
    const int = graph.inputs[0].dtype === 'int32';
    const x = int
      ? tf.tensor(
          Int32Array.from(padded, (v) => Math.round(v * 255)),
          [step, ...probe.shape.slice(1)],
          'int32',
        )
      : tf.tensor(padded, [step, ...probe.shape.slice(1)]);
    const outs = [graph.execute(x, names)].flat();
    names.forEach((name, i) => {
      const t = outs[i];
      const r = reduce(t.dataSync(), t.shape, !nchw.has(name));
      const kept = r.values.subarray(0, Math.min(step, samples - s) * r.width);
      (result[name] ??= { width: r.width, values: [] }).values.push(...kept);
    });
    tf.dispose([x, ...outs]);
  }
  return result;
}

/** An IEEE binary16 bit pattern as a number. */
function halfToFloat(h) {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const v =
    e === 0 ? m * 2 ** -24 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -v : v;
}

const layers = sidecar.layers;
const reference = await runIndependently(layers.map((l) => l.name));
let worstAll = 0;
for (const l of layers) {
  const ref = reference[l.name];
  const width = l.end - l.start;
  if (ref.width !== width)
    throw new Error(`${l.name}: width ${width} in the dump, ${ref.width} here`);
  let worst = 0;
  let scale = 0;
  for (let s = 0; s < samples; s++)
    for (let j = 0; j < width; j++) {
      const mine = dump.data[s * neurons + l.start + j];
      const theirs = ref.values[s * width + j];
      worst = Math.max(worst, Math.abs(mine - theirs));
      scale = Math.max(scale, Math.abs(theirs));
    }
  const relative = worst / Math.max(scale, 1e-30);
  worstAll = Math.max(worstAll, relative);
  console.log(
    `${l.name}\twidth ${width}\tmax |diff| ${worst.toExponential(2)}\trelative ${relative.toExponential(2)}`,
  );
}
console.log(
  `${layers.length} layers, ${samples} examples: worst relative difference ${worstAll.toExponential(2)}`,
);
