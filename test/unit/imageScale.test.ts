// The image scale everywhere a probe is read: the CLI flag, the setting, the report's params,
// the measurement cache key and the result context; and the scale a model's integer image
// input implies.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { analyze } from '../../src/core/analysis/analyze';
import { measurementKeys } from '../../src/core/analysis/measurementCache';
import { UserError } from '../../src/core/errors';
import { analyzeOptionsFrom, MEASURE_FLAGS_HELP } from '../../src/cli/commands/measureFlags';
import { isJobRequest } from '../../src/extension/child/protocol';
import { jobParamsFromSettings } from '../../src/extension/logic/jobSettings';
import { settingsText } from '../../src/extension/logic/resultContext';
import type { AnalysisParams } from '../../src/core/report/schema';
import { tempDir } from '../fixtures/capture/helpers';
import { imageConvModel, imageFolder } from '../fixtures/capture/tfjsImageModels';
import { defaultJobParams } from '../fixtures/jobParams';

const tmp = tempDir('memlens-scale-');
after(tmp.cleanup);
const images = imageFolder(path.join(tmp.dir, 'images'), 16);
const floatModel = imageConvModel(path.join(tmp.dir, 'float'), 1);
const intModel = imageConvModel(path.join(tmp.dir, 'int'), 1, 'DT_INT32');
const base = {
  probe: images,
  layers: ['out'],
  point: 'output' as const,
  backend: 'cpu' as const,
  threads: 1,
};

void describe('image scale in an analysis', () => {
  void it('is reported, and changes the numbers of a model with a non-linear response', async () => {
    const a = await analyze(floatModel, base);
    const b = await analyze(floatModel, { ...base, imageScale: '0-255' });
    assert.equal(a.params.imageScale, '0-1');
    assert.equal(b.params.imageScale, '0-255');
    assert.notEqual(a.summary.entropy.median, b.summary.entropy.median);
  });

  void it('defaults to 0-255 for an int32 image input; a 0-1 probe asked for is scaled back, with a notice', async () => {
    const implied = await analyze(intModel, base);
    assert.equal(implied.params.imageScale, '0-255');
    assert.deepEqual(
      implied.warnings.filter((w) => /scaled/.test(w.message)),
      [],
      'pixels read at 0-255 need no scaling',
    );
    const asked = await analyze(intModel, { ...base, imageScale: '0-1' });
    assert.equal(asked.params.imageScale, '0-1');
    assert.deepEqual(
      asked.warnings.filter((w) => /scaled/.test(w.message)).map((w) => [w.code, w.message]),
      [
        [
          'probe-notice',
          `${intModel}: the model's input is int32: probe values in [0, 1] were scaled to 0-255`,
        ],
      ],
    );
    // The same integer pixels reach the model either way (0-1 values x 255, rounded).
    assert.deepEqual(asked.layers, implied.layers);
  });

  void it('is part of the measurement cache key', async () => {
    const keys = await Promise.all(
      [undefined, '0-1', '0-255', 'neg1-1'].map(
        async (imageScale) =>
          (
            await measurementKeys(floatModel, images, {
              ...base,
              ...(imageScale === undefined ? {} : { imageScale: imageScale as '0-1' }),
            })
          ).asked,
      ),
    );
    assert.equal(new Set(keys).size, 4);
    const again = await measurementKeys(floatModel, images, { ...base, imageScale: '0-255' });
    assert.equal(again.asked, keys[2]);
  });
});

void describe('image scale from the CLI and the settings', () => {
  const signal = new AbortController().signal;

  void it('--image-scale on analyze and compare', () => {
    assert.match(
      MEASURE_FLAGS_HELP,
      /--image-scale <s> {5}image probe pixels as 0-1, 0-255 or neg1-1/,
    );
    assert.equal(analyzeOptionsFrom({ 'image-scale': 'neg1-1' }, signal).imageScale, 'neg1-1');
    assert.equal(analyzeOptionsFrom({}, signal).imageScale, undefined);
    assert.throws(
      () => analyzeOptionsFrom({ 'image-scale': '0-256' }, signal),
      (e: unknown) =>
        e instanceof UserError &&
        e.message === "--image-scale: expected one of 0-1, 0-255, neg1-1, found '0-256'",
    );
  });

  void it('memlens.imageScale: auto is null in the job, a scale is sent as it is, the child checks it', () => {
    const context = { cores: 2, workspace: null, resolvePython: (v: string) => v };
    const read = (value: unknown) =>
      jobParamsFromSettings((key) => (key === 'imageScale' ? value : undefined), context);
    assert.equal(read(undefined).imageScale, null);
    assert.equal(read('auto').imageScale, null);
    assert.equal(read('0-255').imageScale, '0-255');
    assert.equal(read('255').imageScale, null, 'an unknown choice counts as the default');
    const job = (imageScale: unknown) => ({
      type: 'job/analyze',
      source: '/w/model.json',
      baseline: null,
      measurements: null,
      params: { ...defaultJobParams('/w/images'), imageScale },
    });
    assert.equal(isJobRequest(job(null)), true);
    assert.equal(isJobRequest(job('neg1-1')), true);
    assert.equal(isJobRequest(job('auto')), false, 'auto is sent as null');
    assert.equal(isJobRequest(job('0-256')), false);
    assert.equal(isJobRequest(job(undefined)), false);
  });

  void it("the result's settings text names the scale of an image probe", () => {
    const params: AnalysisParams = {
      bins: 100,
      binning: 'global',
      k: 3,
      samples: 16,
      seed: 0,
      point: 'preactivation',
      layers: ['out'],
      miNeuronCap: null,
      miPairs: null,
    };
    assert.equal(settingsText(params), '16 samples, 100 global bins, k 3, seed 0');
    assert.equal(
      settingsText({ ...params, imageScale: '0-255' }),
      '16 samples, 100 global bins, k 3, seed 0, pixels 0-255',
    );
  });
});
