// Trains the example models in examples/ from data/digits.csv.gz, reproducibly (fixed seeds
// for the split, colours, label noise, weight initialisation and batch order; TF.js CPU
// backend). Run with `npm run examples:train`. See examples/README.md for what each model is.
//
// Setup (docs: ../shared spec section 8): 8x8 digit images in two colour channels, 128 inputs
// (the first 64 are the "red" channel, the last 64 the "green" one; the image goes in the
// channel of its colour, the other channel is zero), pixel values scaled to [0, 1]. MLP
// 128 -> 64 -> 64 -> 64 (ReLU) -> softmax, layers named hidden1..hidden3 and output.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { encodeNpy } from '../src/core/io/npy';
import { Rng } from '../src/core/random';

const ROOT = path.resolve(__dirname, '..', '..');
const DATA = path.join(ROOT, 'data', 'digits.csv.gz');
const OUT = path.join(ROOT, 'examples');
const HELD_OUT = 600;
const PIXELS = 64;
const INPUTS = 2 * PIXELS;
const HIDDEN = 64;
const BATCH = 32;
/** `--onset`: epochs trained with random colour before the switch, and the saved epochs. */
const ONSET_SWITCH = 6;
const ONSET_EPOCHS = [2, 4, 6, 8, 10, 12];

interface Digits {
  images: Float32Array; // n x 64, scaled to [0, 1]
  digits: Int32Array;
}

function loadDigits(file: string): Digits {
  const rows = gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n');
  const images = new Float32Array(rows.length * PIXELS);
  const digits = new Int32Array(rows.length);
  rows.forEach((row, r) => {
    const cells = row.split(',').map(Number);
    if (cells.length !== PIXELS + 1)
      throw new Error(`${file}: row ${r + 1} has ${cells.length} cells, expected 65`);
    for (let p = 0; p < PIXELS; p++) images[r * PIXELS + p] = cells[p] / 16;
    digits[r] = cells[PIXELS];
  });
  return { images, digits };
}

function subset(d: Digits, idx: number[]): Digits {
  const images = new Float32Array(idx.length * PIXELS);
  idx.forEach((i, r) => images.set(d.images.subarray(i * PIXELS, (i + 1) * PIXELS), r * PIXELS));
  return { images, digits: Int32Array.from(idx, (i) => d.digits[i]) };
}

/** The two-channel encoding: the image goes in the channel of its colour (0 or 1). */
function encode(images: Float32Array, colours: ArrayLike<number>): Float32Array {
  const n = colours.length;
  const x = new Float32Array(n * INPUTS);
  for (let r = 0; r < n; r++) {
    x.set(images.subarray(r * PIXELS, (r + 1) * PIXELS), r * INPUTS + colours[r] * PIXELS);
  }
  return x;
}

function randomBits(n: number, rng: Rng, p = 0.5): Int32Array {
  return Int32Array.from({ length: n }, () => (rng.next() < p ? 1 : 0));
}

interface ExampleSpec {
  name: string;
  description: string;
  classes: number;
  /** Training labels (what the net is fitted to) and colours of the training images. */
  labels: Int32Array;
  colours: Int32Array;
  /** True-task labels of the held-out images, for the colour-decorrelated evaluation. */
  heldOutLabels: Int32Array;
  seed: number;
  epochs: number;
  /** Keep training (up to maxEpochs) until the training labels are fitted exactly. */
  untilPerfect?: { maxEpochs: number };
  /** After `afterEpoch` epochs, train on these colours instead (a mid-training data change). */
  colourSwitch?: { afterEpoch: number; colours: Int32Array };
}

function buildModel(classes: number, seed: number): tf.Sequential {
  const model = tf.sequential();
  const units = [HIDDEN, HIDDEN, HIDDEN];
  units.forEach((u, i) =>
    model.add(
      tf.layers.dense({
        name: `hidden${i + 1}`,
        units: u,
        activation: 'relu',
        inputShape: i === 0 ? [INPUTS] : undefined,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 10 + i }),
        biasInitializer: 'zeros',
      }),
    ),
  );
  model.add(
    tf.layers.dense({
      name: 'output',
      units: classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 10 + 9 }),
    }),
  );
  model.compile({ optimizer: tf.train.adam(0.002), loss: 'categoricalCrossentropy' });
  return model;
}

function accuracy(model: tf.Sequential, x: Float32Array, labels: Int32Array): number {
  return tf.tidy(() => {
    const pred = model.predict(tf.tensor2d(x, [labels.length, INPUTS])) as tf.Tensor;
    const argmax = pred.argMax(1).dataSync();
    let hits = 0;
    argmax.forEach((a, i) => (hits += a === labels[i] ? 1 : 0));
    return hits / labels.length;
  });
}

/** Called with the model before training (epoch 0) and after each epoch. */
type EpochHook = (epoch: number, model: tf.Sequential) => Promise<void>;

