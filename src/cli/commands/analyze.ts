import { parseArgs } from 'node:util';
import { analyzeAgainstBaseline } from '../../core/analysis/againstBaseline';
import { analyze } from '../../core/analysis/analyze';
import { shardAnalyze } from '../../core/analysis/shardAnalysis';
import { isActivationDump } from '../../core/dumps/dumpFiles';
import { UserError } from '../../core/errors';
import { writeFileAtomic } from '../../core/io/atomicWrite';
import { currentShard } from '../../core/mi/shards';
import { layerTableCsv } from '../../core/report/csv';
import { renderHtmlReport } from '../../core/report/html';
import type { AnalysisReport, CompareReport } from '../../core/report/schema';
import type { Command } from '../command';
import { checkOutputs, formatTable, MODEL_FORMATS_HELP, num } from '../flags';
import {
  analyzeOptionsFrom,
  clearProgress,
  MEASURE_FLAGS_HELP,
  measureFlagConfig,
} from './measureFlags';

const HELP = `Usage: memlens analyze <model|activation dump> --probe <inputs> [options]

Measures one model (run on the probe inputs) or an activation dump (.npy S x N with an
optional .layers.json sidecar, .npz, .safetensors; no probe needed): per-neuron binned
entropy H and pairwise KSG mutual information I (nats), per layer and overall. A lone model
gets measures and indicative flags, no verdict: name a baseline, or use 'memlens compare'.

${MODEL_FORMATS_HELP}

Baseline:
  --baseline <path>     a model (or dump) of the same architecture, measured on the same
                        probe and layers: the report then carries the model's signature
                        against it (heuristic, example-level or none, with the evidence;
                        the default thresholds of 'memlens compare')

${MEASURE_FLAGS_HELP}`;

/** The MI estimator of a report's params, as the table's header line names it. */
export function estimatorLabel(p: { estimator?: 'ksg' | 'mixed'; k: number }): string {
  // Reports written before the setting existed have no estimator: KSG-1.
  return p.estimator === 'mixed'
    ? `mixed (tie-aware KSG, Gao et al.), k = ${p.k}`
    : `KSG-1, k = ${p.k}`;
}

/** The human-readable per-layer table of an analysis. */
export function analysisTable(r: AnalysisReport): string {
  const header = [
    'layer',
    'neurons',
    'median H',
    'notch',
    'median I',
    'mean I',
    'MI neurons',
    'ties',
    'dead',
  ];
  // Sampled MI pairs: each median with its 95% bootstrap interval.
  const withInterval = (median: number, iv?: { low: number; high: number }): string =>
    iv === undefined ? num(median, 3) : `${num(median, 3)} [${num(iv.low, 3)}, ${num(iv.high, 3)}]`;
  const rows = r.layers.map((l, i) => [
    l.name,
    String(l.neurons),
    num(l.entropy.median),
    `[${num(l.entropy.notchLow)}, ${num(l.entropy.notchHigh)}]`,
    withInterval(l.mi.median, r.miPlan?.layers[i]?.miMedianInterval),
    num(l.mi.mean, 3),
    String(l.miNeurons),
    `${num(100 * l.tieFraction, 1)}%`,
    String(l.deadNeurons),
  ]);
  const neurons = r.layers.reduce((n, l) => n + l.neurons, 0);
  const miNeurons = r.layers.reduce((n, l) => n + l.miNeurons, 0);
  rows.push([
    'all layers',
    String(neurons),
    num(r.summary.entropy.median),
    `[${num(r.summary.entropy.notchLow)}, ${num(r.summary.entropy.notchHigh)}]`,
    withInterval(r.summary.mi.median, r.miPlan?.miMedianInterval),
    num(r.summary.mi.mean, 3),
    String(miNeurons),
    '',
    '',
  ]);
  const read = r.summary.entropyInformative;
  if (read !== undefined) {
    const kept = r.layers.filter((l) => !read.left.includes(l.name));
    rows.push([
      `layers where H is read (${kept.length} of ${r.layers.length})`,
      String(kept.reduce((n, l) => n + l.neurons, 0)),
      num(read.entropy.median),
      `[${num(read.entropy.notchLow)}, ${num(read.entropy.notchHigh)}]`,
      '',
      '',
      '',
      '',
      '',
    ]);
  }
  const p = r.params;
  const lines = [
    `${r.model.path} (${r.model.format}${r.backend === null ? '' : `, backend ${r.backend}`})`,
    `${r.probe === null ? 'activation dump' : `probe ${r.probe.path}`}: ${p.samples} samples; ${p.point}; H: ${p.bins} bins (${p.binning} range), nats; I: ${estimatorLabel(p)}, nats`,
    '',
    formatTable(header, rows),
    '',
    ...r.flags.map(
      (f) =>
        `${f.code === 'no-reference' ? 'note' : `flag ${f.code}`}: ${f.message}${f.threshold === 'always' ? '' : ` [${f.threshold}]`}`,
    ),
    ...r.warnings.map((w) => `warning: ${w.message}`),
    `time: ${num(r.timing.totalMs / 1000, 1)} s (capture ${num(r.timing.captureMs / 1000, 1)} s, entropy ${num(r.timing.entropyMs / 1000, 2)} s, MI ${num(r.timing.miMs / 1000, 1)} s)`,
  ];
  return lines.join('\n');
}

