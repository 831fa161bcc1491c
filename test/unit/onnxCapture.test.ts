import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { OnnxModelProto } from '../../src/core/capture/onnx/onnxProto';
import { encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import { OnnxSession } from '../../src/core/capture/onnx/onnxSession';
import { runCapture } from '../../src/cli/commands/capture';
import { analyze, modelContentHash } from '../../src/core/analysis/analyze';
import { loadActivationDump } from '../../src/core/dumps/loadDump';
import { encodeNpy } from '../../src/core/io/npy';
import { modelContentFiles } from '../../src/core/capture/registry';
import { openModel } from '../../src/core/capture/registry';
import { CancelledError } from '../../src/core/errors';
import {
  assertColumns,
  probeOf,
  randn,
  rejectsWith,
  relu,
  tempDir,
} from '../fixtures/capture/helpers';
import { floatTensor, forward, mlpModel, valueInfo } from '../fixtures/capture/onnxModels';

const tmp = tempDir('memlens-onnx-');
after(tmp.cleanup);

function writeModel(name: string, model: OnnxModelProto): string {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, encodeOnnxModel(model));
  return file;
}

void describe('ONNX capture of a model built here (Gemm -> Relu -> Gemm -> Relu -> Gemm)', () => {
  const file = writeModel('mlp.onnx', mlpModel());
  const s = 37;
  const x = randn(21, s, 3);

  void it('lists the nodes, measures the two hidden Gemms by default and reads their pre-activations', async () => {
    const handle = await openModel(file);
    try {
      assert.equal(handle.format, 'onnx');
      assert.deepEqual(handle.inputShape, [null, 3]);
      assert.deepEqual(
        handle.layers.map((l) => [l.name, l.type, l.activation, l.measuredByDefault]),
        [
          ['/0/Gemm', 'Gemm', 'relu', true],
          ['/1/Relu', 'Relu', 'relu', false],
          ['/2/Gemm', 'Gemm', 'relu', true],
          ['/3/Relu', 'Relu', 'relu', false],
          ['/4/Gemm', 'Gemm', null, false],
        ],
      );
      // The graph declares no intermediate shapes: they come from a pass on a zero example.
      assert.deepEqual(
        handle.layers.map((l) => l.outputShape),
        [
          [null, 4],
          [null, 4],
          [null, 2],
          [null, 2],
          [null, 1],
        ],
      );
      // Batches of 10 exercise the dynamic batch dimension and a short last batch.
      const result = await handle.capture(probeOf(x, [s, 3]), { batchSize: 10 });
      const { z1, z2 } = forward(x, s);
      assert.deepEqual(result.acts.layers, [
        { name: '/0/Gemm', start: 0, end: 4 },
        { name: '/2/Gemm', start: 4, end: 6 },
      ]);
      assert.deepEqual(
        result.layers.map((l) => l.point),
        ['preactivation', 'preactivation'],
      );
      assertColumns(result.acts, 0, z1, 4, 1e-5);
      assertColumns(result.acts, 4, z2, 2, 1e-5);
    } finally {
      handle.dispose();
    }
  });

  void it('reads the Relu outputs with point output, and accepts output tensor names', async () => {
    const handle = await openModel(file);
    try {
      const progress: number[] = [];
      const result = await handle.capture(probeOf(x, [s, 3]), {
        layers: ['/2/Gemm_output_0', '/0/Gemm', 'y'],
        point: 'output',
        batchSize: 16,
        onProgress: (p) => progress.push(p.done),
      });
      const { z1, z2, y } = forward(x, s);
      assert.deepEqual(
        result.acts.layers.map((l) => l.name),
        ['/2/Gemm', '/0/Gemm', '/4/Gemm'],
      );
      assertColumns(result.acts, 0, relu(z2), 2, 1e-5);
      assertColumns(result.acts, 2, relu(z1), 4, 1e-5);
      assertColumns(result.acts, 6, y, 1, 1e-5);
      assert.deepEqual(progress, [16, 32, 37]);
    } finally {
      handle.dispose();
    }
  });

  void it('reshapes a flat probe, and rejects one that does not fit the input', async () => {
    const handle = await openModel(file);
    try {
      await rejectsWith(
        handle.capture(probeOf(new Float32Array(20), [5, 4])),
        /probe does not fit the model: expected examples of shape \[3\], found \[4\]/,
      );
    } finally {
      handle.dispose();
    }
  });

  void it('names close layers for an unknown one', async () => {
    const handle = await openModel(file);
    try {
      await rejectsWith(
        handle.capture(probeOf(x, [s, 3]), { layers: ['/2/gemm'] }),
        /unknown layer '\/2\/gemm': expected one of .*\/2\/Gemm/,
      );
    } finally {
      handle.dispose();
    }
  });

  void it('with two inputs, feeds the one that is not a mask and fills the mask with ones', async () => {
    const two = writeModel('two-inputs.onnx', mlpModel(true));
    await rejectsWith(
      openModel(two, { input: 'pixels' }),
      /unknown input 'pixels': expected one of x, attention_mask/,
    );
    const handle = await openModel(two);
    try {
      const warnings: string[] = [];
      const result = await handle.capture(probeOf(x, [s, 3]), {
        onWarning: (m) => warnings.push(m),
      });
      assertColumns(result.acts, 0, forward(x, s).z1, 4, 1e-5);
      assert.match(
        warnings.join('\n'),
        /the probe feeds input 'x' \(the only input with a batch dimension first that is not a mask; --input chooses another\); 'attention_mask' gets ones/,
      );
    } finally {
      handle.dispose();
    }
  });

  void it('folds a MatMul + Add (a Linear layer exported that way) into one layer', async () => {
    const model = mlpModel();
    const graph = model.graph!;
    graph.node.splice(
      0,
      1,
      { name: '/0/MatMul', opType: 'MatMul', input: ['x', 'w1'], output: ['mm'], attribute: [] },
      {
        name: '/0/Add',
        opType: 'Add',
        input: ['mm', 'b1'],
        output: ['/0/Gemm_output_0'],
        attribute: [],
      },
    );
    const handle = await openModel(writeModel('matmul-add.onnx', model));
    try {
      assert.deepEqual(
        handle.layers.slice(0, 2).map((l) => [l.name, l.type, l.activation, l.measuredByDefault]),
        [
          ['/0/MatMul', 'MatMul', 'relu', true],
          ['/1/Relu', 'Relu', 'relu', false],
        ],
      );
      const result = await handle.capture(probeOf(x, [s, 3]), { layers: ['/0/Gemm_output_0'] });
      assert.deepEqual(result.acts.layers, [{ name: '/0/MatMul', start: 0, end: 4 }]);
      assertColumns(result.acts, 0, forward(x, s).z1, 4, 1e-5);
    } finally {
      handle.dispose();
    }
  });

  void it('loads weights kept in an external data file beside the model', async () => {
    const model = mlpModel();
    const blob = Buffer.concat(model.graph!.initializer.map((t) => Buffer.from(t.rawData!)));
    let offset = 0;
    for (const t of model.graph!.initializer) {
      const length = t.rawData!.length;
      t.externalData = [
        { key: 'location', value: 'mlp_ext.weights' },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ];
      t.dataLocation = 1;
      t.rawData = undefined;
      offset += length;
    }
    const ext = writeModel('mlp_ext.onnx', model);
    await rejectsWith(
      openModel(ext),
      /external data file 'mlp_ext.weights' \(tensor 'w1'\): expected a file inside the model's folder, found nothing there/,
    );
    const side = path.join(tmp.dir, 'mlp_ext.weights');
    writeFileSync(side, blob);
    const handle = await openModel(ext);
    try {
      const result = await handle.capture(probeOf(x, [s, 3]));
      assertColumns(result.acts, 0, forward(x, s).z1, 4, 1e-5);
    } finally {
      handle.dispose();
    }
    // The side file is part of the model's content: new weights there give a new hash.
    assert.deepEqual(await modelContentFiles(ext), [ext, side]);
    const before = await modelContentHash(ext);
    blob[0] ^= 1;
    writeFileSync(side, blob);
    assert.notEqual(await modelContentHash(ext), before);
  });
});

