import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { analyze } from '../../core/analysis/analyze';
import { compare } from '../../core/analysis/compare';
import { UserError } from '../../core/errors';
import type { Command } from '../command';
import { checkOutputs } from '../flags';
import { analysisTable, writeReportFiles } from './analyze';
import { compareTable } from './compare';
import { clearProgress } from './measureFlags';

const HELP = `Usage: memlens demo [--examples <folder>] [--out-dir <folder>] [--threads N]

Analyses and compares the bundled example models (see examples/README.md): the generalising
model alone, the shortcut model against its colour-random baseline (heuristic memorization),
and the random-label model against the generalising one (example-level memorization). Writes
JSON, HTML and CSV reports into --out-dir (default out/demo).`;

/** The package root: the CLI bundle is dist/cli.js. */
function packageRoot(): string {
  return path.resolve(__dirname, '..');
}

async function mustExist(p: string): Promise<void> {
  try {
    await fs.access(p);
  } catch {
    throw new UserError(
      `${p}: expected the bundled example models and probe (examples/), found nothing; run from a MemLens checkout`,
    );
  }
}

export const demoCommand: Command = {
  summary: 'analyse and compare the bundled example models (writes out/demo/)',
  async run(args, signal) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: {
          examples: { type: 'string' },
          'out-dir': { type: 'string' },
          threads: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
      });
    } catch (err) {
      throw new UserError(`demo: ${(err as Error).message}; see memlens demo --help`);
    }
    const { values } = parsed;
    if (values.help === true) {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    // Paths relative to the working folder when it holds them, so the tables stay short.
    const short = (p: string): string => {
      const r = path.relative(process.cwd(), p);
      return r !== '' && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
    };
    const examples = short(values.examples ?? path.join(packageRoot(), 'examples'));
    const outDir = values['out-dir'] ?? path.join(packageRoot(), 'out', 'demo');
    const threads = values.threads === undefined ? undefined : Number(values.threads);
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
      throw new UserError(`--threads: expected an integer >= 1, found '${values.threads}'`);
    }
    const ex = (name: string): string => path.join(examples, name);
    const probe = ex('probe.npy');
    for (const p of [
      probe,
      ex('generalising'),
      ex('random-labels'),
      ex('shortcut'),
      ex('shortcut-baseline'),
    ]) {
      await mustExist(p);
    }
    const out = (stem: string) => ({
      json: path.join(outDir, `${stem}.json`),
      html: path.join(outDir, `${stem}.html`),
      csv: path.join(outDir, `${stem}.csv`),
    });
    const stems = ['generalising', 'shortcut-compare', 'labels-compare'];
    // Never into (or over) the example models and probe; --out-dir is created when missing.
    await checkOutputs({
      outputs: stems.flatMap((stem) =>
        Object.values(out(stem)).map((file): [string, string] => ['--out-dir', file]),
      ),
      models: ['generalising', 'random-labels', 'shortcut', 'shortcut-baseline'].map(ex),
      inputs: [['probe', probe]],
      createFolders: true,
    });
    const common = { probe, signal, ...(threads === undefined ? {} : { threads }) };
    const written: string[] = [];

    const say = (s: string): boolean => process.stdout.write(s + '\n');
    say('== 1. One model on its own: examples/generalising (10 digits, true labels)\n');
    const single = await analyze(ex('generalising'), common).finally(clearProgress);
    await writeReportFiles(single, out('generalising'), signal);
    written.push(out('generalising').html);
    say(analysisTable(single));

    say('\n== 2. Shortcut learning: colour tied to the (noisy) label vs colour random\n');
    const shortcut = await compare([ex('shortcut-baseline'), ex('shortcut')], {
      ...common,
      baseline: ex('shortcut-baseline'),
    }).finally(clearProgress);
    await writeReportFiles(shortcut, out('shortcut-compare'), signal);
    written.push(out('shortcut-compare').html);
    say(compareTable(shortcut));

    say('\n== 3. Random labels vs true labels (same net)\n');
    const labels = await compare([ex('generalising'), ex('random-labels')], {
      ...common,
      baseline: ex('generalising'),
    }).finally(clearProgress);
    await writeReportFiles(labels, out('labels-compare'), signal);
    written.push(out('labels-compare').html);
    say(compareTable(labels));
    say(
      'The ranking targets shortcut learning among candidates of similar accuracy (lower I ranks higher); it is not a memorization score.',
    );

    const sc = shortcut.models.find((m) => m.path === ex('shortcut'));
    say('');
    say(`reports (JSON, HTML, CSV) in ${short(outDir)}; open ${written.map(short).join(', ')}`);
    if (sc?.signature.kind !== 'heuristic') {
      process.stderr.write(
        `memlens: demo: expected the shortcut model to show the heuristic signature, found '${sc?.signature.kind ?? 'no result'}'\n`,
      );
      return 1;
    }
    say(
      'The shortcut model shows the heuristic signature (H lower, I higher) without any label or OOD data.',
    );
    return 0;
  },
};