async function train(
  spec: ExampleSpec,
  trainImages: Float32Array,
  onEpoch?: EpochHook,
): Promise<tf.Sequential> {
  const model = buildModel(spec.classes, spec.seed);
  await onEpoch?.(0, model);
  const n = spec.labels.length;
  let x = encode(trainImages, spec.colours);
  const y = new Float32Array(n * spec.classes);
  spec.labels.forEach((l, r) => (y[r * spec.classes + l] = 1));
  const rng = new Rng(spec.seed);
  const maxEpochs = spec.untilPerfect?.maxEpochs ?? spec.epochs;
  for (let epoch = 0; epoch < maxEpochs; epoch++) {
    if (spec.colourSwitch !== undefined && epoch === spec.colourSwitch.afterEpoch) {
      x = encode(trainImages, spec.colourSwitch.colours);
    }
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let b = 0; b < n; b += BATCH) {
      const rows = order.slice(b, b + BATCH);
      const bx = new Float32Array(rows.length * INPUTS);
      const by = new Float32Array(rows.length * spec.classes);
      rows.forEach((r, k) => {
        bx.set(x.subarray(r * INPUTS, (r + 1) * INPUTS), k * INPUTS);
        by.set(y.subarray(r * spec.classes, (r + 1) * spec.classes), k * spec.classes);
      });
      const xs = tf.tensor2d(bx, [rows.length, INPUTS]);
      const ys = tf.tensor2d(by, [rows.length, spec.classes]);
      await model.trainOnBatch(xs, ys);
      xs.dispose();
      ys.dispose();
    }
    await onEpoch?.(epoch + 1, model);
    if (epoch + 1 >= spec.epochs && spec.untilPerfect && accuracy(model, x, spec.labels) === 1) {
      break;
    }
  }
  return model;
}