void describe('ONNX capture of a conv net built here (Conv -> Relu -> Flatten -> Gemm)', () => {
  // NCHW: 1 channel, 4 x 4 input; 2 filters of 3 x 3 give 2 x 2 x 2 feature maps.
  const k = randn(61, 2, 9);
  const kb = randn(62, 1, 2);
  const w = randn(63, 8, 2);
  const wb = randn(64, 1, 2);
  const model: OnnxModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'cnn',
      node: [
        {
          name: '/conv/Conv',
          opType: 'Conv',
          input: ['x', 'k', 'kb'],
          output: ['c'],
          attribute: [],
        },
        { name: '/relu/Relu', opType: 'Relu', input: ['c'], output: ['r'], attribute: [] },
        { name: '/flat/Flatten', opType: 'Flatten', input: ['r'], output: ['f'], attribute: [] },
        { name: '/fc/Gemm', opType: 'Gemm', input: ['f', 'w', 'wb'], output: ['y'], attribute: [] },
      ],
      initializer: [
        floatTensor('k', [2, 1, 3, 3], k),
        floatTensor('kb', [2], kb),
        floatTensor('w', [8, 2], w),
        floatTensor('wb', [2], wb),
      ],
      input: [valueInfo('x', ['N', 1, 4, 4])],
      output: [valueInfo('y', ['N', 2])],
      valueInfo: [],
    },
  };

  void it('measures the Conv by default: per-channel means of its pre-activation maps', async () => {
    const s = 9;
    const x = randn(65, s, 16);
    const handle = await openModel(writeModel('cnn.onnx', model));
    try {
      assert.deepEqual(
        handle.layers.filter((l) => l.measuredByDefault).map((l) => l.name),
        ['/conv/Conv'],
      );
      assert.deepEqual(handle.layers[0].outputShape, [null, 2, 2, 2]);
      const result = await handle.capture(probeOf(x, [s, 1, 4, 4]));
      const pre = new Float64Array(s * 2);
      const post = new Float64Array(s * 2);
      for (let n = 0; n < s; n++)
        for (let f = 0; f < 2; f++)
          for (let oy = 0; oy < 2; oy++)
            for (let ox = 0; ox < 2; ox++) {
              let acc = kb[f];
              for (let dy = 0; dy < 3; dy++)
                for (let dx = 0; dx < 3; dx++)
                  acc += x[n * 16 + (oy + dy) * 4 + ox + dx] * k[f * 9 + dy * 3 + dx];
              pre[n * 2 + f] += acc / 4;
              post[n * 2 + f] += Math.max(acc, 0) / 4;
            }
      assert.deepEqual(result.layers, [
        {
          name: '/conv/Conv',
          start: 0,
          end: 2,
          point: 'preactivation',
          reduction: 'global-average-pool',
        },
      ]);
      assertColumns(result.acts, 0, pre, 2, 1e-5);
      const out = await handle.capture(probeOf(x, [s, 1, 4, 4]), { point: 'output' });
      assertColumns(out.acts, 0, post, 2, 1e-5);
    } finally {
      handle.dispose();
    }
  });
});