/** Writes the report files asked for, each atomically; JSON to '-' goes to stdout. */
export async function writeReportFiles(
  report: AnalysisReport | CompareReport,
  out: { json?: string; html?: string; csv?: string },
  signal?: AbortSignal,
): Promise<void> {
  if (out.json !== undefined) {
    const text = JSON.stringify(report, null, 1) + '\n';
    if (out.json === '-') process.stdout.write(text);
    else await writeFileAtomic(out.json, text, { signal });
  }
  if (out.html !== undefined) await writeFileAtomic(out.html, renderHtmlReport(report), { signal });
  if (out.csv !== undefined) await writeFileAtomic(out.csv, layerTableCsv(report), { signal });
}

/** The report outputs of the shared flags, for checkOutputs. */
export function reportOutputs(values: {
  out?: string;
  html?: string;
  csv?: string;
}): [string, string | undefined][] {
  return [
    ['--out', values.out],
    ['--html', values.html],
    ['--csv', values.csv],
  ];
}

/**
 * Writes the report files, then, unless the JSON went to stdout, prints the table and where
 * each file went.
 */
export async function writeOutputs(
  report: AnalysisReport | CompareReport,
  out: { json?: string; html?: string; csv?: string },
  table: string,
  signal?: AbortSignal,
): Promise<void> {
  await writeReportFiles(report, out, signal);
  if (out.json === '-') return;
  process.stdout.write(table + '\n');
  for (const [what, file] of [
    ['report', out.json],
    ['HTML report', out.html],
    ['CSV table', out.csv],
  ] as const) {
    if (file !== undefined) process.stdout.write(`wrote ${what}: ${file}\n`);
  }
}

export const analyzeCommand: Command = {
  summary: 'measure entropy and mutual information of one model or activation dump',
  async run(args, signal) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: { ...measureFlagConfig, baseline: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UserError(`analyze: ${(err as Error).message}; see memlens analyze --help`);
    }
    const { values, positionals } = parsed;
    if (values.help === true) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UserError(
        `analyze: expected one model or activation dump, found ${positionals.length === 0 ? 'none' : positionals.join(' ')}; see memlens analyze --help`,
      );
    }
    const opts = analyzeOptionsFrom(values, signal);
    const baseline = values.baseline;
    if (baseline !== undefined && values.probe === undefined && !isActivationDump(baseline)) {
      throw new UserError(
        `${baseline}: the baseline is a model, which runs on probe inputs: expected --probe <file|folder>, found none`,
      );
    }
    await checkOutputs({
      outputs: reportOutputs(values),
      models: baseline === undefined ? [positionals[0]] : [positionals[0], baseline],
      inputs: [
        ['probe', values.probe],
        ['Python interpreter', values.python],
      ],
    });
    // A shard computes its tile of the MI and nothing else: the part is all it writes.
    if (currentShard() !== undefined) {
      try {
        await shardAnalyze(positionals[0], baseline, opts);
      } finally {
        clearProgress();
      }
      return 0;
    }
    let report: AnalysisReport;
    try {
      report =
        baseline === undefined
          ? await analyze(positionals[0], opts)
          : (await analyzeAgainstBaseline(positionals[0], baseline, opts)).report;
    } finally {
      clearProgress();
    }
    await writeOutputs(
      report,
      { json: values.out, html: values.html, csv: values.csv },
      analysisTable(report),
      signal,
    );
    return 0;
  },
};
