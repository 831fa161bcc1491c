import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MI_BUDGET_SECONDS } from '../../core/analysis/miPlan';
import { planFor, planForNeurons } from '../../core/analysis/miRate';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/io/atomicWrite';
import { readSidecarLayers } from '../../core/dumps/loadDump';
import { dumpMeasureInput } from '../../core/dumps/dumpMeasure';
import { scanDump, shardDumpMi } from '../../core/dumps/dumpShard';
import { layersFromSizes, readActivationsNpy } from '../../core/io/activationsNpy';
import { NpyColumns } from '../../core/io/npyColumns';
import { encodeNpy } from '../../core/io/npy';
import type { Binning } from '../../core/measures/entropy';
import { BINNINGS, MAX_BINS } from '../../core/measures/entropy';
import { KSG_ESTIMATORS } from '../../core/measures/ksgKernel';
import type { LayerSlice } from '../../core/activations';
import type { PlanForOptions } from '../../core/analysis/miRate';
import type { KsgEstimator } from '../../core/measures/ksgKernel';
import type { MeasureInput, MeasureResult } from '../../core/measures/measure';
import { matrixInput, measureInput } from '../../core/measures/measure';
import { capNeurons } from '../../core/measures/neuronCap';
import { disposeMiPool } from '../../core/mi/miMatrix';
import { currentShard, inMerge } from '../../core/mi/shards';
import type { Progress } from '../../core/progress';
import { miProgressText } from '../../core/progressText';
import type { MiPlanReport } from '../../core/report/schema';
import type { Command } from '../command';
import { checkOutputs, intFlag, numberFlag, oneOf } from '../flags';
import { printPlan } from './measureFlags';

const HELP = `Usage: memlens measure <activations.npy> [options]

Per-neuron binned entropy and all-pairs KSG mutual information (nats) of an S x N
activation matrix (float32 or float64 .npy, C order: S examples, N neurons), with
per-layer summaries. Writes JSON: params (params.miKernel: the MI kernel that computed
the values, native, wasm or ts), summary, warnings, timing, entropy (N numbers),
ties (per neuron, the fraction of its values tied with another) and mi (N x N; null on
the diagonal and for pairs not computed). Up to 2,048 neurons the MI matrix is inline;
beyond, it goes to FILE.mi.npy beside the --out FILE (m x m float64 over the neurons of
params.miColumns, NaN on the diagonal and for pairs not computed) and mi points at it.
A job whose estimated memory is over the limit is refused before the MI starts.

Options:
  --bins N              equal-width entropy bins, 1 to 10000 (default 100)
  --binning MODE        bin range: global (all neurons, default), layer or neuron
  --k N                 KSG neighbours (default 3)
  --estimator E         MI estimator: ksg (default, KSG-1 as the authors) or mixed
                        (tie-aware: discrete and post-ReLU values; Gao et al. 2017)
  --layer-sizes A,B,..  neurons per layer, in column order; must sum to N (default: the
                        layers of the <file>.layers.json that memlens capture writes, if any)
  --threads N           MI worker threads (default: all cores)
  --mi-neurons N        at most N neurons per layer enter MI (seeded subset)
  --pairs M             estimate MI on M uniformly sampled pairs only (preview)
  --mi-budget SECONDS   seconds the MI may take by the estimate made before it (default 60;
                        0: no limit): over it, a seeded cap of 64 or more neurons per layer,
                        then sampled pairs; --mi-neurons and --pairs win over it
  --seed N              seed of the neuron subset and the pair sample (default 0)
  --drop-nonfinite      drop examples (rows) holding NaN or Inf instead of failing
  --mi-matrix MODE      auto (default: inline up to 2,048 neurons, else npy), inline (JSON,
                        up to 4,096 neurons), npy (FILE.mi.npy, needs --out) or none
  --max-memory GIB      refuse a job estimated to need more (default: half the machine's
                        memory, at most 4)
  --out FILE            write the JSON to FILE (default: standard output)
  -h, --help            show this help`;