void describe('memlens capture on an ONNX model with two inputs', () => {
  void it('--input names the input the probe feeds; the dump holds the hand-computed pre-activations', async () => {
    const file = writeModel('cli-two-inputs.onnx', mlpModel(true));
    const s = 12;
    const x = randn(71, s, 3);
    const probe = path.join(tmp.dir, 'cli-probe.npy');
    writeFileSync(probe, encodeNpy(x, [s, 3]));
    const out = path.join(tmp.dir, 'cli-acts.npy');
    const signal = new AbortController().signal;
    const quiet = (): void => undefined;
    await rejectsWith(
      runCapture(
        [file, '--probe', probe, '--out', out, '--input', 'ids', '--quiet'],
        signal,
        quiet,
      ),
      /unknown input 'ids': expected one of x, attention_mask/,
    );
    assert.ok(!existsSync(out), 'no partial output');
    const code = await runCapture(
      [file, '--probe', probe, '--out', out, '--input', 'x', '--quiet'],
      signal,
      quiet,
    );
    assert.equal(code, 0);
    const acts = await loadActivationDump(out);
    assert.deepEqual(
      acts.layers.map((l) => l.name),
      ['/0/Gemm', '/2/Gemm'],
    );
    const { z1, z2 } = forward(x, s);
    assertColumns(acts, 0, z1, 4, 1e-5);
    assertColumns(acts, 4, z2, 2, 1e-5);
  });
});

