import { parseArgs } from 'node:util';
import type { CompareOptions } from '../../core/analysis/compare';
import { compare, compareShard } from '../../core/analysis/compare';
import { COHORT_REFERENCE } from '../../core/report/schema';
import { RANKING_TARGETS } from '../../core/analysis/ranking';
import {
  DEFAULT_THRESHOLDS,
  MI_MIN_DIFFERENCE,
  MI_RATIO_FLOOR,
} from '../../core/analysis/signature';
import { mappingNote } from '../../core/analysis/layerMapping';
import { expandModelSources } from '../../core/analysis/sources';
import { modelName } from '../../core/capture/registry';
import { UserError } from '../../core/errors';
import { currentShard } from '../../core/mi/shards';
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
subset with one bin rule. Each model gets a memorization signature against a named
reference: heuristic (H lower, I higher), example-level (H higher, I lower) or none, with the
evidence. The reference is the baseline; else, for a folder of checkpoints whose names carry
a step (ckpt-100, step_200/...), the earliest checkpoint (or --reference); else, with
--reference cohort, the median of the other models. Without one there are no signatures.
Only models with the same measured layers, output shape and probe are compared; the others
are listed as not comparable, with why.

${MODEL_FORMATS_HELP}
Activation dumps (.npy, .npz, .safetensors) compare too; dumps alone need no --probe.

Compare options:
  --baseline <path>     the baseline model (one of the compared models): the reference
  --reference <path|cohort>
                        the reference checkpoint of a trajectory (default the earliest), or
                        'cohort': each model against the median of the other models
  --target <mode>       rank the models for the failure mode to guard against: shortcut
                        (higher H, lower I better) or label-noise (lower H, higher I
                        better); a model showing the other mode against the reference is
                        flagged and not ranked. Without it: per-measure orderings, no best
  --ood <file.csv>      a 'model,<metric>' CSV (e.g. OOD accuracy): Spearman correlation
                        of median H and median I with the metric (at least 3 models)
  --min-delta-h <x>     |delta median H| in nats that counts as a change (default ${DEFAULT_THRESHOLDS.deltaEntropy})
  --min-mi-ratio <x>    median-I ratio that counts as a change, x or 1/x (default ${DEFAULT_THRESHOLDS.miRatio})
  --scale-ratio <x>     bin-range widths this far apart also compare H under per-layer
                        bins; H then counts only where both agree (default ${DEFAULT_THRESHOLDS.scaleRatio})
  --bootstrap <N>       bootstrap replicates of the I-ratio interval (default 1000)

A model that cannot be analysed is listed with its error and the others complete; the exit
status is 0 when at least one model was analysed, 1 otherwise.