/** Where the command writes: the process streams, or test doubles. */
export interface CliStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/** `memlens measure`: see HELP. Returns the exit code; bad input throws a one-line UserError. */
export async function runMeasure(
  args: string[],
  signal: AbortSignal,
  io: CliStreams,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        bins: { type: 'string' },
        binning: { type: 'string' },
        k: { type: 'string' },
        estimator: { type: 'string' },
        'layer-sizes': { type: 'string' },
        threads: { type: 'string' },
        'mi-neurons': { type: 'string' },
        pairs: { type: 'string' },
        'mi-budget': { type: 'string' },
        seed: { type: 'string' },
        'drop-nonfinite': { type: 'boolean' },
        'mi-matrix': { type: 'string' },
        'max-memory': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    const message = (err as Error).message.replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
    throw new UserError(`measure: ${message}; see 'memlens measure --help'`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    io.stdout.write(HELP + '\n');
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UserError(
      `measure: expected one activations .npy file, found ${positionals.length === 0 ? 'none' : positionals.join(' ')}; see 'memlens measure --help'`,
    );
  }
  const input = positionals[0];
  const bins = intFlag('bins', v.bins, 1, MAX_BINS) ?? 100;
  const k = intFlag('k', v.k, 1) ?? 3;
  const estimator = oneOf('estimator', v.estimator, KSG_ESTIMATORS) ?? 'ksg';
  const threads = intFlag('threads', v.threads, 1, 256);
  const miNeuronCap = intFlag('mi-neurons', v['mi-neurons'], 2) ?? null;
  const pairs = intFlag('pairs', v.pairs, 1) ?? null;
  const budgetSeconds = numberFlag('mi-budget', v['mi-budget'], 0) ?? DEFAULT_MI_BUDGET_SECONDS;
  const seed = intFlag('seed', v.seed, 0, 0xffffffff) ?? 0;
  const binning = (v.binning ?? 'global') as Binning;
  if (!BINNINGS.includes(binning)) {
    throw new UserError(`--binning: expected one of ${BINNINGS.join(', ')}, found '${v.binning}'`);
  }
  const layerSizes = v['layer-sizes'] === undefined ? undefined : sizesFlag(v['layer-sizes']);
  const matrixMode = oneOf('mi-matrix', v['mi-matrix'], MI_MATRIX_MODES) ?? 'auto';
  const maxMemory = numberFlag('max-memory', v['max-memory'], 0.01);
  const out = v.out;
  if (matrixMode === 'npy' && out === undefined)
    throw new UserError(`--mi-matrix npy: expected --out FILE (the matrix goes to FILE.mi.npy)`);
  const npyOut =
    out !== undefined && matrixMode !== 'inline' && matrixMode !== 'none'
      ? `${out}.mi.npy`
      : undefined;
  // The matrix and the sidecar beside it (read when there is no --layer-sizes) are inputs.
  await checkOutputs({
    outputs: [
      ['--out', out],
      ['MI matrix', npyOut],
    ],
    models: [input],
  });

  const dropNonfinite = v['drop-nonfinite'] ?? false;
  const planOptions = {
    k,
    estimator,
    threads: threads ?? availableParallelism(),
    budgetSeconds,
    asked: { cap: miNeuronCap, pairs },
    signal,
  };
  const dumpOptions = { k, estimator, dropNonfinite, layerSizes };
  if (currentShard() !== undefined) {
    const dump = NpyColumns.open(input);
    try {
      outputMode(input, dump.neurons, matrixMode, out);
      const { scan, layers } = await scanned(dump, input, dumpOptions);
      const plan = await planForNeurons(scan.samples, layers, scan.measurable, planOptions);
      printPlan(plan, io.stderr);
      const columns = capNeurons(layers, plan.cap, seed, (c) => scan.measurable[c]);
      await shardDumpMi(dump, scan, columns, {
        k,
        estimator,
        pairs: plan.sampledPairs,
        seed,
        signal,
        ...(threads !== undefined ? { threads } : {}),
      });
    } finally {
      dump.close();
      await disposeMiPool();
    }
    return 0;
  }
  // A merge reads the dump a band of columns at a time, never whole (dumpMeasure.ts).
  const source = inMerge()
    ? await bandSource(input, dumpOptions)
    : await matrixSource(input, dumpOptions);
  const { acts, sidecar } = source;
  const perLayer = layerSizes !== undefined || sidecar !== undefined;
  const N = acts.neurons;
  const cells = N * N;
  let matrix: ReturnType<typeof outputMode>;
  let result: MeasureResult;
  let plan: MiPlanReport;
  const progress = io.stderr.isTTY ? ttyProgress(io.stderr) : undefined;
  try {
    matrix = outputMode(input, N, matrixMode, out);
    plan = await source.plan(planOptions);
    printPlan(plan, io.stderr);
    result = await measureInput(acts, {
      bins,
      binning,
      k,
      estimator,
      miNeuronCap: plan.cap,
      pairs: plan.sampledPairs,
      seed,
      signal,
      source: input,
      outputBytes: (mi) => outputBytes(matrix, cells, mi.neurons),
      ...(maxMemory !== undefined ? { memoryLimit: maxMemory * 1024 ** 3 } : {}),
      ...(threads !== undefined ? { threads } : {}),
      ...(progress ? { onProgress: progress.report } : {}),
    });
  } finally {
    progress?.end();
    source.dump?.close();
    // The worker pool would otherwise keep the process alive.
    await disposeMiPool();
  }
  const report = {
    params: {
      input,
      dtype: source.dtype,
      samples: acts.samples,
      neurons: N,
      droppedRows: source.droppedRows,
      bins,
      binning,
      k,
      estimator,
      threads: result.params.threads,
      layerSizes: layerSizes ?? sidecar?.map((l) => l.end - l.start) ?? null,
      miNeuronCap: plan.cap,
      miColumns: result.mi.columns.length < N ? result.mi.columns : null,
      pairs: plan.sampledPairs,
      pairsComputed: result.mi.pairsComputed,
      pairsTotal: result.mi.pairsTotal,
      miKernel: result.mi.kernel,
      seed,
      miMatrix: matrix,
    },
    miPlan: plan,
    summary: {
      entropy: result.summary.entropy,
      mi: result.summary.mi,
      density: result.summary.density,
      ...(perLayer ? { layers: result.layers.map(({ entropies: _, ...rest }) => rest) } : {}),
    },
    warnings: [
      ...(source.droppedRows > 0
        ? [
            {
              code: 'nonfinite-dropped',
              message: `${source.droppedRows} examples with NaN/Inf values dropped; ${acts.samples} remain`,
            },
          ]
        : []),
      ...result.warnings,
    ],
    timing: result.timing,
    entropy: Array.from(result.entropy),
    ties: Array.from(result.tieFractions),
    mi:
      matrix === 'inline'
        ? new JsonRows(miRows(result, N, progress?.report))
        : matrix === 'npy'
          ? {
              file: path.basename(npyOut!),
              dtype: 'float64',
              shape: [result.mi.columns.length, result.mi.columns.length],
              columns: result.mi.columns.length < N ? result.mi.columns : null,
            }
          : null,
  };
  if (matrix === 'npy') {
    const m = result.mi.columns.length;
    progress?.report({ stage: 'write', done: 0, total: 1, detail: npyOut });
    await writeFileAtomic(npyOut!, encodeNpy(result.mi.values, [m, m]), { signal });
    progress?.report({ stage: 'write', done: 1, total: 1, detail: npyOut });
    if (matrixMode === 'auto') {
      io.stderr.write(
        `memlens: the ${m.toLocaleString('en-US')} x ${m.toLocaleString('en-US')} MI matrix is in ${npyOut} (float64; inline JSON stops at ${MI_INLINE_CELLS.toLocaleString('en-US')} cells; --mi-matrix inline|npy|none)\n`,
      );
    }
  }
  const json = formatJson(report) + '\n';
  progress?.end();
  if (out !== undefined) {
    await writeFileAtomic(out, json, { signal });
  } else {
    io.stdout.write(json);
  }
  return 0;
}

