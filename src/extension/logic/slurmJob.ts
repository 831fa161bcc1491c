/**
 * MemLens: Analyze on Slurm, as pure logic: the `memlens slurm analyze` command line a job's
 * parameters make, and the reading of its progress lines. No VS Code imports.
 */
import type { JobParams } from '../child/protocol';
import type { SettingKey } from './settingsSchema';
import { coerceSetting } from './settingValues';

/** The `memlens.slurm.*` settings. */
export interface SlurmSettings {
  shards: number;
  partition: string;
  time: string;
  /** 0: Slurm's default. */
  cpus: number;
}

/** The `memlens.slurm.*` settings from raw values (`read` returns what settings.json holds). */
export function slurmSettingsFrom(read: (key: SettingKey) => unknown): SlurmSettings {
  return {
    shards: coerceSetting('slurm.shards', read('slurm.shards')),
    partition: coerceSetting('slurm.partition', read('slurm.partition')).trim(),
    time: coerceSetting('slurm.time', read('slurm.time')).trim(),
    cpus: coerceSetting('slurm.cpus', read('slurm.cpus')),
  };
}

/**
 * The `memlens analyze` flags that give `params` (the CLI reads them back into the same
 * analysis options the analysis child builds). Threads are left out: a shard's MI threads
 * follow the CPUs Slurm gives it. The workspace, on a PyTorch model's sys.path, is the
 * command's working directory instead.
 */
export function analyzeFlags(params: JobParams): string[] {
  const flags: string[] = [];
  const add = (name: string, value: string | number | null | undefined): void => {
    if (value !== null && value !== undefined) flags.push(`--${name}`, String(value));
  };
  add('probe', params.probe);
  if (params.layers.length > 0) add('layers', params.layers.join(','));
  add('point', params.point);
  add('samples', params.samples);
  add('seed', params.seed);
  add('bins', params.bins);
  add('binning', params.binning);
  add('k', params.k);
  add('estimator', params.estimator);
  add('mi-neurons', params.miNeurons);
  add('mi-budget', params.miBudget);
  add('memory-budget', params.memoryBudget);
  if (params.backend === 'wasm' || params.backend === 'cpu') add('backend', params.backend);
  add('input', params.input);
  for (const [name, value] of Object.entries(params.inputValues ?? {}))
    add('input-value', `${name}=${value}`);
  add('image-scale', params.imageScale);
  add('python', params.python);
  add('torch-factory', params.torchFactory);
  return flags;
}

/** The `memlens slurm` arguments around the analyze flags: the array's size and resources. */
export function slurmArgs(
  model: string,
  params: JobParams,
  settings: SlurmSettings,
  out: string,
): string[] {
  return [
    'slurm',
    'analyze',
    model,
    ...analyzeFlags(params),
    '--out',
    out,
    '--shards',
    String(settings.shards),
    ...(settings.partition === '' ? [] : ['--partition', settings.partition]),
    ...(settings.time === '' ? [] : ['--time', settings.time]),
    ...(settings.cpus > 0 ? ['--cpus', String(settings.cpus)] : []),
  ];
}

/** What one progress line of `memlens slurm` says. */
export interface SlurmProgress {
  jobId: string;
  /** Shards whose part is written, of `total`; absent on a submission line. */
  done?: number;
  total: number;
  /** The line without its `memlens: slurm ` prefix. */
  text: string;
}

/**
 * Reads a line of `memlens slurm`'s stderr: "submitted job 12: 4 shards" (or "...: shards
 * 1, 3 again") and "job 12: 2/4 shards done, 1 running, 1 pending"; undefined for others.
 */
export function parseSlurmLine(line: string, total: number): SlurmProgress | undefined {
  const text = /^memlens: slurm (.*)$/.exec(line.trim())?.[1];
  if (text === undefined) return undefined;
  const submitted = /^submitted job (\S+):/.exec(text);
  if (submitted !== null) return { jobId: submitted[1], total, text };
  const following = /^job (\S+): (\d+)\/(\d+) shards done/.exec(text);
  if (following === null) return undefined;
  return { jobId: following[1], done: Number(following[2]), total: Number(following[3]), text };
}
