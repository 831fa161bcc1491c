import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { runCapture } from '../../src/cli/commands/capture';
import { runLayers } from '../../src/cli/commands/layers';
import { fileSystemHandler } from '../../src/core/capture/tfjs/fsHandler';
import { loadActivationDump } from '../../src/core/dumps/loadDump';
import { UserError } from '../../src/core/errors';
import { encodeNpy, parseNpy } from '../../src/core/io/npy';
import { affine, randn, relu, tempDir } from '../fixtures/capture/helpers';

const tmp = tempDir();
after(tmp.cleanup);
const signal = new AbortController().signal;
const modelFile = path.join(tmp.dir, 'model', 'model.json');
const probeFile = path.join(tmp.dir, 'probe.npy');
const S = 40;
const w1 = randn(61, 3, 4);
const b1 = randn(62, 1, 4);
const w2 = randn(63, 4, 2);
const b2 = randn(64, 1, 2);
const x = randn(65, S, 3);

/** Runs a verb, returning its exit code and what it printed. */
async function run(
  verb: 'capture' | 'layers',
  args: string[],
): Promise<{ code: number; out: string }> {
  let out = '';
  const write = (text: string): void => {
    out += text;
  };
  const code =
    verb === 'capture' ? await runCapture(args, signal, write) : await runLayers(args, write);
  return { code, out };
}

before(async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu', name: 'h1' }),
      tf.layers.dense({ units: 2, activation: 'relu', name: 'h2' }),
      tf.layers.dense({ units: 2, name: 'logits' }),
    ],
  });
  model.layers[0].setWeights([tf.tensor(w1, [3, 4]), tf.tensor(b1, [4])]);
  model.layers[1].setWeights([tf.tensor(w2, [4, 2]), tf.tensor(b2, [2])]);
  await model.save(fileSystemHandler(modelFile));
  model.dispose();
  writeFileSync(probeFile, encodeNpy(x, [S, 3]));
});

/** `memlens capture` of the model's folder on the cpu backend to `out`, quietly. */
const captureOnCpu = (out: string, extra: string[]) =>
  run('capture', [
    path.dirname(modelFile),
    '--probe',
    probeFile,
    '--out',
    out,
    '--backend',
    'cpu',
    ...extra,
    '--quiet',
  ]);