void describe('memlens analyze on an ONNX model with two inputs', () => {
  void it('passes --input to the model; the entropies are those of the hand-computed pre-activations', async () => {
    const file = writeModel('analyze-two-inputs.onnx', mlpModel(true));
    const s = 40;
    const x = randn(72, s, 3);
    const probe = path.join(tmp.dir, 'analyze-probe.npy');
    writeFileSync(probe, encodeNpy(x, [s, 3]));
    await rejectsWith(
      analyze(file, { probe, input: 'ids' }),
      /unknown input 'ids': expected one of x, attention_mask/,
    );
    const report = await analyze(file, { probe, input: 'x', binning: 'neuron', bins: 4 });
    assert.deepEqual(
      report.layers.map((l) => l.name),
      ['/0/Gemm', '/2/Gemm'],
    );
    // Per-neuron binning of the first hidden unit, recomputed here from the forward pass.
    const { z1 } = forward(x, s);
    const col = Array.from({ length: s }, (_, i) => z1[i * 4]);
    const lo = Math.min(...col);
    const width = (Math.max(...col) - lo) / 4;
    const counts = [0, 0, 0, 0];
    for (const v of col) counts[Math.min(3, Math.floor((v - lo) / width))]++;
    const h = -counts.filter((c) => c > 0).reduce((acc, c) => acc + (c / s) * Math.log(c / s), 0);
    assert.ok(Math.abs(report.layers[0].entropies[0] - h) < 1e-9);
  });
});

void describe('ONNX capture of token ids (int64 input, sequence output)', () => {
  void it('feeds the probe as int64 and reads the first token or the mean over tokens', async () => {
    const emb = randn(81, 10, 4);
    const model: OnnxModelProto = {
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'embed',
        node: [
          {
            name: '/emb/Gather',
            opType: 'Gather',
            input: ['emb', 'ids'],
            output: ['e'],
            attribute: [],
          },
          { name: '/out/Tanh', opType: 'Tanh', input: ['e'], output: ['h'], attribute: [] },
        ],
        initializer: [floatTensor('emb', [10, 4], emb)],
        input: [
          {
            name: 'ids',
            type: {
              tensorType: {
                elemType: 7,
                shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'seq' }] },
              },
            },
          },
        ],
        output: [valueInfo('h', ['batch', 'seq', 4])],
        valueInfo: [],
      },
    };
    const ids = [
      [3, 1, 4],
      [1, 5, 9],
      [2, 6, 5],
    ];
    const probe = probeOf(Float32Array.from(ids.flat()), [3, 3]);
    const handle = await openModel(writeModel('embed.onnx', model));
    try {
      const first = await handle.capture(probe, { layers: ['/emb/Gather'] });
      assert.equal(first.layers[0].reduction, 'first-token');
      assertColumns(
        first.acts,
        0,
        ids.flatMap((row) => Array.from(emb.subarray(row[0] * 4, row[0] * 4 + 4))),
        4,
        1e-6,
      );
      const mean = await handle.capture(probe, {
        layers: ['h'],
        point: 'output',
        sequence: 'mean',
      });
      assert.equal(mean.layers[0].reduction, 'mean-tokens');
      const expected = ids.flatMap((row) =>
        [0, 1, 2, 3].map((j) => row.reduce((acc, id) => acc + Math.tanh(emb[id * 4 + j]), 0) / 3),
      );
      assertColumns(mean.acts, 0, expected, 4, 1e-5);
    } finally {
      handle.dispose();
    }
  });
});

