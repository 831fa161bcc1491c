import type { ParseArgsConfig } from 'node:util';
import type { AnalyzeOptions } from '../../core/analysis/analyze';
import type { BackendName, CapturePoint } from '../../core/capture/format';
import type { Binning } from '../../core/measures/entropy';
import { MAX_BINS } from '../../core/measures/entropy';
import { KSG_ESTIMATORS } from '../../core/measures/ksgKernel';
import { IMAGE_SCALES } from '../../core/probe/imageScale';
import type { Progress } from '../../core/progress';
import { planIsNotable, planLine } from '../../core/analysis/miPlan';
import { miProgressText } from '../../core/progressText';
import type { MiPlanReport } from '../../core/report/schema';
import { UserError, excerpt } from '../../core/errors';
import { intFlag, numberFlag, oneOf } from '../flags';
import { TORCH_FLAGS_HELP, torchFlagConfig, torchOpenOptions } from '../torchFlags';

/** The measure flags analyze and compare share. */
export const measureFlagConfig = {
  probe: { type: 'string' },
  layers: { type: 'string' },
  point: { type: 'string' },
  samples: { type: 'string' },
  seed: { type: 'string' },
  bins: { type: 'string' },
  binning: { type: 'string' },
  k: { type: 'string' },
  estimator: { type: 'string' },
  'mi-neurons': { type: 'string' },
  pairs: { type: 'string' },
  'mi-budget': { type: 'string' },
  'memory-budget': { type: 'string' },
  threads: { type: 'string' },
  backend: { type: 'string' },
  input: { type: 'string' },
  'input-value': { type: 'string', multiple: true },
  'batch-size': { type: 'string' },
  'image-scale': { type: 'string' },
  ...torchFlagConfig,
  out: { type: 'string' },
  html: { type: 'string' },
  csv: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const MEASURE_FLAGS_HELP = `Measure options:
  --probe <inputs>      probe inputs: .npy, .npz, .csv, .jsonl or a folder of images
  --layers a,b,...      layers to measure (default: hidden layers with parameters)
  --point <p>           preactivation (default) or output
  --samples <S>         use S probe examples, a subset drawn with --seed (default: all)
  --seed <N>            seed of the probe subset, MI neuron cap, pair sample (default 0)
  --bins <B>            entropy bins, 1 to 10000 (default 100)
  --binning <r>         global (default), layer or neuron bin range
  --k <K>               KSG neighbours (default 3)
  --estimator <e>       MI estimator: ksg (default, KSG-1 as the authors) or mixed (tie-aware:
                        discrete and post-ReLU values; Gao et al. 2017)
  --mi-neurons <N>      at most N neurons per layer in the MI estimate (default: all)
  --pairs <M>           estimate MI on M sampled pairs (default: all pairs)
  --mi-budget <s>       seconds the MI may take by the estimate made before it (default 60;
                        0: no limit): over it, a seeded cap of 64 or more neurons per layer,
                        then sampled pairs; --mi-neurons and --pairs win over it
  --memory-budget <MB>  MiB the S x N matrix may take in memory (16 bytes a value; default
                        1024): a larger capture goes to a temporary .npy, and it or a larger
                        .npy, .safetensors or np.savez .npz dump is read a band of columns at
                        a time, holding only the MI neurons
  --threads <N>         MI worker threads (default: all cores)
  --backend <b>         TF.js backend: tfjs-node, wasm or cpu (default: first that starts)
  --input <name>        the model input the probe feeds (ONNX or TF.js models with several
                        inputs; default: the only one with a batch dimension first, not a mask)
  --input-value <n=v>   the number another input gets, broadcast to its shape per batch
                        (repeatable: --input-value sr=8000 --input-value state=0; default 0,
                        1 for a mask or a *_ratio/*_scale, 16000 for sr/sample_rate)
  --batch-size <N>      examples per forward pass
  --image-scale <s>     image probe pixels as 0-1, 0-255 or neg1-1 (default: 0-255 for a
                        model whose image input is int32/uint8, else 0-1)
${TORCH_FLAGS_HELP}
Output options:
  --out <file.json>     write the JSON report ('-' for stdout: then no table is printed)
  --html <file.html>    write the self-contained HTML report
  --csv <file.csv>      write the per-layer table as CSV
  --quiet               no progress on stderr`;

type Values = {
  [K in keyof typeof measureFlagConfig]?: (typeof measureFlagConfig)[K] extends { multiple: true }
    ? string[]
    : (typeof measureFlagConfig)[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

/**
 * The values of repeated --input-value NAME=VALUE flags, or undefined when none is given;
 * a malformed one, or a name given twice, is a one-line UserError.
 */
export function inputValuesFlag(
  flags: readonly string[] | undefined,
): Record<string, number> | undefined {
  if (flags === undefined || flags.length === 0) return undefined;
  const values: Record<string, number> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    const name = at < 0 ? '' : flag.slice(0, at).trim();
    const text = at < 0 ? '' : flag.slice(at + 1).trim();
    const value = Number(text);
    if (name === '' || text === '' || !Number.isFinite(value))
      throw new UserError(
        `--input-value: expected NAME=NUMBER (e.g. sr=16000), found '${excerpt(flag)}'`,
      );
    if (Object.prototype.hasOwnProperty.call(values, name))
      throw new UserError(`--input-value: input '${excerpt(name)}' is given twice`);
    values[name] = value;
  }
  return values;
}

/** Analysis options from the shared flags (each invalid value is a one-line UserError). */
export function analyzeOptionsFrom(values: Values, signal: AbortSignal): AnalyzeOptions {
  const opts: AnalyzeOptions = { signal };
  const set = <K extends keyof AnalyzeOptions>(key: K, v: AnalyzeOptions[K] | undefined): void => {
    if (v !== undefined) opts[key] = v;
  };
  set('probe', values.probe);
  set(
    'layers',
    values.layers
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
  set('point', oneOf<CapturePoint>('point', values.point, ['preactivation', 'output']));
  set('samples', intFlag('samples', values.samples, 2));
  set('seed', intFlag('seed', values.seed, 0));
  set('bins', intFlag('bins', values.bins, 1, MAX_BINS));
  set('binning', oneOf<Binning>('binning', values.binning, ['global', 'layer', 'neuron']));
  set('k', intFlag('k', values.k, 1));
  set('estimator', oneOf('estimator', values.estimator, KSG_ESTIMATORS));
  set('miNeuronCap', intFlag('mi-neurons', values['mi-neurons'], 2));
  set('pairs', intFlag('pairs', values.pairs, 1));
  set('miBudget', numberFlag('mi-budget', values['mi-budget'], 0));
  const budget = numberFlag('memory-budget', values['memory-budget'], 0);
  set('memoryBudget', budget === undefined ? undefined : budget * 2 ** 20);
  set('threads', intFlag('threads', values.threads, 1));
  set('backend', oneOf<BackendName>('backend', values.backend, ['tfjs-node', 'wasm', 'cpu']));
  set('input', values.input);
  set('inputValues', inputValuesFlag(values['input-value']));
  set('batchSize', intFlag('batch-size', values['batch-size'], 1));
  set('imageScale', oneOf('image-scale', values['image-scale'], IMAGE_SCALES));
  Object.assign(opts, torchOpenOptions(values));
  if (values.quiet !== true && process.stderr.isTTY) opts.onProgress = progressLine();
  if (values.quiet !== true) opts.onPlan = (plan) => printPlan(plan, process.stderr);
  return opts;
}

/**
 * The MI plan's line before the work, when it is worth one (a fallback or a long estimate),
 * with how to get every pair when the budget chose a subset.
 */
export function printPlan(
  plan: MiPlanReport,
  stderr: { write(text: string): unknown; isTTY?: boolean },
): void {
  if (!planIsNotable(plan)) return;
  const allPairs = plan.mode === 'capped' || plan.mode === 'sampled';
  const clear = stderr.isTTY === true ? '\r\x1b[2K' : '';
  stderr.write(`${clear}${planLine(plan)}${allPairs ? '; --mi-budget 0 for all pairs' : ''}\n`);
}

/** A one-line progress display on stderr (TTY only), cleared at each update. */
function progressLine(): (p: Progress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 100 && p.done !== p.total) return;
    last = now;
    const pct = p.total > 0 ? ` ${Math.round((100 * p.done) / p.total)}%` : '';
    const eta = p.stage === 'mi' ? ` ${miProgressText(p)}` : '';
    const text = `${p.stage}${pct}${eta}${p.detail === undefined ? '' : ` ${p.detail}`}`;
    process.stderr.write(
      `\r\x1b[2K${text.slice(0, Math.max(20, (process.stderr.columns || 80) - 1))}`,
    );
  };
}

export function clearProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}
