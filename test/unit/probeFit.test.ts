// The probe-to-model fit rules (hand-worked shapes), and the header-only preview of probe
// files: its shapes agree with loading the file whole, on every reader loadProbe has.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { UserError } from '../../src/core/errors';
import { encodeNpy } from '../../src/core/io/npy';
import { fitProbe } from '../../src/core/probe/fit';
import { loadProbe } from '../../src/core/probe/loadProbe';
import { PROBE_MISFIT, shapeFit } from '../../src/core/probe/probeFit';
import { peekProbe, PEEK_ROWS } from '../../src/core/probe/probePeek';
import { isJobRequest, MAX_PROBE_CANDIDATES } from '../../src/extension/child/protocol';
import { tempDir } from '../fixtures/capture/helpers';
import { defaultJobParams } from '../fixtures/jobParams';

const tmp = tempDir();
after(tmp.cleanup);
const EXAMPLES = path.resolve(__dirname, '../../examples');

function write(name: string, contents: string | Uint8Array): string {
  const file = path.join(tmp.dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, contents);
  return file;
}

/** `rows` x `cols` float32 values 0.5, 1.5, 2.5, ... in C order. */
function halves(rows: number, cols: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, (_, i) => i + 0.5);
}

void describe('shapeFit', () => {
  void it('fits equal example shapes, an unknown dimension matching anything', () => {
    assert.deepEqual(shapeFit([1000, 784], [null, 784]), {
      fits: true,
      why: 'fits [784]',
      fitted: [1000, 784],
    });
    assert.equal(shapeFit([5, 10, 3], [null, null, 3]).fits, true);
  });

  void it('reshapes 784 values into [28, 28, 1] (28 * 28 * 1 = 784) and 128 into [8, 8, 2]', () => {
    assert.deepEqual(shapeFit([1000, 784], [null, 28, 28, 1]), {
      fits: true,
      why: 'fits [28, 28, 1] (reshaped from [784])',
      fitted: [1000, 28, 28, 1],
    });
    assert.deepEqual(shapeFit([600, 128], [null, 8, 8, 2]).fitted, [600, 8, 8, 2]);
  });

  void it('does not fit other value counts, nor a reshape into an unknown dimension', () => {
    // 600 x 128 against an 8 x 8 x 1 image: 128 values, 64 wanted.
    assert.deepEqual(shapeFit([600, 128], [null, 8, 8, 1]), {
      fits: false,
      why: 'does not fit: the model expects [8, 8, 1], the examples are [128]',
    });
    // [?, 28, 1] could hold 784 values only if ? were 28: the engine does not guess.
    assert.equal(shapeFit([10, 784], [null, null, 28, 1]).fits, false);
    assert.equal(shapeFit([10, 6, 3], [null, 5, 3]).fits, false);
  });

  void it('agrees with the engine: fitProbe reshapes what fits and refuses with the marker', () => {
    const probe = { source: 'p.npy', shape: [2, 4], data: halves(2, 4), sampleIndices: [0, 1] };
    assert.deepEqual(fitProbe(probe, [null, 2, 2]).shape, [2, 2, 2]);
    assert.equal(fitProbe(probe, [null, 4]), probe);
    assert.throws(
      () => fitProbe(probe, [null, 3]),
      (err: unknown) =>
        err instanceof UserError &&
        err.message ===
          `p.npy: ${PROBE_MISFIT}: expected examples of shape [3], found [4] (probe shape [2, 4])`,
    );
  });
});

