// Models saved by Keras 3.15 itself (scripts/fixtures/make_real_keras.py), with the activations
// Keras computed for a probe: MemLens must rebuild them in TF.js and capture the same values.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { openModel } from '../../src/core/capture/registry';
import { parseNpy, toFloat64 } from '../../src/core/io/npy';
import { parseNpz } from '../../src/core/io/npz';
import { assertColumns, probeOf } from '../fixtures/capture/helpers';

const DIR = path.resolve(__dirname, '../../test/fixtures/real-keras');

const expected = new Map(
  parseNpz(readFileSync(path.join(DIR, 'expected.npz')), 'expected.npz').map((a) => [
    a.name,
    a.array,
  ]),
);

function probe(file: string) {
  const a = parseNpy(readFileSync(path.join(DIR, file)), file);
  return probeOf(Float32Array.from(toFloat64(a.data)), a.shape);
}

/** Keras' activations of a layer as rows of features: conv maps averaged over positions. */
function keras(key: string): { values: Float64Array; width: number } {
  const a = expected.get(key);
  assert.ok(a !== undefined, `expected.npz has ${key}`);
  const data = toFloat64(a.data);
  const [s, ...rest] = a.shape;
  if (rest.length === 1) return { values: data, width: rest[0] };
  const channels = rest[rest.length - 1];
  const positions = rest.slice(0, -1).reduce((p, d) => p * d, 1);
  const values = new Float64Array(s * channels);
  for (let i = 0; i < s; i++)
    for (let p = 0; p < positions; p++)
      for (let c = 0; c < channels; c++)
        values[i * channels + c] += data[(i * positions + p) * channels + c] / positions;
  return { values, width: channels };
}

for (const file of ['nested.keras', 'nested.h5']) {
  void describe(`Keras-saved ${file}: a functional model with a nested Sequential`, () => {
    void it('captures every layer, nested ones included, as Keras computes them', async () => {
      const handle = await openModel(path.join(DIR, file), { backend: 'cpu' });
      try {
        assert.equal(handle.format, 'keras');
        const names = ['fc1', 'bn', 'fc2', 'side', 'merge', 'logits'];
        assert.deepEqual(
          handle.layers.map((l) => [l.name, l.activation, l.measuredByDefault]),
          [
            ['fc1', 'relu', true],
            ['bn', null, false],
            ['fc2', 'tanh', true],
            ['side', 'relu', true],
            ['merge', null, false],
            ['logits', null, false],
          ],
        );
        for (const point of ['preactivation', 'output'] as const) {
          const result = await handle.capture(probe('probe.npy'), { layers: names, point });
          for (const slice of result.acts.layers) {
            const want = keras(`nested/${slice.name}/${point}`);
            assert.equal(slice.end - slice.start, want.width, slice.name);
            assertColumns(result.acts, slice.start, want.values, want.width, 1e-4);
          }
        }
      } finally {
        handle.dispose();
      }
    });
  });
}

void describe('Keras-saved conv.keras: Conv2D -> MaxPooling2D -> Flatten -> Dense -> Dense', () => {
  void it('captures the conv maps (averaged over positions) and the dense layers as Keras computes them', async () => {
    const handle = await openModel(path.join(DIR, 'conv.keras'), { backend: 'cpu' });
    try {
      const names = ['conv2d', 'max_pooling2d', 'flatten', 'dense', 'dense_1'];
      assert.deepEqual(
        handle.layers.map((l) => l.name),
        names,
      );
      for (const point of ['preactivation', 'output'] as const) {
        const result = await handle.capture(probe('conv-probe.npy'), { layers: names, point });
        for (const slice of result.acts.layers) {
          const want = keras(`conv/${slice.name}/${point}`);
          assert.equal(slice.end - slice.start, want.width, slice.name);
          assertColumns(result.acts, slice.start, want.values, want.width, 1e-4);
        }
      }
    } finally {
      handle.dispose();
    }
  });
});

void describe('Keras-saved rnn.keras: LSTM over a sequence -> Bidirectional LSTM -> Dense', () => {
  void it("finds the weights in the cell and the forward/backward layers, and matches Keras' values", async () => {
    const handle = await openModel(path.join(DIR, 'rnn.keras'), { backend: 'cpu' });
    try {
      assert.deepEqual(
        handle.layers.map((l) => [l.name, l.type]),
        [
          ['lstm', 'LSTM'],
          ['bi', 'Bidirectional'],
          ['out', 'Dense'],
        ],
      );
      const result = await handle.capture(probe('rnn-probe.npy'), {
        layers: ['lstm', 'bi', 'out'],
      });
      // The LSTM's sequence output is read at its first step (MemLens' default reduction).
      assert.deepEqual(
        result.layers.map((l) => [l.name, l.reduction]),
        [
          ['lstm', 'first-token'],
          ['bi', 'none'],
          ['out', 'none'],
        ],
      );
      for (const slice of result.acts.layers) {
        const want = keras(`rnn/${slice.name}/output`);
        assertColumns(result.acts, slice.start, want.values, want.width, 1e-4);
      }
    } finally {
      handle.dispose();
    }
  });
});

