import { parseArgs } from 'node:util';
import type { CompareOptions } from '../../core/analysis/compare';
import { compare } from '../../core/analysis/compare';
import type { RankingRule } from '../../core/analysis/ranking';
import { RANKING_RULES } from '../../core/analysis/ranking';
import {
  DEFAULT_THRESHOLDS,
  MI_MIN_DIFFERENCE,
  MI_RATIO_FLOOR,
} from '../../core/analysis/signature';
import { expandModelSources } from '../../core/analysis/sources';
import { modelName } from '../../core/capture/registry';
import { UserError } from '../../core/errors';
import type { CompareReport } from '../../core/report/schema';
import type { Command } from '../command';
import { estimatorLabel, reportOutputs, writeOutputs } from './analyze';
import { checkOutputs, formatTable, MODEL_FORMATS_HELP, num, numberFlag } from '../flags';
import {
  analyzeOptionsFrom,
  clearProgress,
  MEASURE_FLAGS_HELP,
  measureFlagConfig,
} from './measureFlags';

const HELP = `Usage: memlens compare <model...|folder|glob> --probe <inputs> [options]

Compares models of the same architecture (checkpoints, seeds, recipes) on one shared probe
subset with one bin rule. Each model gets a memorization signature against the baseline (or,
without one, against the rest of the cohort): heuristic (H lower, I higher), example-level
(H higher, I lower) or none, with the evidence. A folder of checkpoints whose names carry a
step (ckpt-100, step_200/...) also gives a trajectory over training.

${MODEL_FORMATS_HELP}
Activation dumps (.npy, .npz, .safetensors) compare too; dumps alone need no --probe.

Compare options:
  --baseline <path>     the reference model (one of the compared models)
  --ood <file.csv>      a 'model,<metric>' CSV (e.g. OOD accuracy): Spearman correlation
                        of median H and median I with the metric (at least 3 models)
  --rank <rule>         shortcut (default: higher H and lower I better), entropy or mi
  --min-delta-h <x>     |delta median H| in nats that counts as a change (default ${DEFAULT_THRESHOLDS.deltaEntropy})
  --min-mi-ratio <x>    median-I ratio that counts as a change, x or 1/x (default ${DEFAULT_THRESHOLDS.miRatio})
  --bootstrap <N>       bootstrap replicates of the I-ratio interval (default 1000)

A model that cannot be analysed is listed with its error and the others complete; the exit
status is 0 when at least one model was analysed, 1 otherwise.

${MEASURE_FLAGS_HELP}`;

/** A signed number with 3 decimals ('n/a' when undefined or not finite). */
const signedNum = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? 'n/a' : (x >= 0 ? '+' : '') + x.toFixed(3);

