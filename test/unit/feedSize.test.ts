// A model.json or .onnx declaring an input too large to feed (the fuzzer's batch dimension of
// 2^53 + 2, seed 1 case 89) is refused in one line at open, instead of an internal error from
// allocating the shape pass's zeros.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { encodeOnnxModel } from '../../src/core/capture/onnx/onnxProto';
import { openModel } from '../../src/core/capture/registry';
import { MAX_FEED_VALUES } from '../../src/core/capture/common/batchCapture';
import { rejectsWith, tempDir } from '../fixtures/capture/helpers';
import { mlpModel, valueInfo } from '../fixtures/capture/onnxModels';
import { imageConvModel } from '../fixtures/capture/tfjsImageModels';

const tmp = tempDir('memlens-feed-');
after(tmp.cleanup);

void test('a TF.js graph-model whose input declares a batch of 2^53 + 2 is refused in one line', async () => {
  const file = imageConvModel(path.join(tmp.dir, 'huge-batch'), 1);
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    modelTopology: { node: { attr: { shape: { shape: { dim: { size: string }[] } } } }[] };
  };
  json.modelTopology.node[0].attr.shape.shape.dim[0].size = String(2 ** 53 + 2);
  writeFileSync(file, JSON.stringify(json));
  await rejectsWith(
    openModel(file, { backend: 'cpu' }),
    new RegExp(
      `input 'img' declares shape \\[\\d+, 5, 5, 3\\]: expected at most ${MAX_FEED_VALUES} values per batch`,
    ),
  );
  // The model as written opens.
  const ok = await openModel(imageConvModel(path.join(tmp.dir, 'batch-1'), 1), { backend: 'cpu' });
  ok.dispose();
});

void test('an ONNX input of 2^20 x 2^20 values per example is refused in one line', async () => {
  const model = mlpModel();
  model.graph!.input[0] = valueInfo('x', ['batch', 2 ** 20, 2 ** 20]);
  const file = path.join(tmp.dir, 'huge.onnx');
  writeFileSync(file, encodeOnnxModel(model));
  await rejectsWith(
    openModel(file),
    /input 'x' declares shape \[1, 1048576, 1048576\]: expected at most/,
  );
});