void describe('memlens capture / layers', () => {
  void it('writes an S x N float32 .npy and a sidecar that the dump loader reads back', async () => {
    const out = path.join(tmp.dir, 'acts.npy');
    const { code, out: text } = await captureOnCpu(out, ['--batch', '16']);
    assert.equal(code, 0);
    assert.match(text, /backend cpu/);
    const npy = parseNpy(new Uint8Array(readFileSync(out)), out);
    assert.equal(npy.dtype, 'f4');
    assert.deepEqual(npy.shape, [S, 6]);
    const pre1 = affine(x, w1, b1, S, 3, 4);
    const pre2 = affine(relu(pre1), w2, b2, S, 4, 2);
    for (let s = 0; s < S; s++) {
      for (let j = 0; j < 4; j++)
        assert.ok(Math.abs((npy.data[s * 6 + j] as number) - pre1[s * 4 + j]) < 1e-5);
      for (let j = 0; j < 2; j++)
        assert.ok(Math.abs((npy.data[s * 6 + 4 + j] as number) - pre2[s * 2 + j]) < 1e-5);
    }
    const side = JSON.parse(readFileSync(path.join(tmp.dir, 'acts.layers.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(side.backend, 'cpu');
    assert.equal(side.point, 'preactivation');
    assert.deepEqual(side.layers, [
      { name: 'h1', start: 0, end: 4, point: 'preactivation', reduction: 'none' },
      { name: 'h2', start: 4, end: 6, point: 'preactivation', reduction: 'none' },
    ]);
    const acts = await loadActivationDump(out);
    assert.deepEqual(
      acts.layers.map((l) => l.name),
      ['h1', 'h2'],
    );
  });

  void it('takes --batch-size as analyze does: 0 refused, 5 captures the same values', async () => {
    const out = path.join(tmp.dir, 'acts-batch-size.npy');
    const withBatchSize = (n: string) => captureOnCpu(out, ['--batch-size', n]);
    const { code } = await withBatchSize('0').catch((err: Error) => ({
      code: -1,
      out: err.message,
    }));
    // 0 is refused by the same check as --batch 0: the flag is read, not ignored.
    assert.notEqual(code, 0);
    const ok = await withBatchSize('5');
    assert.equal(ok.code, 0);
    const npy = parseNpy(new Uint8Array(readFileSync(out)), out);
    const pre1 = affine(x, w1, b1, S, 3, 4);
    for (let s = 0; s < S; s++)
      for (let j = 0; j < 4; j++)
        assert.ok(Math.abs((npy.data[s * 6 + j] as number) - pre1[s * 4 + j]) < 1e-5);
  });

  void it('records the seeded subset; the same seed gives the same rows', async () => {
    const args = (o: string) => [
      modelFile,
      '--probe',
      probeFile,
      '--out',
      o,
      '--samples',
      '10',
      '--seed',
      '7',
      '--layers',
      'h2',
      '--point',
      'output',
      '--quiet',
    ];
    await run('capture', args(path.join(tmp.dir, 'a.npy')));
    await run('capture', args(path.join(tmp.dir, 'b.npy')));
    const a = JSON.parse(readFileSync(path.join(tmp.dir, 'a.layers.json'), 'utf8')) as {
      probe: { sampleIndices: number[] };
    };
    assert.equal(a.probe.sampleIndices.length, 10);
    assert.deepEqual(
      readFileSync(path.join(tmp.dir, 'a.npy')),
      readFileSync(path.join(tmp.dir, 'b.npy')),
    );
    const npy = parseNpy(new Uint8Array(readFileSync(path.join(tmp.dir, 'a.npy'))), 'a');
    const out2 = relu(affine(relu(affine(x, w1, b1, S, 3, 4)), w2, b2, S, 4, 2));
    a.probe.sampleIndices.forEach((k, i) => {
      for (let j = 0; j < 2; j++)
        assert.ok(Math.abs((npy.data[i * 2 + j] as number) - out2[k * 2 + j]) < 1e-5);
    });
  });

  void it('leaves no output behind on bad input', async () => {
    const out = path.join(tmp.dir, 'bad.npy');
    const nanProbe = path.join(tmp.dir, 'nan.npy');
    writeFileSync(nanProbe, encodeNpy(Float32Array.from([1, 2, NaN]), [1, 3]));
    const cases: [string[], RegExp][] = [
      [['--layers', 'h1,h9'], /unknown layer 'h9': expected one of h1, h2, logits/],
      [['--point', 'post'], /--point: expected one of preactivation, output, found 'post'/],
      [['--samples', 'many'], /--samples: expected an integer >= 1, found 'many'/],
      [['--backend', 'gpu'], /--backend: expected one of tfjs-node, wasm, cpu, found 'gpu'/],
    ];
    for (const [extra, pattern] of cases) {
      await assert.rejects(
        run('capture', [modelFile, '--probe', probeFile, '--out', out, ...extra]),
        (e: unknown) => e instanceof UserError && pattern.test(e.message),
      );
    }
    await assert.rejects(
      run('capture', [modelFile, '--probe', nanProbe, '--out', out]),
      /found NaN in example 0 \(value 2\)/,
    );
    await assert.rejects(
      run('capture', [modelFile, '--probe', probeFile, '--out', path.join(tmp.dir, 'x.csv')]),
      /expected --out <file\.npy>, found '.*x\.csv'/,
    );
    await assert.rejects(
      run('capture', [
        modelFile,
        '--probe',
        probeFile,
        '--out',
        path.join(tmp.dir, 'nope', 'a.npy'),
      ]),
      /cannot write output \(ENOENT\)/,
    );
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(path.join(tmp.dir, 'bad.layers.json')), false);
  });

  void it('lists layers as a table and as JSON', async () => {
    const table = await run('layers', [modelFile, '--backend', 'cpu']);
    assert.match(table.out, /h1\s+Dense\s+\[\?, 4\]\s+relu\s+yes/);
    assert.match(table.out, /logits\s+Dense\s+\[\?, 2\]\s+-\s+no/);
    const json = JSON.parse((await run('layers', [modelFile, '--json'])).out) as {
      inputShape: unknown;
      layers: { name: string; measuredByDefault: boolean }[];
    };
    assert.deepEqual(json.inputShape, [null, 3]);
    assert.deepEqual(
      json.layers.map((l) => [l.name, l.measuredByDefault]),
      [
        ['h1', true],
        ['h2', true],
        ['logits', false],
      ],
    );
  });
});