/** What measure reads of the .npy: how, its dtype, the rows dropped and the sidecar layers. */
interface ValuesSource {
  acts: MeasureInput;
  dtype: 'float32' | 'float64';
  droppedRows: number;
  /** The layers of the `.layers.json` beside the file, when read (no --layer-sizes). */
  sidecar: LayerSlice[] | undefined;
  plan(opts: PlanForOptions): Promise<MiPlanReport>;
  /** The file read by columns, to close. */
  dump?: NpyColumns;
}

interface DumpOptions {
  k: number;
  estimator: KsgEstimator;
  dropNonfinite: boolean;
  layerSizes: number[] | undefined;
}

/** The .npy read whole into memory. */
async function matrixSource(input: string, opts: DumpOptions): Promise<ValuesSource> {
  const loaded = await readActivationsNpy(input, opts);
  // Without --layer-sizes, the layers `memlens capture` wrote beside the matrix, if any.
  const sidecar =
    opts.layerSizes === undefined ? await readSidecarLayers(input, loaded.acts.neurons) : undefined;
  if (sidecar) loaded.acts.layers = sidecar;
  return {
    acts: matrixInput(loaded.acts),
    dtype: loaded.dtype,
    droppedRows: loaded.droppedRows,
    sidecar,
    plan: (o) => planFor(loaded.acts, o),
  };
}

