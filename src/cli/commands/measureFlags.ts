import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import type { AnalyzeOptions } from '../../core/analysis/analyze';
import type { BackendName, CapturePoint } from '../../core/capture/types';
import { UserError } from '../../core/errors';
import type { Binning } from '../../core/measures/entropy';
import type { Progress } from '../../core/progress';

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
  'mi-neurons': { type: 'string' },
  pairs: { type: 'string' },
  threads: { type: 'string' },
  backend: { type: 'string' },
  'batch-size': { type: 'string' },
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
  --bins <B>            entropy bins (default 100)
  --binning <r>         global (default), layer or neuron bin range
  --k <K>               KSG neighbours (default 3)
  --mi-neurons <N>      at most N neurons per layer in the MI estimate (default: all)
  --pairs <M>           estimate MI on M sampled pairs (default: all pairs)
  --threads <N>         MI worker threads (default: all cores)
  --backend <b>         TF.js backend: tfjs-node, wasm or cpu (default: first that starts)
  --batch-size <N>      examples per forward pass
Output options:
  --out <file.json>     write the JSON report ('-' for stdout: then no table is printed)
  --html <file.html>    write the self-contained HTML report
  --csv <file.csv>      write the per-layer table as CSV
  --quiet               no progress on stderr`;

type Values = {
  [K in keyof typeof measureFlagConfig]?: (typeof measureFlagConfig)[K]['type'] extends 'boolean'
    ? boolean
    : string;
};

function integer(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UserError(`--${flag}: expected an integer >= ${min}, found '${value}'`);
  }
  return n;
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UserError(`--${flag}: expected one of ${allowed.join(', ')}, found '${value}'`);
  }
  return value as T;
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
  set('samples', integer('samples', values.samples, 2));
  set('seed', integer('seed', values.seed, 0));
  set('bins', integer('bins', values.bins, 1));
  set('binning', oneOf<Binning>('binning', values.binning, ['global', 'layer', 'neuron']));
  set('k', integer('k', values.k, 1));
  set('miNeuronCap', integer('mi-neurons', values['mi-neurons'], 2));
  set('pairs', integer('pairs', values.pairs, 1));
  set('threads', integer('threads', values.threads, 1));
  set('backend', oneOf<BackendName>('backend', values.backend, ['tfjs-node', 'wasm', 'cpu']));
  set('batchSize', integer('batch-size', values['batch-size'], 1));
  if (values.quiet !== true && process.stderr.isTTY) opts.onProgress = progressLine();
  return opts;
}

/** A one-line progress display on stderr (TTY only), cleared at each update. */
function progressLine(): (p: Progress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 100 && p.done !== p.total) return;
    last = now;
    const pct = p.total > 0 ? ` ${Math.round((100 * p.done) / p.total)}%` : '';
    const text = `${p.stage}${pct}${p.detail === undefined ? '' : ` ${p.detail}`}`;
    process.stderr.write(
      `\r\x1b[2K${text.slice(0, Math.max(20, (process.stderr.columns || 80) - 1))}`,
    );
  };
}

export function clearProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}

/**
 * Checks, before any long work, that each output file can be created: its folder exists and
 * is writable, and the path is not a folder. A failure is a UserError naming the file.
 */
export async function checkOutputs(files: (string | undefined)[]): Promise<void> {
  for (const file of files) {
    if (file === undefined || file === '-') continue;
    const dir = path.dirname(path.resolve(file));
    try {
      await fs.access(dir, constants.W_OK);
    } catch (err) {
      throw new UserError(
        `${file}: cannot write output (${(err as NodeJS.ErrnoException).code ?? 'error'}): expected an existing, writable folder '${dir}'`,
      );
    }
    const stat = await fs.stat(file).catch(() => null);
    if (stat?.isDirectory())
      throw new UserError(`${file}: cannot write output: expected a file path, found a folder`);
  }
}

/** Formats a number for tables: fixed digits, '-' for NaN/null. */
export function num(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

/** The first `left` columns left-aligned (default 1), the others right-aligned, two spaces apart. */
export function formatTable(header: string[], rows: string[][], left = 1): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (c < left ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