async function save(model: tf.Sequential, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      if (weightData === undefined || artifacts.weightSpecs === undefined) {
        throw new Error('model has no weights');
      }
      const buffers = Array.isArray(weightData) ? weightData : [weightData];
      const bytes = Buffer.concat(buffers.map((b) => Buffer.from(b)));
      writeFileSync(path.join(dir, 'weights.bin'), bytes);
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const all = loadDigits(DATA);
  const split = new Rng(20221);
  const order = Array.from({ length: all.digits.length }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = split.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const heldOut = subset(all, order.slice(0, HELD_OUT));
  const trainSet = subset(all, order.slice(HELD_OUT));
  const n = trainSet.digits.length;
  const rng = new Rng(5);

  // Held-out images: the probe (colour random, unlabelled) and the colour-decorrelated
  // evaluation (the same images with an independent random colour, labelled).
  const probeColours = randomBits(HELD_OUT, rng);
  const evalColours = randomBits(HELD_OUT, rng);
  const probe = encode(heldOut.images, probeColours);
  const evalX = encode(heldOut.images, evalColours);

  const trueDigits = trainSet.digits;
  const randomColour = randomBits(n, rng);
  const randomLabels = Int32Array.from({ length: n }, () => rng.int(10));
  const low = (d: number): number => (d < 5 ? 1 : 0);
  const flip = randomBits(n, rng, 0.25);
  const noisyBinary = Int32Array.from(trueDigits, (d, i) => low(d) ^ flip[i]);
  const binaryColourRandom = randomBits(n, rng);
  const heldOutBinary = Int32Array.from(heldOut.digits, low);

  const specs: ExampleSpec[] = [
    {
      name: 'generalising',
      description: '10 classes, true labels, colour random',
      classes: 10,
      labels: trueDigits,
      colours: randomColour,
      heldOutLabels: heldOut.digits,
      seed: 1,
      epochs: 60,
    },
    {
      name: 'random-labels',
      description:
        '10 classes, every label replaced at random, trained to 100% train accuracy, colour random',
      classes: 10,
      labels: randomLabels,
      colours: randomColour,
      heldOutLabels: heldOut.digits,
      seed: 1,
      epochs: 60,
      untilPerfect: { maxEpochs: 3000 },
    },
    {
      name: 'shortcut-baseline',
      description: 'binary digit < 5, 25% labels flipped, colour random (alpha 0)',
      classes: 2,
      labels: noisyBinary,
      colours: binaryColourRandom,
      heldOutLabels: heldOutBinary,
      seed: 2,
      epochs: 60,
    },
    {
      name: 'shortcut',
      description: 'binary digit < 5, 25% labels flipped, colour equals the noisy label (alpha 1)',
      classes: 2,
      labels: noisyBinary,
      colours: noisyBinary,
      heldOutLabels: heldOutBinary,
      seed: 2,
      epochs: 60,
    },
  ];

  // `--sweep <dir>`: the model-selection cohort of spec section 8 item 4 instead (not
  // committed: a dozen binary models over alpha and seeds, with their OOD accuracy).
  const sweepAt = process.argv.indexOf('--sweep');
  if (sweepAt >= 0) {
    const dir = path.resolve(process.argv[sweepAt + 1] ?? path.join(ROOT, 'out', 'alpha-sweep'));
    const sweepRng = new Rng(77);
    const sweep: ExampleSpec[] = [];
    for (const [alpha, seeds] of [
      [0, [1, 2, 3]],
      [0.25, [1, 2]],
      [0.5, [1, 2]],
      [0.75, [1, 2]],
      [1, [1, 2, 3]],
    ] as const) {
      for (const seed of seeds) {
        const e = (1 - alpha) / 2;
        sweep.push({
          name: `alpha-${alpha.toFixed(2)}-seed-${seed}`,
          description: `binary digit < 5, 25% flipped, colour = label XOR Bernoulli(${e})`,
          classes: 2,
          labels: noisyBinary,
          colours: Int32Array.from(noisyBinary, (l) => l ^ (sweepRng.next() < e ? 1 : 0)),
          heldOutLabels: heldOutBinary,
          seed: 100 + seed,
          epochs: 60,
        });
      }
    }
    await trainAll(sweep, dir, trainSet.images, evalX);
    return;
  }
  // `--checkpoints <model> [dir]`: retrain one example model, saving checkpoints at a few
  // epochs (dir/epoch-N) for a trajectory (`memlens compare dir`); not committed.
  const ckptAt = process.argv.indexOf('--checkpoints');
  if (ckptAt >= 0) {
    const spec = specs.find((s) => s.name === process.argv[ckptAt + 1]);
    if (spec === undefined)
      throw new Error(`--checkpoints: expected one of ${specs.map((s) => s.name).join(', ')}`);
    const dir = path.resolve(
      process.argv[ckptAt + 2] ?? path.join(ROOT, 'out', `${spec.name}-checkpoints`),
    );
    const at = new Set([0, 1, 2, 3, 5, 10, 20, 40, 60]);
    const model = await train(spec, trainSet.images, async (epoch, m) => {
      if (at.has(epoch)) await save(m, path.join(dir, `epoch-${epoch}`));
    });
    model.dispose();
    console.log(`checkpoints of ${spec.name} in ${dir}`);
    return;
  }
  // `--onset [dir]`: the committed trajectory examples/shortcut-onset (see examples/README.md):
  // the shortcut-baseline labels, seed and batch order, but after ONSET_SWITCH epochs the
  // colour equals the noisy label (alpha 0 -> 1, a data pipeline change mid-training).
  const onsetAt = process.argv.indexOf('--onset');
  if (onsetAt >= 0) {
    const dir = path.resolve(process.argv[onsetAt + 1] ?? path.join(OUT, 'shortcut-onset'));
    const base = specs.find((s) => s.name === 'shortcut-baseline')!;
    const spec: ExampleSpec = {
      ...base,
      name: 'shortcut-onset',
      description: `${base.description}; from epoch ${ONSET_SWITCH + 1} on colour = label (alpha 1)`,
      epochs: Math.max(...ONSET_EPOCHS),
      colourSwitch: { afterEpoch: ONSET_SWITCH, colours: noisyBinary },
    };
    const model = await train(spec, trainSet.images, async (epoch, m) => {
      if (!ONSET_EPOCHS.includes(epoch)) return;
      await save(m, path.join(dir, `epoch-${epoch}`));
      const oodAcc = accuracy(m, evalX, spec.heldOutLabels);
      console.log(`epoch-${epoch}: colour-decorrelated held-out acc ${oodAcc.toFixed(3)}`);
    });
    model.dispose();
    console.log(`checkpoints of ${spec.name} in ${dir}`);
    return;
  }
  await trainAll(specs, OUT, trainSet.images, evalX);
  writeFileSync(path.join(OUT, 'probe.npy'), encodeNpy(probe, [HELD_OUT, INPUTS]));
}

/** Trains and saves each model into `dir/<name>`, and writes `dir/ood.csv` (model,metric). */
async function trainAll(
  specs: ExampleSpec[],
  dir: string,
  trainImages: Float32Array,
  evalX: Float32Array,
): Promise<void> {
  const csv = ['model,metric'];
  for (const spec of specs) {
    const started = Date.now();
    const model = await train(spec, trainImages);
    const trainAcc = accuracy(model, encode(trainImages, spec.colours), spec.labels);
    const oodAcc = accuracy(model, evalX, spec.heldOutLabels);
    await save(model, path.join(dir, spec.name));
    model.dispose();
    csv.push(`${spec.name},${oodAcc.toFixed(4)}`);
    console.log(
      `${spec.name.padEnd(18)} train acc ${trainAcc.toFixed(3)}  colour-decorrelated held-out acc ${oodAcc.toFixed(3)}  (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'ood.csv'), csv.join('\n') + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