void describe('ONNX bad input', () => {
  void it('a truncated model gives a one-line error', async () => {
    const bytes = encodeOnnxModel(mlpModel());
    const file = path.join(tmp.dir, 'truncated.onnx');
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await rejectsWith(openModel(file), /truncated\.onnx: expected an ONNX model/);
  });

  void it('a zip or HDF5 file named .onnx says what it is', async () => {
    const file = path.join(tmp.dir, 'zip.onnx');
    writeFileSync(file, Buffer.from('PK\x03\x04 rest of a zip', 'latin1'));
    await rejectsWith(
      openModel(file),
      /zip\.onnx: expected an ONNX model \(protobuf\), found a zip archive/,
    );
    const h5 = path.join(tmp.dir, 'h5.onnx');
    writeFileSync(h5, Buffer.from('\x89HDF\r\n\x1a\n....', 'latin1'));
    await rejectsWith(openModel(h5), /found an HDF5 file/);
  });

  void it('an op the runtime does not know is named', async () => {
    const model = mlpModel();
    model.graph!.node[1].opType = 'Frobnicate';
    await rejectsWith(
      openModel(writeModel('unknown-op.onnx', model)),
      /cannot load the model: .*Frobnicate/,
    );
  });

  void it('an opset older than the runtime implements is named', async () => {
    const model = mlpModel();
    model.opsetImport = [{ domain: '', version: 6 }];
    await rejectsWith(
      openModel(writeModel('opset6.onnx', model)),
      /opset6\.onnx: the ONNX runtime cannot load the model: .*Gemm\(6\).*\(the model uses opset 6 of ai\.onnx: expected 7 or later/,
    );
  });

  void it('an unsupported opset is named', async () => {
    const model = mlpModel();
    model.opsetImport = [{ domain: '', version: 99 }];
    await rejectsWith(
      openModel(writeModel('opset99.onnx', model)),
      /cannot load the model: .*opset.*99|99.*opset/i,
    );
  });
});

void describe('ONNX runtime isolation', () => {
  void it('a crash of the runtime process is a clean error and the caller lives on', async () => {
    const session = await OnnxSession.open('crash.onnx', encodeOnnxModel(mlpModel()));
    const pid = session.pid!;
    // A native crash ends the process by a signal, like this one.
    process.kill(pid, 'SIGSEGV');
    await rejectsWith(
      session.run({ x: { type: 'float32', dims: [1, 3], data: new Float32Array(3) } }, [
        { name: 'y', mode: 'reduce', convLike: false, sequence: 'first', stacked: 0 },
      ]),
      /crash\.onnx: the ONNX runtime (crashed while running the model \(signal SIGSEGV\)|has stopped \(signal SIGSEGV\))/,
    );
  });

  void it('an abort kills the runtime process and rejects with CancelledError', async () => {
    const handle = await openModel(path.join(tmp.dir, 'mlp.onnx'));
    const controller = new AbortController();
    const big = randn(31, 5000, 3);
    const run = handle.capture(probeOf(big, [5000, 3]), {
      batchSize: 10,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 50) controller.abort();
      },
    });
    await assert.rejects(run, CancelledError);
    handle.dispose();
  });
});
