// ONNX and PyTorch captures over `memlens capture --memory-budget` stream their rows into the
// .npy as TF.js captures do (captureStream.test.ts): the streamed file is the in-memory
// capture's byte for byte, and a non-finite activation in a later batch (an overflow) or a
// cancelled run leaves no output (an existing one untouched), no sidecar and no temporary
// file. The PyTorch model runs in Debian's python3-torch (MEMLENS_TEST_PYTHON names another).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCapture } from '../../src/cli/commands/capture';
import { encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import { CancelledError, UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { randn, tempDir } from '../fixtures/capture/helpers';
import { mlpModel } from '../fixtures/capture/onnxModels';
import { skipWithout } from '../fixtures/optionalDeps';

const python = process.env.MEMLENS_TEST_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

const tmp = tempDir('memlens-stream-formats-');
after(tmp.cleanup);
const at = (name: string): string => path.join(tmp.dir, name);
/** Examples of the byte-for-byte and NaN probes: seven batches of 8, the last one short. */
const S = 53;
/** Examples of the cancelled run's probe: enough batches that the abort lands half way. */
const LONG = 4000;

/** The hidden files of the temp folder: temporary files left behind. */
function leftovers(): string[] {
  return readdirSync(tmp.dir).filter((f) => f.startsWith('.'));
}

/**
 * Writes an S x `width` probe, seeded; example `hugeAt`, when given, is 3e38 throughout: finite,
 * but the first layer's float32 sums overflow on it.
 */
function writeProbe(name: string, samples: number, width: number, hugeAt?: number): string {
  const x = randn(5, samples, width);
  if (hugeAt !== undefined) x.fill(3e38, hugeAt * width, (hugeAt + 1) * width);
  writeFileSync(at(name), encodeNpy(x, [samples, width]));
  return at(name);
}

/**
 * The byte-for-byte, NaN and cancel checks of one model: `args` are its capture flags after
 * the model, probe and output; the probes are S (or LONG) x `width`.
 */
function streamChecks(
  label: string,
  model: string,
  width: number,
  skip: string | false,
  args: readonly string[] = [],
): void {
  const flags = (probe: string, out: string): string[] => [
    model,
    '--probe',
    probe,
    '--out',
    out,
    '--batch',
    '8',
    '--quiet',
    ...args,
  ];

  void it(
    `${label}: a streamed capture writes the in-memory capture's bytes`,
    { skip },
    async () => {
      const probe = writeProbe(`${label}-probe.npy`, S, width);
      const said: string[] = [];
      for (const [out, budget] of [
        ['whole', '1024'],
        ['streamed', '0.001'],
      ]) {
        let text = '';
        const code = await runCapture(
          [...flags(probe, at(`${label}-${out}.npy`)), '--memory-budget', budget],
          new AbortController().signal,
          (t) => (text += t),
        );
        assert.equal(code, 0);
        said.push(text);
      }
      assert.doesNotMatch(said[0], /streamed/);
      assert.match(said[1], /streamed batch by batch/);
      const whole = readFileSync(at(`${label}-whole.npy`));
      assert.ok(readFileSync(at(`${label}-streamed.npy`)).equals(whole), 'byte for byte');
      assert.equal(
        readFileSync(at(`${label}-streamed.layers.json`), 'utf8'),
        readFileSync(at(`${label}-whole.layers.json`), 'utf8').replace('whole', 'streamed'),
      );
      assert.deepEqual(leftovers(), []);
    },
  );

  void it(
    `${label}: a non-finite activation in a later batch leaves the old output and no temporary file`,
    { skip },
    async () => {
      // Example 40 is in the sixth batch of 8: five batches are on disk by then.
      const probe = writeProbe(`${label}-huge.npy`, S, width, 40);
      const out = at(`${label}-kept.npy`);
      writeFileSync(out, 'the old output');
      await assert.rejects(
        runCapture(
          [...flags(probe, out), '--memory-budget', '0'],
          new AbortController().signal,
          () => undefined,
        ),
        (err: unknown) =>
          err instanceof UserError &&
          /produced (NaN|-?Infinity) on probe example 40 \(neuron \d+\) from finite probe values: the model computes it/.test(
            err.message,
          ) &&
          !err.message.includes('\n'),
      );
      assert.equal(readFileSync(out, 'utf8'), 'the old output');
      assert.equal(existsSync(at(`${label}-kept.layers.json`)), false);
      assert.deepEqual(leftovers(), []);
    },
  );

  void it(
    `${label}: a run cancelled half way leaves no output and no temporary file`,
    { skip },
    async () => {
      const probe = writeProbe(`${label}-long.npy`, LONG, width);
      const out = at(`${label}-cancelled.npy`);
      const controller = new AbortController();
      // Cancels once the temporary file holds rows (more than the 128-byte header).
      const poll = setInterval(() => {
        const part = readdirSync(tmp.dir).find((f) => f.startsWith(`.${path.basename(out)}.`));
        const size =
          part === undefined ? undefined : statSync(at(part), { throwIfNoEntry: false })?.size;
        if (size !== undefined && size > 128) controller.abort();
      }, 1);
      try {
        await assert.rejects(
          runCapture(
            [...flags(probe, out), '--memory-budget', '0'],
            controller.signal,
            () => undefined,
          ),
          CancelledError,
        );
      } finally {
        clearInterval(poll);
      }
      assert.equal(controller.signal.aborted, true);
      assert.equal(existsSync(out), false);
      assert.equal(existsSync(at(`${label}-cancelled.layers.json`)), false);
      assert.deepEqual(leftovers(), []);
    },
  );
}

/**
 * A pickled nn.Sequential 5 -> 7 (tanh) -> 3 (relu) -> 2, layers 0 and 2 measured by default;
 * the first weights scaled up so that 3e38 inputs overflow.
 */
const TORCH_MODEL = `
import sys, torch
from torch import nn
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3), nn.ReLU(), nn.Linear(3, 2))
net[0].weight.data.mul_(10)
torch.save(net, sys.argv[1])
`;

void describe('memlens capture --memory-budget, ONNX and PyTorch', () => {
  before(() => {
    writeFileSync(at('mlp.onnx'), encodeOnnxModel(mlpModel()));
    if (hasTorch) {
      const made = spawnSync(python, ['-c', TORCH_MODEL, at('mlp.pt')], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
    }
  });

  streamChecks('onnx', at('mlp.onnx'), 3, false);
  streamChecks('torch', at('mlp.pt'), 5, skipWithout('python3-torch', hasTorch), [
    '--python',
    python,
  ]);
});
