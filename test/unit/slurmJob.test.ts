import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { describe, it } from 'node:test';
import { analyzeOptionsFrom, measureFlagConfig } from '../../src/cli/commands/measureFlags';
import { analyzeOptions } from '../../src/extension/child/analysisHost';
import type { JobParams } from '../../src/extension/child/protocol';
import { jobParamsFromSettings } from '../../src/extension/logic/jobSettings';
import { analyzeFlags, parseSlurmLine, slurmArgs } from '../../src/extension/logic/slurmJob';

const context = { cores: 2, workspace: '/ws', resolvePython: (v: string) => v };

/** Options without the unset ones (null and absent both mean the analysis default). */
function set(opts: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== null && v !== undefined));
}

/** The options the CLI reads from `flags`, as the analysis child would build them. */
function cliOptions(flags: string[]): Record<string, unknown> {
  const { values } = parseArgs({ args: flags, options: measureFlagConfig, strict: true });
  const opts: Record<string, unknown> = {
    ...analyzeOptionsFrom(values, new AbortController().signal),
  };
  for (const k of ['signal', 'onPlan', 'onProgress', 'searchPaths']) delete opts[k];
  return set(opts);
}

function childOptions(params: JobParams): Record<string, unknown> {
  const opts: Record<string, unknown> = { ...analyzeOptions(params, () => undefined) };
  // Threads follow the shard's CPUs; the workspace is the CLI's working directory.
  for (const k of ['onProgress', 'threads', 'searchPaths']) delete opts[k];
  return set(opts);
}

void describe('MemLens: Analyze on Slurm: the CLI flags of a job', () => {
  void it('the CLI reads the flags back into the options the analysis child builds', () => {
    const defaults = jobParamsFromSettings(() => undefined, context);
    defaults.probe = '/data/probe.npy';
    assert.deepEqual(cliOptions(analyzeFlags(defaults)), childOptions(defaults));
    const settings: Record<string, unknown> = {
      samples: 500,
      seed: 7,
      layers: ['fc1', 'fc2'],
      point: 'output',
      bins: 30,
      binning: 'neuron',
      k: 5,
      estimator: 'mixed',
      miNeurons: 64,
      miBudget: 0,
      memoryBudget: 256,
      backend: 'wasm',
      modelInput: 'input',
      inputValues: { sr: 8000, state: -0.5 },
      imageScale: 'neg1-1',
      pythonPath: '/opt/py/bin/python',
      torchFactory: 'nets:make_mlp',
    };
    const every = jobParamsFromSettings((key) => settings[key], context);
    every.probe = '/data/probe folder';
    const flags = analyzeFlags(every);
    assert.deepEqual(cliOptions(flags), childOptions(every));
    // Every setting above changed the options: none was dropped on the way.
    for (const [k, v] of Object.entries(childOptions(every)))
      if (k !== 'backend') assert.notDeepEqual(v, childOptions(defaults)[k], k);
    assert.ok(!flags.includes('--threads'));
  });

  void it('adds the array size and the resources that are set', () => {
    const params = jobParamsFromSettings(() => undefined, context);
    const args = slurmArgs(
      '/m/model.onnx',
      params,
      { shards: 8, partition: 'gpu', time: '', cpus: 0 },
      '/w/r.json',
    );
    assert.deepEqual(args.slice(0, 3), ['slurm', 'analyze', '/m/model.onnx']);
    assert.deepEqual(args.slice(-6), ['--out', '/w/r.json', '--shards', '8', '--partition', 'gpu']);
    const all = slurmArgs(
      '/m',
      params,
      { shards: 2, partition: '', time: '1:00:00', cpus: 4 },
      '/o',
    );
    assert.deepEqual(all.slice(-6), ['--shards', '2', '--time', '1:00:00', '--cpus', '4']);
  });

  void it('reads the progress lines of memlens slurm', () => {
    assert.deepEqual(parseSlurmLine('memlens: slurm submitted job 12: 4 shards', 4), {
      jobId: '12',
      total: 4,
      text: 'submitted job 12: 4 shards',
    });
    assert.deepEqual(
      parseSlurmLine('memlens: slurm job 12: 2/4 shards done, 1 running, 1 pending\n', 4),
      {
        jobId: '12',
        done: 2,
        total: 4,
        text: 'job 12: 2/4 shards done, 1 running, 1 pending',
      },
    );
    assert.equal(parseSlurmLine('memlens: slurm: shards 1 of 4 wrote no part', 4), undefined);
    assert.equal(parseSlurmLine('wrote r.json', 4), undefined);
  });
});