void describe('peekProbe', () => {
  void it('reads the shape of examples/probe.npy (600 x 128 float32, examples/README.md) from its header', async () => {
    const peek = await peekProbe(path.join(EXAMPLES, 'probe.npy'));
    assert.deepEqual(peek.shape, [600, 128]);
    assert.equal(peek.dtype, 'float32');
    assert.equal(peek.rows, 600);
    const whole = await loadProbe(path.join(EXAMPLES, 'probe.npy'));
    assert.deepEqual(
      Array.from(peek.data.subarray(0, 256)),
      Array.from(whole.data.subarray(0, 256)),
    );
  });

  void it('reads only the first rows of a long .npy, and the shape of the whole', async () => {
    const rows = PEEK_ROWS + 7;
    const file = write('long.npy', encodeNpy(halves(rows, 3), [rows, 3]));
    const peek = await peekProbe(file);
    assert.deepEqual(peek.shape, [rows, 3]);
    assert.equal(peek.rows, PEEK_ROWS);
    assert.equal(peek.data.length, PEEK_ROWS * 3);
    assert.equal(peek.data[PEEK_ROWS * 3 - 1], PEEK_ROWS * 3 - 1 + 0.5);
  });

  void it('a 1-D array is a batch of scalars, as loadProbe reads it', async () => {
    const file = write('flat.npy', encodeNpy(Float32Array.from([1, 2, 3]), [3]));
    assert.deepEqual((await peekProbe(file)).shape, (await loadProbe(file)).shape);
    assert.deepEqual((await peekProbe(file)).shape, [3, 1]);
  });

  void it('reads the member of a deflated .npz that loadProbe would take', async () => {
    const file = write(
      'xy.npz',
      zipSync({
        'y.npy': encodeNpy(Float32Array.from([0, 1, 0, 1]), [4]),
        'x.npy': encodeNpy(halves(4, 6), [4, 2, 3]),
      }),
    );
    const peek = await peekProbe(file);
    assert.deepEqual(peek.shape, [4, 2, 3]);
    assert.deepEqual(peek.shape, (await loadProbe(file)).shape);
    assert.deepEqual(Array.from(peek.data), Array.from(halves(4, 6)));
    assert.deepEqual((await peekProbe(file, { array: 'y' })).shape, [4, 1]);
  });

  void it('refuses an .npz with no probe array in the words of loadProbe', async () => {
    const file = write(
      'ab.npz',
      zipSync({
        'a.npy': encodeNpy(halves(1, 1), [1, 1]),
        'b.npy': encodeNpy(halves(1, 1), [1, 1]),
      }),
    );
    const words = /ab\.npz: expected one array, or one named x, input or inputs, found arrays a, b/;
    await assert.rejects(peekProbe(file), words);
    await assert.rejects(loadProbe(file), words);
  });

  void it('a CSV: columns and rows as loadProbe counts them, the header skipped', async () => {
    const lines = ['a,b,c', ...Array.from({ length: 50 }, (_, i) => `${i},${i + 0.5},${-i}`)];
    const file = write('rows.csv', lines.join('\n') + '\n');
    const peek = await peekProbe(file);
    assert.deepEqual(peek.shape, [50, 3]);
    assert.deepEqual(peek.shape, (await loadProbe(file)).shape);
    assert.equal(peek.rowsCounted, true);
  });

  void it('a CSV longer than the part parsed: its rows are counted to the end', async () => {
    // 2 MiB of rows: more than the first MiB that is parsed.
    const row = '0.25,0.5,0.75,1.25,1.5,1.75,2.25,2.5\n';
    const count = Math.ceil((2 * 1024 * 1024) / row.length);
    const file = write('big.csv', 'p1,p2,p3,p4,p5,p6,p7,p8\n' + row.repeat(count));
    const peek = await peekProbe(file);
    assert.deepEqual(peek.shape, [count, 8]);
    assert.equal(peek.rows, PEEK_ROWS);
  });

  void it('refuses a file loadProbe refuses, with its message', async () => {
    const file = write('cells.csv', '1,2\n3,x\n');
    await assert.rejects(peekProbe(file), /cells\.csv: line 2: expected numeric cells, found 'x'/);
    await assert.rejects(loadProbe(file), /cells\.csv: line 2: expected numeric cells, found 'x'/);
  });
});

void describe('the job/probeFit request guard', () => {
  const params = defaultJobParams(path.join(EXAMPLES, 'probe.npy'));
  const job = { type: 'job/probeFit', model: null, candidates: ['a.npy'], params };

  void it('accepts a job with or without a model', () => {
    assert.equal(isJobRequest(job), true);
    assert.equal(isJobRequest({ ...job, model: '/m/model.json' }), true);
  });

  void it('refuses more candidates than the bound, a non-string one, or bad params', () => {
    const many = Array.from({ length: MAX_PROBE_CANDIDATES + 1 }, (_, i) => `${i}.npy`);
    assert.equal(isJobRequest({ ...job, candidates: many }), false);
    assert.equal(isJobRequest({ ...job, candidates: [1] }), false);
    assert.equal(isJobRequest({ ...job, params: {} }), false);
  });
});