/** The human-readable table of a comparison, the ranking, correlation and trajectory. */
export function compareTable(r: CompareReport): string {
  const rank = new Map(r.ranking.map((e) => [e.path, e.rank]));
  const header = [
    'model',
    'signature',
    'dH (nats)',
    'notches',
    'I ratio or difference [95% CI]',
    'median H',
    'median I',
    'rank',
  ];
  if (r.correlation !== null) header.push(r.correlation.metric);
  const rows = r.models.map((m) => {
    if (m.error !== undefined) {
      return [
        modelName(m.path),
        'FAILED',
        '',
        '',
        '',
        '',
        '',
        '',
        ...(r.correlation === null ? [] : [num(m.metric, 3)]),
      ];
    }
    const s = m.signature;
    const isBase = m.path === r.baseline;
    return [
      modelName(m.path),
      isBase ? 'baseline' : s.kind,
      isBase ? '' : (s.deltaEntropy >= 0 ? '+' : '') + num(s.deltaEntropy),
      isBase ? '' : s.notchesOverlap ? 'overlap' : 'apart',
      isBase
        ? ''
        : s.miComparison === 'difference'
          ? `${signedNum(s.miDifference)} nats [${signedNum(s.miDifferenceLow)}, ${signedNum(s.miDifferenceHigh)}]`
          : `x${num(s.miRatio)} [${num(s.miRatioLow)}, ${num(s.miRatioHigh)}]`,
      num(m.summary.entropy.median),
      num(m.summary.mi.median, 3),
      String(rank.get(m.path) ?? ''),
      ...(r.correlation === null ? [] : [num(m.metric, 3)]),
    ];
  });
  const p = r.params;
  const lines = [
    `${r.models.length} models; reference: ${r.baseline === null ? 'for each model, the rest of the cohort pooled' : `baseline ${r.baseline}`}`,
    `${r.probe === null ? 'activation dumps' : `probe ${r.probe.path}`}: ${p.samples} samples; layers ${p.layers.join(', ')}; H: ${p.bins} bins (${p.binning} range per model), nats; I: ${estimatorLabel(p)}, nats`,
    `signature thresholds: |dH| >= ${r.thresholds.deltaEntropy} nats with notches apart; I ratio >= ${r.thresholds.miRatio} (or <= 1/${r.thresholds.miRatio}) with its interval excluding 1; when a median I is below ${MI_RATIO_FLOOR} nats, I difference >= ${MI_MIN_DIFFERENCE} nats (or <= -${MI_MIN_DIFFERENCE}) with its interval excluding 0`,
    '',
    formatTable(header, rows, 2),
    '',
  ];
  for (const m of r.models) {
    if (m.error !== undefined) lines.push(`${modelName(m.path)}: failed: ${m.error}`);
    else if (m.path !== r.baseline) lines.push(`${modelName(m.path)}: ${m.signature.explanation}`);
  }
  // Each distinct warning once, with the models it concerns.
  const warned = new Map<string, string[]>();
  for (const m of r.models) {
    for (const w of m.warnings ?? []) {
      warned.set(w.message, [...(warned.get(w.message) ?? []), modelName(m.path)]);
    }
  }
  for (const [message, names] of warned) {
    const which = names.length === r.models.length ? 'all models' : names.join(', ');
    lines.push(`warning: ${message} (${which})`);
  }
  lines.push(
    `ranking (${r.rankingRule}): ${r.ranking.map((e) => `${e.rank}. ${modelName(e.path)}`).join('  ')}`,
  );
  if (r.correlation !== null) {
    lines.push(
      `Spearman with ${r.correlation.metric}: median H ${num(r.correlation.entropySpearman)}, median I ${num(r.correlation.miSpearman)}`,
    );
  }
  if (r.trajectory !== null) {
    lines.push(
      'trajectory (step: median H, median I): ' +
        r.trajectory
          .map((t) => `${t.step}: ${num(t.entropyMedian)}, ${num(t.miMedian, 3)}`)
          .join('; '),
    );
  }
  return lines.join('\n');
}

export const compareCommand: Command = {
  summary: 'compare models: memorization signatures, ranking, correlation, trajectory',
  async run(args, signal) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: {
          ...measureFlagConfig,
          baseline: { type: 'string' },
          ood: { type: 'string' },
          rank: { type: 'string' },
          'min-delta-h': { type: 'string' },
          'min-mi-ratio': { type: 'string' },
          bootstrap: { type: 'string' },
        },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UserError(`compare: ${(err as Error).message}; see memlens compare --help`);
    }
    const { values, positionals } = parsed;
    if (values.help === true) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (positionals.length === 0) {
      throw new UserError(
        'compare: expected models, a folder or a glob, found none; see memlens compare --help',
      );
    }
    const opts: CompareOptions = analyzeOptionsFrom(values, signal);
    if (values.baseline !== undefined) opts.baseline = values.baseline;
    if (values.ood !== undefined) opts.metricCsv = values.ood;
    if (values.rank !== undefined) {
      if (!(RANKING_RULES as readonly string[]).includes(values.rank)) {
        throw new UserError(
          `--rank: expected one of ${RANKING_RULES.join(', ')}, found '${values.rank}'`,
        );
      }
      opts.ranking = values.rank as RankingRule;
    }
    const dh = numberFlag('min-delta-h', values['min-delta-h'], 0);
    const ratio = numberFlag('min-mi-ratio', values['min-mi-ratio'], 1);
    opts.thresholds = {
      ...(dh === undefined ? {} : { deltaEntropy: dh }),
      ...(ratio === undefined ? {} : { miRatio: ratio }),
    };
    const reps = numberFlag('bootstrap', values.bootstrap, 10);
    if (reps !== undefined) opts.bootstrapReplicates = Math.round(reps);
    // The models the arguments name (a folder of checkpoints: each checkpoint in it).
    const models = await expandModelSources(positionals).catch(() => positionals);
    await checkOutputs({
      outputs: reportOutputs(values),
      models: [...models, ...(values.baseline === undefined ? [] : [values.baseline])],
      inputs: [
        ['probe', values.probe],
        ['metric CSV (--ood)', values.ood],
        ['Python interpreter', values.python],
      ],
    });
    let report: CompareReport;
    try {
      report = await compare(positionals, opts);
    } finally {
      clearProgress();
    }
    await writeOutputs(
      report,
      { json: values.out, html: values.html, csv: values.csv },
      compareTable(report),
      signal,
    );
    return report.models.every((m) => m.error !== undefined) ? 1 : 0;
  },
};