${MEASURE_FLAGS_HELP}`;

/** A signed number with 3 decimals ('n/a' when undefined or not finite). */
const signedNum = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? 'n/a' : (x >= 0 ? '+' : '') + x.toFixed(3);

/** The reference in words, for the table's first line. */
function referenceLine(r: CompareReport): string {
  const ref = r.reference;
  switch (ref.mode) {
    case 'baseline':
      return `reference: the baseline ${ref.path}`;
    case 'checkpoint':
      return ref.initialisation
        ? `reference: ${ref.label}: verdicts are relative to initialisation (training alone lowers H and raises I)`
        : `reference: ${ref.label}`;
    case 'cohort':
      return 'reference: for each model, the cohort median (the other comparable models pooled)';
    case 'none':
      return 'reference: none, so no signatures (name one with --baseline <model> or --reference <model>, or use --reference cohort)';
  }
}

const rangeText = (m: CompareReport['models'][number]): string => {
  const r = m.summary.range;
  return r === undefined ? '' : `[${num(r.min)}, ${num(r.max)}]`;
};

/** The human-readable table of a comparison, the ranking, correlation and trajectory. */
export function compareTable(r: CompareReport): string {
  const rank = new Map(
    r.ranking.map((e) => [e.path, e.rank === null ? 'flagged' : String(e.rank)]),
  );
  const header = [
    'model',
    'signature',
    'dH (nats)',
    'notches',
    'I ratio or difference [95% CI]',
    'median H',
    'median I',
    'value range',
  ];
  if (r.target !== null) header.push('rank');
  if (r.correlation !== null) header.push(r.correlation.metric);
  const rows = r.models.map((m) => {
    const tail = [
      ...(r.target === null ? [] : [rank.get(m.path) ?? '']),
      ...(r.correlation === null ? [] : [num(m.metric, 3)]),
    ];
    if (m.error !== undefined)
      return [modelName(m.path), 'FAILED', '', '', '', '', '', '', ...tail];
    const s = m.signature;
    const measures = [num(m.summary.entropy.median), num(m.summary.mi.median, 3), rangeText(m)];
    if (m.notComparable !== undefined)
      return [modelName(m.path), 'not comparable', '', '', '', ...measures, ...tail];
    const isRef = m.path === r.reference.path;
    const unread = isRef || r.reference.mode === 'none';
    return [
      modelName(m.path),
      isRef ? 'reference' : unread ? '' : s.kind,
      unread ? '' : (s.deltaEntropy >= 0 ? '+' : '') + num(s.deltaEntropy),
      unread ? '' : s.notchesOverlap ? 'overlap' : 'apart',
      unread
        ? ''
        : s.miComparison === 'difference'
          ? `${signedNum(s.miDifference)} nats [${signedNum(s.miDifferenceLow)}, ${signedNum(s.miDifferenceHigh)}]`
          : `x${num(s.miRatio)} [${num(s.miRatioLow)}, ${num(s.miRatioHigh)}]`,
      ...measures,
      ...tail,
    ];
  });
  const p = r.params;
  const lines = [
    `${r.models.length} models; ${referenceLine(r)}`,
    `${r.probe === null ? 'activation dumps' : `probe ${r.probe.path}`}: ${p.samples} samples; layers ${p.layers.join(', ')}; H: ${p.bins} bins (${p.binning} range per model), nats; I: ${estimatorLabel(p)}, nats`,
    `signature thresholds: |dH| >= ${r.thresholds.deltaEntropy} nats with notches apart (and under per-layer bins too where value ranges differ x${r.thresholds.scaleRatio} or more); I ratio >= ${r.thresholds.miRatio} (or <= 1/${r.thresholds.miRatio}) with its interval excluding 1; when a median I is below ${MI_RATIO_FLOOR} nats, I difference >= ${MI_MIN_DIFFERENCE} nats (or <= -${MI_MIN_DIFFERENCE}) with its interval excluding 0`,
    '',
    formatTable(header, rows, 2),
    '',
  ];
  for (const m of r.models) {
    const name = modelName(m.path);
    if (m.error !== undefined) lines.push(`${name}: failed: ${m.error}`);
    else if (m.notComparable !== undefined)
      lines.push(`${name}: not comparable: ${m.notComparable}`);
    else if (m.path !== r.reference.path && r.reference.mode !== 'none')
      // A model read through a layer mapping says so at the end of its explanation.
      lines.push(`${name}: ${m.signature.explanation}`);
    else {
      const mapped = mappingNote(m.layerMapping ?? []);
      if (mapped !== null) lines.push(`${name}: ${mapped}`);
    }
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
  if (r.target === null) {
    lines.push(
      `by median H, highest first: ${r.orderings.entropy.map(modelName).join(', ')}`,
      `by median I, highest first: ${r.orderings.mi.map(modelName).join(', ')}`,
      'no ranking without a target (--target shortcut|label-noise): H moves in opposite directions for the two failure modes, so no model is best against both',
    );
  } else {
    const ranked = r.ranking.filter((e) => e.rank !== null);
    lines.push(
      `ranking (${r.rankingRule}): ${ranked.length === 0 ? 'no model ranked' : ranked.map((e) => `${e.rank}. ${modelName(e.path)}`).join('  ')}`,
    );
    for (const e of r.ranking) {
      if (e.flag !== undefined) lines.push(`${modelName(e.path)}: flagged, not ranked: ${e.flag}`);
    }
  }
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
  for (const o of r.onsets) {
    lines.push(
      `onset: ${o.kind} from step ${o.step} (${modelName(o.path)})${o.persists ? ', at every later checkpoint' : ', not at every later checkpoint'}`,
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
          reference: { type: 'string' },
          target: { type: 'string' },
          'scale-ratio': { type: 'string' },
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
    if (values.reference !== undefined) opts.reference = values.reference;
    if (values.target !== undefined) {
      const target = RANKING_TARGETS.find((t) => t === values.target);
      if (target === undefined) {
        throw new UserError(
          `--target: expected one of ${RANKING_TARGETS.join(', ')}, found '${values.target}'`,
        );
      }
      opts.target = target;
    }
    const dh = numberFlag('min-delta-h', values['min-delta-h'], 0);
    const ratio = numberFlag('min-mi-ratio', values['min-mi-ratio'], 1);
    const scale = numberFlag('scale-ratio', values['scale-ratio'], 1);
    opts.thresholds = {
      ...(dh === undefined ? {} : { deltaEntropy: dh }),
      ...(ratio === undefined ? {} : { miRatio: ratio }),
      ...(scale === undefined ? {} : { scaleRatio: scale }),
    };
    const reps = numberFlag('bootstrap', values.bootstrap, 10);
    if (reps !== undefined) opts.bootstrapReplicates = Math.round(reps);
    // The models the arguments name (a folder of checkpoints: each checkpoint in it).
    const models = await expandModelSources(positionals).catch(() => positionals);
    await checkOutputs({
      outputs: reportOutputs(values),
      models: [
        ...models,
        ...(values.baseline === undefined ? [] : [values.baseline]),
        ...(values.reference === undefined || values.reference === COHORT_REFERENCE
          ? []
          : [values.reference]),
      ],
      inputs: [
        ['probe', values.probe],
        ['metric CSV (--ood)', values.ood],
        ['Python interpreter', values.python],
      ],
    });
    // A shard computes its tiles of the MI and nothing else: the part is all it writes.
    if (currentShard() !== undefined) {
      try {
        return (await compareShard(positionals, opts)) ? 0 : 1;
      } finally {
        clearProgress();
      }
    }
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
