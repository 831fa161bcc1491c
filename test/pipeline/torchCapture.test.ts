// PyTorch models in every way training scripts save them, run in a real Python with torch
// (Debian's python3-torch; MEMLENS_TEST_PYTHON names another), each checked against the
// activations PyTorch's own forward hooks give (test/fixtures/torch/make_models.py).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OpenModelOptions } from '../../src/core/capture/format';
import {
  modelContentFiles,
  modelName,
  openModel,
  resolveModel,
} from '../../src/core/capture/registry';
import { CancelledError } from '../../src/core/errors';
import { parseNpy, toFloat64 } from '../../src/core/io/npy';
import { parseNpz } from '../../src/core/io/npz';
import type { ProbeSet } from '../../src/core/probe/types';
import { assertColumns, probeOf, rejectsWith, tempDir } from '../fixtures/capture/helpers';

const python = process.env.MEMLENS_TEST_PYTHON ?? '/usr/bin/python3';
const tmp = tempDir('memlens-torch-');
after(tmp.cleanup);
const at = (name: string): string => path.join(tmp.dir, name);
let expected: Map<string, Float64Array>;

before(() => {
  execFileSync(
    python,
    [path.resolve(__dirname, '../../test/fixtures/torch/make_models.py'), tmp.dir],
    {
      stdio: 'ignore',
    },
  );
  expected = new Map(
    parseNpz(readFileSync(at('expected.npz')), 'expected.npz').map((a) => [
      a.name,
      toFloat64(a.array.data),
    ]),
  );
});

function probe(name: string): ProbeSet {
  const a = parseNpy(readFileSync(at(name)), name);
  return probeOf(Float32Array.from(toFloat64(a.data)), a.shape);
}

const opts = (p: ProbeSet, extra: Partial<OpenModelOptions> = {}): OpenModelOptions => ({
  probe: p,
  python,
  searchPaths: [tmp.dir],
  ...extra,
});

/** Opens, captures the layers at the point, and checks each against PyTorch's hooks. */
async function checkCapture(
  file: string,
  p: ProbeSet,
  layers: [string, string][],
  point: 'preactivation' | 'output' = 'preactivation',
  extra: Partial<OpenModelOptions> = {},
): Promise<void> {
  const handle = await openModel(at(file), opts(p, extra));
  try {
    const result = await handle.capture(p, { layers: layers.map(([l]) => l), point, batchSize: 7 });
    for (const [i, slice] of result.acts.layers.entries()) {
      const want = expected.get(layers[i][1]);
      assert.ok(want, layers[i][1]);
      const width = slice.end - slice.start;
      assert.equal(want.length, p.shape[0] * width, slice.name);
      assertColumns(result.acts, slice.start, want, width, 1e-5);
    }
  } finally {
    handle.dispose();
  }
}

void describe("PyTorch models through the user's Python", () => {
  void it('a state_dict with a factory: module names, shapes, the default layers, hooks to 1e-5', async () => {
    const p = probe('mlp-probe.npy');
    assert.equal((await resolveModel(at('mlp_state.pt'))).format.id, 'torch');
    const handle = await openModel(at('mlp_state.pt'), opts(p, { torchFactory: 'nets:make_mlp' }));
    try {
      assert.equal(handle.format, 'torch');
      assert.match(handle.backend, /^torch \d/);
      assert.deepEqual(
        handle.layers.map((l) => [
          l.name,
          l.type,
          l.outputShape,
          l.activation,
          l.measuredByDefault,
        ]),
        [
          ['fc1', 'Linear', [null, 8], null, true],
          ['act1', 'ReLU', [null, 8], null, false],
          ['fc2', 'Linear', [null, 5], null, true],
          ['head', 'Linear', [null, 3], null, false],
        ],
      );
    } finally {
      handle.dispose();
    }
    await checkCapture(
      'mlp_state.pt',
      p,
      [
        ['fc1', 'mlp/fc1'],
        ['fc2', 'mlp/fc2'],
      ],
      'preactivation',
      {
        torchFactory: 'nets:make_mlp',
      },
    );
    // Outside a Sequential no activation module is known to follow: a module's output is its own.
    await checkCapture('mlp_state.pt', p, [['act1', 'mlp/act1']], 'output', {
      torchFactory: 'nets:Mlp',
    });
  });

  for (const file of ['mlp_ckpt.pth', 'mlp_lightning.ckpt', 'mlp_legacy.pt']) {
    void it(`a checkpoint saved as ${file}`, async () => {
      await checkCapture(
        file,
        probe('mlp-probe.npy'),
        [
          ['fc1', 'mlp/fc1'],
          ['fc2', 'mlp/fc2'],
        ],
        'preactivation',
        {
          torchFactory: 'nets:make_mlp',
        },
      );
    });
  }

  void it('a pickled module (its class from the model folder), and TorchScript, scripted and traced', async () => {
    const p = probe('mlp-probe.npy');
    for (const file of ['mlp_module.pt', 'mlp_scripted.pt', 'mlp_traced.pt'])
      await checkCapture(file, p, [
        ['fc1', 'mlp/fc1'],
        ['fc2', 'mlp/fc2'],
      ]);
    const scripted = await openModel(at('mlp_scripted.pt'), opts(p));
    try {
      assert.deepEqual(
        scripted.layers.filter((l) => l.measuredByDefault).map((l) => [l.name, l.type]),
        [
          ['fc1', 'Linear'],
          ['fc2', 'Linear'],
        ],
      );
    } finally {
      scripted.dispose();
    }
  });

  void it('a conv net: maps pooled per channel; --point output takes the ReLU after the Conv', async () => {
    const p = probe('conv-probe.npy');
    await checkCapture('conv_module.pt', p, [
      ['features.0', 'conv/features.0'],
      ['fc', 'conv/fc'],
    ]);
    await checkCapture('conv_module.pt', p, [['features.0', 'conv/features.1']], 'output');
  });

  void it('an nn.TransformerEncoder: each layer at its first token', async () => {
    await checkCapture(
      'enc_state.pt',
      probe('enc-probe.npy'),
      [
        ['proj', 'enc/proj'],
        ['encoder.layers.0', 'enc/encoder.layers.0'],
        ['encoder.layers.1', 'enc/encoder.layers.1'],
      ],
      'preactivation',
      { torchFactory: 'nets:Encoder' },
    );
  });
});

