/**
 * The job parameters from the `memlens.*` settings, each read through the settings table
 * (coerced to its type, range and choices). host/settings.ts supplies VS Code's values; the
 * probe is resolved separately. No VS Code imports.
 */
import type { JobParams } from '../child/protocol';
import type { SettingKey } from './settingsSchema';
import { coerceSetting } from './settingValues';

/** The settings the host reads as paths (host/settings.ts `settingPath`), not into JobParams. */
export const PATH_SETTING_KEYS = [
  'probeData',
  'baseline',
  'slurm.workDir',
] as const satisfies SettingKey[];
export type PathSettingKey = (typeof PATH_SETTING_KEYS)[number];

/** What the parameters need besides the settings. */
export interface JobSettingsContext {
  /** `os.availableParallelism()`: `memlens.threads` 0 means one thread per core, minus one. */
  cores: number;
  /** The workspace folder of the job's scope, else the first one; null: none open. */
  workspace: string | null;
  /** `memlens.pythonPath` (trimmed, non-empty) to the interpreter to run. */
  resolvePython: (value: string) => string | null;
}

/** The analysis parameters from raw setting values (`read` returns what settings.json holds). */
export function jobParamsFromSettings(
  read: (key: SettingKey) => unknown,
  context: JobSettingsContext,
): JobParams {
  const get = <K extends SettingKey>(key: K) => coerceSetting(key, read(key));
  const text = (key: 'modelInput' | 'torchFactory' | 'pythonPath'): string | null => {
    const value = get(key).trim();
    return value === '' ? null : value;
  };
  const threads = get('threads');
  const python = text('pythonPath');
  const target = get('target');
  const imageScale = get('imageScale');
  const inputValues = get('inputValues');
  return {
    probe: null,
    samples: get('samples'),
    seed: get('seed'),
    layers: get('layers').filter((l) => l.trim() !== ''),
    point: get('point'),
    bins: get('bins'),
    binning: get('binning'),
    k: get('k'),
    estimator: get('estimator'),
    miNeurons: get('miNeurons'),
    miBudget: get('miBudget'),
    memoryBudget: get('memoryBudget'),
    threads: threads > 0 ? threads : Math.max(1, context.cores - 1),
    backend: get('backend'),
    input: text('modelInput'),
    // Sent only when set: the fixture and older children see the JobParams they know.
    ...(Object.keys(inputValues).length === 0 ? {} : { inputValues }),
    imageScale: imageScale === 'auto' ? null : imageScale,
    python: python === null ? null : context.resolvePython(python),
    torchFactory: text('torchFactory'),
    workspace: context.workspace,
    thresholds: {
      deltaEntropy: get('thresholds.deltaEntropy'),
      miRatio: get('thresholds.miRatio'),
      scaleRatio: get('thresholds.scaleRatio'),
    },
    target: target === 'none' ? null : target,
  };
}