/** The .npy read a band of columns at a time (a merge: the MI values come from the parts). */
async function bandSource(input: string, opts: DumpOptions): Promise<ValuesSource> {
  const dump = NpyColumns.open(input);
  try {
    const { scan, layers, sidecar } = await scanned(dump, input, opts);
    return {
      acts: dumpMeasureInput(dump, scan, layers),
      dtype: dump.dtype,
      droppedRows: scan.droppedRows,
      sidecar,
      plan: (o) => planForNeurons(scan.samples, layers, scan.measurable, o),
      dump,
    };
  } catch (err) {
    dump.close();
    throw err;
  }
}

/** The scan of a dump read by columns, and its layers: --layer-sizes, the sidecar's or one. */
async function scanned(dump: NpyColumns, input: string, opts: DumpOptions) {
  const scan = scanDump(dump, opts);
  const sidecar =
    opts.layerSizes === undefined ? await readSidecarLayers(input, dump.neurons) : undefined;
  const layers = opts.layerSizes
    ? layersFromSizes(opts.layerSizes, dump.neurons, input)
    : (sidecar ?? [{ name: 'all', start: 0, end: dump.neurons }]);
  return { scan, layers, sidecar };
}

export const measureCommand: Command = {
  summary: 'entropy and mutual information of an activation matrix (.npy) as JSON',
  run: (args, signal) => runMeasure(args, signal, process),
};

/**
 * How the MI matrix of N neurons is written (--mi-matrix `mode`; auto: inline up to
 * MI_INLINE_CELLS): a matrix too large for the way asked is a one-line UserError.
 */
function outputMode(
  input: string,
  N: number,
  mode: (typeof MI_MATRIX_MODES)[number],
  out: string | undefined,
): 'inline' | 'npy' | 'none' {
  const cells = N * N;
  const matrix = mode === 'auto' ? (cells <= MI_INLINE_CELLS ? 'inline' : 'npy') : mode;
  if (matrix === 'npy' && out === undefined) {
    throw new UserError(
      `${input}: expected at most ${MI_INLINE_CELLS.toLocaleString('en-US')} cells for an inline MI matrix on standard output, found ${N.toLocaleString('en-US')} x ${N.toLocaleString('en-US')}; give --out FILE (the matrix goes to FILE.mi.npy), --mi-matrix none, or fewer neurons (--mi-neurons N)`,
    );
  }
  if (matrix === 'inline' && cells > MI_INLINE_MAX_CELLS) {
    throw new UserError(
      `${input}: expected at most ${MI_INLINE_MAX_CELLS.toLocaleString('en-US')} cells for --mi-matrix inline (4,096 neurons), found ${N.toLocaleString('en-US')} x ${N.toLocaleString('en-US')}; use --mi-matrix npy with --out, none, or fewer neurons (--mi-neurons N)`,
    );
  }
  return matrix;
}

/** The CLI's ways of writing the MI matrix (--mi-matrix). */
const MI_MATRIX_MODES = ['auto', 'inline', 'npy', 'none'] as const;

/**
 * `auto` writes the N x N matrix inline up to this many cells (2,048 neurons: up to ~110 MB
 * of JSON, already more than most JSON tools open comfortably), as .npy beyond.
 */