void describe('a Hugging Face save_pretrained folder, through transformers', () => {
  void it('measures each block at its first token; without transformers says so', async () => {
    const folder = at('bert-ckpt');
    const p = probe('ids-probe.npy');
    assert.equal((await resolveModel(folder)).format.id, 'torch');
    assert.equal(modelName(folder), 'bert-ckpt');
    assert.deepEqual(
      (await modelContentFiles(folder)).map((f) => path.basename(f)),
      ['config.json', 'model.safetensors'],
    );
    const withHf = { searchPaths: [at('hfpath')] };
    const handle = await openModel(folder, opts(p, withHf));
    try {
      assert.deepEqual(
        handle.layers.filter((l) => l.measuredByDefault).map((l) => [l.name, l.outputShape]),
        [
          ['encoder.layer.0', [null, 6, 8]],
          ['encoder.layer.1', [null, 6, 8]],
        ],
      );
    } finally {
      handle.dispose();
    }
    await checkCapture(
      'bert-ckpt',
      p,
      [
        ['encoder.layer.0', 'hf/encoder.layer.0'],
        ['encoder.layer.1', 'hf/encoder.layer.1'],
      ],
      'preactivation',
      withHf,
    );
    await rejectsWith(
      openModel(folder, opts(p)),
      /bert-ckpt\/config\.json: a Hugging Face folder needs the transformers package in this Python \('.*' cannot import it\): install it there, or choose another with --python/,
    );
  });
});

void describe('PyTorch: every failure is one line', () => {
  const p = (): ProbeSet => probe('mlp-probe.npy');
  void it('no torch in the chosen Python names it and how to choose another', async () => {
    const fake = at('fake-python');
    writeFileSync(fake, '#!/bin/sh\nexec /usr/bin/python3 -S -I "$@"\n', { mode: 0o755 });
    await rejectsWith(
      openModel(at('mlp_module.pt'), opts(p(), { python: fake })),
      /fake-python' cannot import torch .*--python PATH .*memlens\.pythonPath/,
    );
    await rejectsWith(
      openModel(at('mlp_module.pt'), opts(p(), { python: at('nope') })),
      /cannot start the Python interpreter/,
    );
  });
  void it('factories: none, missing, raising; state_dict keys that do not fit', async () => {
    await rejectsWith(
      openModel(at('mlp_state.pt'), opts(p())),
      /holds a state_dict, which needs a factory.*--torch-factory/,
    );
    await rejectsWith(
      openModel(at('mlp_state.pt'), opts(p(), { torchFactory: 'nets:nothing' })),
      /'nets' has no 'nothing'/,
    );
    await rejectsWith(
      openModel(at('mlp_state.pt'), opts(p(), { torchFactory: 'absent:f' })),
      /cannot import 'absent'/,
    );
    await rejectsWith(
      openModel(at('mlp_state.pt'), opts(p(), { torchFactory: 'nets:broken' })),
      /nets:broken raised ValueError: no such config/,
    );
    await rejectsWith(
      openModel(at('wrong_state.pt'), opts(p(), { torchFactory: 'nets:make_mlp' })),
      /does not fit the model of nets:make_mlp: missing fc1\.weight, fc1\.bias, fc2\.weight \.\.\. \(6 in all\); unexpected 0\.weight, 0\.bias \(2 in all\)/,
    );
  });
  void it('a probe that does not fit names the module that rejected it', async () => {
    await rejectsWith(
      openModel(at('mlp_module.pt'), opts(probe('conv-probe.npy'))),
      /rejected the probe .*RuntimeError/,
    );
  });
  void it('a .keras renamed .pt, a truncated .pt and a pickle that raises', async () => {
    const keras = readFileSync(
      path.resolve(__dirname, '../../test/fixtures/real-keras/nested.keras'),
    );
    writeFileSync(at('renamed.pt'), keras);
    await rejectsWith(
      openModel(at('renamed.pt'), opts(p())),
      /expected a PyTorch checkpoint, found a Keras \.keras zip/,
    );
    const whole = readFileSync(at('mlp_module.pt'));
    writeFileSync(at('truncated.pt'), whole.subarray(0, whole.length >> 1));
    await rejectsWith(
      openModel(at('truncated.pt'), opts(p())),
      /truncated\.pt: cannot load the checkpoint/,
    );
    // A legacy pickle whose REDUCE calls a function that raises.
    writeFileSync(at('raises.pt'), Buffer.from('\x80\x02cnets\nbroken\nq\x00)R.', 'latin1'));
    await rejectsWith(openModel(at('raises.pt'), opts(p())), /raises\.pt: .*(ValueError|weights)/);
  });
  void it('cancelling a capture ends the Python process at once', async () => {
    const big = probeOf(new Float32Array(20000 * 6), [20000, 6]);
    const handle = await openModel(at('mlp_module.pt'), opts(big));
    try {
      const controller = new AbortController();
      const job = handle.capture(big, {
        batchSize: 1,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      });
      await assert.rejects(job, (err: unknown) => err instanceof CancelledError);
    } finally {
      handle.dispose();
    }
  });
});
