import { parseArgs } from 'node:util';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/io/atomicWrite';
import { readSidecarLayers } from '../../core/dumps/loadDump';
import { readActivationsNpy } from '../../core/io/activationsNpy';
import type { Binning } from '../../core/measures/entropy';
import { BINNINGS } from '../../core/measures/entropy';
import { KSG_ESTIMATORS } from '../../core/measures/ksgKernel';
import type { MeasureResult } from '../../core/measures/measure';
import { measure } from '../../core/measures/measure';
import { disposeMiPool } from '../../core/mi/miMatrix';
import type { Progress } from '../../core/progress';
import type { Command } from '../command';
import { checkOutputs, intFlag, oneOf } from '../flags';

const HELP = `Usage: memlens measure <activations.npy> [options]

Per-neuron binned entropy and all-pairs KSG mutual information (nats) of an S x N
activation matrix (float32 or float64 .npy, C order: S examples, N neurons), with
per-layer summaries. Writes JSON: params, summary, warnings, timing, entropy (N numbers),
ties (per neuron, the fraction of its values tied with another) and mi (N x N; null on
the diagonal and for pairs not computed).

Options:
  --bins N              equal-width entropy bins (default 100)
  --binning MODE        bin range: global (all neurons, default), layer or neuron
  --k N                 KSG neighbours (default 3)
  --estimator E         MI estimator: ksg (default, KSG-1 as the authors) or mixed
                        (tie-aware: discrete and post-ReLU values; Gao et al. 2017)
  --layer-sizes A,B,..  neurons per layer, in column order; must sum to N (default: the
                        layers of the <file>.layers.json that memlens capture writes, if any)
  --threads N           MI worker threads (default: all cores)
  --mi-neurons N        at most N neurons per layer enter MI (seeded subset)
  --pairs M             estimate MI on M uniformly sampled pairs only (preview)
  --seed N              seed of the neuron subset and the pair sample (default 0)
  --drop-nonfinite      drop examples (rows) holding NaN or Inf instead of failing
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
        seed: { type: 'string' },
        'drop-nonfinite': { type: 'boolean' },
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
  const bins = intFlag('bins', v.bins, 1) ?? 100;
  const k = intFlag('k', v.k, 1) ?? 3;
  const estimator = oneOf('estimator', v.estimator, KSG_ESTIMATORS) ?? 'ksg';
  const threads = intFlag('threads', v.threads, 1, 256);
  const miNeuronCap = intFlag('mi-neurons', v['mi-neurons'], 2) ?? null;
  const pairs = intFlag('pairs', v.pairs, 1) ?? null;
  const seed = intFlag('seed', v.seed, 0, 0xffffffff) ?? 0;
  const binning = (v.binning ?? 'global') as Binning;
  if (!BINNINGS.includes(binning)) {
    throw new UserError(`--binning: expected one of ${BINNINGS.join(', ')}, found '${v.binning}'`);
  }
  const layerSizes = v['layer-sizes'] === undefined ? undefined : sizesFlag(v['layer-sizes']);
  const out = v.out;
  // The matrix and the sidecar beside it (read when there is no --layer-sizes) are inputs.
  await checkOutputs({ outputs: [['--out', out]], models: [input] });

  const loaded = await readActivationsNpy(input, {
    k,
    dropNonfinite: v['drop-nonfinite'] ?? false,
    layerSizes,
  });
  // Without --layer-sizes, the layers `memlens capture` wrote beside the matrix, if any.
  const sidecar =
    layerSizes === undefined ? await readSidecarLayers(input, loaded.acts.neurons) : undefined;
  if (sidecar) loaded.acts.layers = sidecar;
  const perLayer = layerSizes !== undefined || sidecar !== undefined;
  const progress = io.stderr.isTTY ? ttyProgress(io.stderr) : undefined;
  let result: MeasureResult;
  try {
    result = await measure(loaded.acts, {
      bins,
      binning,
      k,
      estimator,
      miNeuronCap,
      pairs,
      seed,
      signal,
      ...(threads !== undefined ? { threads } : {}),
      ...(progress ? { onProgress: progress.report } : {}),
    });
  } finally {
    progress?.end();
    // The worker pool would otherwise keep the process alive.
    await disposeMiPool();
  }
  const report = {
    params: {
      input,
      dtype: loaded.dtype,
      samples: loaded.acts.samples,
      neurons: loaded.acts.neurons,
      droppedRows: loaded.droppedRows,
      bins,
      binning,
      k,
      estimator,
      threads: result.params.threads,
      layerSizes: layerSizes ?? sidecar?.map((l) => l.end - l.start) ?? null,
      miNeuronCap,
      miColumns: result.mi.columns.length < loaded.acts.neurons ? result.mi.columns : null,
      pairs,
      pairsComputed: result.mi.pairsComputed,
      pairsTotal: result.mi.pairsTotal,
      seed,
    },
    summary: {
      entropy: result.summary.entropy,
      mi: result.summary.mi,
      density: result.summary.density,
      ...(perLayer ? { layers: result.layers.map(({ entropies: _, ...rest }) => rest) } : {}),
    },
    warnings: [
      ...(loaded.droppedRows > 0
        ? [
            {
              code: 'nonfinite-dropped',
              message: `${loaded.droppedRows} examples with NaN/Inf values dropped; ${loaded.acts.samples} remain`,
            },
          ]
        : []),
      ...result.warnings,
    ],
    timing: result.timing,
    entropy: Array.from(result.entropy),
    ties: Array.from(result.tieFractions),
    mi: fullMiMatrix(result, loaded.acts.neurons),
  };
  const json = formatJson(report) + '\n';
  if (out !== undefined) {
    await writeFileAtomic(out, json, { signal });
  } else {
    io.stdout.write(json);
  }
  return 0;
}

export const measureCommand: Command = {
  summary: 'entropy and mutual information of an activation matrix (.npy) as JSON',
  run: (args, signal) => runMeasure(args, signal, process),
};

/** The N x N matrix over all neurons: null on the diagonal and where no pair was computed. */
function fullMiMatrix(result: MeasureResult, neurons: number): (number | null)[][] {
  const rows: (number | null)[][] = Array.from({ length: neurons }, () =>
    new Array<number | null>(neurons).fill(null),
  );
  const { columns, values } = result.mi;
  const m = columns.length;
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) {
      const x = values[a * m + b];
      if (a !== b && !Number.isNaN(x)) rows[columns[a]][columns[b]] = x;
    }
  }
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
      stderr.write(
        `\r\x1b[Kmemlens: ${p.stage} ${p.done}/${p.total}${pct}${p.detail ? ` ${p.detail}` : ''}`,
      );
    },
    end(): void {
      if (shown) stderr.write('\r\x1b[K');
    },
  };
}

/** JSON with two-space indentation, but arrays of numbers (or null) on one line each. */
export function formatJson(value: unknown, indent = ''): string {
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