export const MI_INLINE_CELLS = 2048 * 2048;

/**
 * `inline` at most: 4,096 neurons, 16.8 million cells, up to ~440 million characters: the
 * JSON is one string and V8's longest is 2^29 - 24 (536,870,888) characters.
 */
export const MI_INLINE_MAX_CELLS = 4096 * 4096;

/** Most characters one cell takes in the JSON ("-0.12345678901234567, "), for the estimate. */
const CELL_CHARS = 26;

/**
 * Memory the output of the matrix needs beyond the result: inline, the row strings, the
 * matrix's JSON they are joined into, the whole report's text and the bytes written (one byte
 * a character, four times); npy, the file's bytes (a copy of the m x m float64 matrix).
 */
function outputBytes(matrix: 'inline' | 'npy' | 'none', cells: number, m: number): number {
  if (matrix === 'inline') return 4 * CELL_CHARS * cells;
  if (matrix === 'npy') return 8 * m * m + 128;
  return 0;
}

/** Pre-rendered rows of a JSON array of arrays, written by {@link formatJson} as they are. */
class JsonRows {
  constructor(readonly rows: string[]) {}
}

/**
 * The N x N matrix over all neurons as JSON rows, one string per row, rendered straight from
 * the m x m result (no N x N array of JS values): null on the diagonal and where no pair was
 * computed.
 */
function miRows(result: MeasureResult, neurons: number, report?: (p: Progress) => void): string[] {
  const { columns, values } = result.mi;
  const m = columns.length;
  const position = new Int32Array(neurons).fill(-1);
  columns.forEach((c, i) => (position[c] = i));
  const rows: string[] = [];
  const cells = new Array<string>(neurons);
  for (let i = 0; i < neurons; i++) {
    const a = position[i];
    for (let j = 0; j < neurons; j++) {
      const b = position[j];
      const x = a < 0 || b < 0 || a === b ? NaN : values[a * m + b];
      cells[j] = Number.isNaN(x) ? 'null' : JSON.stringify(x);
    }
    rows.push(`[${cells.join(', ')}]`);
    if (report && i % 256 === 255) report({ stage: 'write', done: i + 1, total: neurons });
  }
  report?.({ stage: 'write', done: neurons, total: neurons });
  return rows;
}

function sizesFlag(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    throw new UserError(
      `--layer-sizes: expected positive integers separated by commas (e.g. 64,64,64), found '${text}'`,
    );
  }
  return parts.map(Number);
}

/** Progress lines on a terminal, redrawn in place at most every 100 ms. */
function ttyProgress(stderr: CliStreams['stderr']) {
  let last = 0;
  let shown = false;
  return {
    report(p: Progress): void {
      const now = Date.now();
      if (now - last < 100 && p.done < p.total) return;
      last = now;
      shown = true;
      const pct = p.total > 0 ? ` ${Math.floor((100 * p.done) / p.total)}%` : '';
      const eta = p.stage === 'mi' && p.eta !== undefined ? ` ${miProgressText(p)}` : '';
      stderr.write(
        `\r\x1b[Kmemlens: ${p.stage} ${p.done}/${p.total}${pct}${eta}${p.detail ? ` ${p.detail}` : ''}`,
      );
    },
    end(): void {
      if (shown) stderr.write('\r\x1b[K');
    },
  };
}

/** JSON with two-space indentation, but arrays of numbers (or null) on one line each. */
export function formatJson(value: unknown, indent = ''): string {
  if (value instanceof JsonRows) {
    if (value.rows.length === 0) return '[]';
    const inner = indent + '  ';
    return `[\n${inner}${value.rows.join(`,\n${inner}`)}\n${indent}]`;
  }
  if (Array.isArray(value)) {
    if (value.every((x) => x === null || typeof x === 'number'))
      return `[${value.map((x) => JSON.stringify(x)).join(', ')}]`;
    if (value.length === 0) return '[]';
    const inner = indent + '  ';
    return `[\n${value.map((x) => inner + formatJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([key, x]) => `${inner}${JSON.stringify(key)}: ${formatJson(x, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