void describe('Keras-saved augmented.keras: augmentation layers, Rescaling, Conv2D, pooling, Dense', () => {
  void it('passes images through the augmentation layers unchanged, as Keras does at inference', async () => {
    const handle = await openModel(path.join(DIR, 'augmented.keras'), { backend: 'cpu' });
    try {
      const names = ['aug_conv', 'aug_gap', 'aug_dense'];
      for (const point of ['preactivation', 'output'] as const) {
        const result = await handle.capture(probe('aug-probe.npy'), { layers: names, point });
        for (const slice of result.acts.layers) {
          const want = keras(`augmented/${slice.name}/${point}`);
          assertColumns(result.acts, slice.start, want.values, want.width, 1e-4);
        }
      }
      // The augmentation layers are listed under their Keras class, and not measured.
      const flip = handle.layers.find((l) => l.name === 'random_flip');
      assert.deepEqual(flip && [flip.type, flip.measuredByDefault], ['RandomFlip', false]);
    } finally {
      handle.dispose();
    }
  });
});

for (const file of ['standins.keras', 'standins.h5']) {
  void describe(`Keras-saved ${file}: constructs TF.js lacks or defines differently`, () => {
    void it('runs Normalization, hard_sigmoid, hard_silu, silu, keepdims pooling and tensor operations as Keras does', async () => {
      const handle = await openModel(path.join(DIR, file), { backend: 'cpu' });
      try {
        const names = [
          'adapted',
          'hs_conv',
          'squeeze',
          'excite',
          'scale_maps',
          'fixed',
          'silu',
          'st_out',
        ];
        // Listed under their Keras classes, whatever stands in for them in TF.js.
        const typeOf = (n: string) => handle.layers.find((l) => l.name === n)?.type;
        assert.deepEqual(['adapted', 'squeeze', 'fixed', 'subtract'].map(typeOf), [
          'Normalization',
          'GlobalAveragePooling2D',
          'Normalization',
          'Subtract',
        ]);
        assert.deepEqual(
          ['hs_conv', 'excite'].map((n) => handle.layers.find((l) => l.name === n)?.activation),
          ['hard_sigmoid', 'hard_silu'],
        );
        for (const point of ['preactivation', 'output'] as const) {
          const result = await handle.capture(probe('standins-probe.npy'), {
            layers: names,
            point,
          });
          for (const slice of result.acts.layers) {
            const want = keras(`standins/${slice.name}/${point}`);
            assertColumns(result.acts, slice.start, want.values, want.width, 1e-4);
          }
        }
      } finally {
        handle.dispose();
      }
    });
  });
}

void describe("Keras-saved gru.keras: Keras' default GRU (reset_after=True), backwards then forwards", () => {
  void it('runs the GRU recurrence as Keras does, which TF.js cannot', async () => {
    const handle = await openModel(path.join(DIR, 'gru.keras'), { backend: 'cpu' });
    try {
      assert.deepEqual(
        handle.layers.map((l) => [l.name, l.type]),
        [
          ['gru_back', 'GRU'],
          ['gru_fwd', 'GRU'],
        ],
      );
      const result = await handle.capture(probe('gru-probe.npy'), {
        layers: ['gru_back', 'gru_fwd'],
      });
      for (const slice of result.acts.layers) {
        const want = keras(`gru/${slice.name}/output`);
        assertColumns(result.acts, slice.start, want.values, want.width, 1e-5);
      }
    } finally {
      handle.dispose();
    }
  });
});

void describe('Keras-saved bigru.keras: Bidirectional GRUs, concatenated over a sequence, then summed', () => {
  void it('runs both directions and merges them as Keras does', async () => {
    const handle = await openModel(path.join(DIR, 'bigru.keras'), { backend: 'cpu' });
    try {
      assert.deepEqual(
        handle.layers.map((l) => [l.name, l.type, l.outputShape]),
        [
          ['bi_seq', 'Bidirectional', [null, 5, 8]],
          ['bi_sum', 'Bidirectional', [null, 3]],
          ['bi_out', 'Dense', [null, 2]],
        ],
      );
      const result = await handle.capture(probe('bigru-probe.npy'), {
        layers: ['bi_seq', 'bi_sum', 'bi_out'],
      });
      for (const slice of result.acts.layers) {
        const want = keras(`bigru/${slice.name}/output`);
        assertColumns(result.acts, slice.start, want.values, want.width, 1e-5);
      }
    } finally {
      handle.dispose();
    }
  });
});

for (const file of ['masked.keras', 'masked.h5']) {
  void describe(`Keras-saved ${file}: padded token ids, Embedding(mask_zero=True) -> LSTM -> GRU -> GRU backwards`, () => {
    void it('skips the padding in every recurrent layer, as Keras does', async () => {
      const handle = await openModel(path.join(DIR, file), { backend: 'cpu' });
      try {
        const result = await handle.capture(probe('masked-probe.npy'), {
          layers: ['m_lstm', 'm_gru', 'm_back'],
        });
        for (const slice of result.acts.layers) {
          const want = keras(`masked/${slice.name}/output`);
          assertColumns(result.acts, slice.start, want.values, want.width, 1e-5);
        }
      } finally {
        handle.dispose();
      }
    });
  });
}
