import { excerpt, UserError } from '../errors';
import { readInputText } from '../io/readInput';

/** A per-model metric table: `model,<metric name>` rows, e.g. OOD accuracy per model. */
export interface MetricTable {
  file: string;
  /** The header of the second column ("metric", "ood_accuracy" ...). */
  metric: string;
  rows: { model: string; value: number; line: number }[];
}

function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

/**
 * Parses a metric CSV: a header `model,<metric>` then one `model,value` row per model, value
 * a finite number. Any deviation (missing header, wrong column count, a non-number, a model
 * named twice, no rows) is a UserError naming the file and line.
 */
export function parseMetricCsv(text: string, file: string): MetricTable {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '');
  if (header.length !== 2 || header[0].toLowerCase() !== 'model' || header[1] === '') {
    throw new UserError(
      `${file}: line 1: expected the header 'model,<metric name>', found '${excerpt(lines[0] ?? '')}'`,
    );
  }
  const rows: MetricTable['rows'] = [];
  const seen = new Set<string>();
  lines.slice(1).forEach((raw, i) => {
    const line = i + 2;
    if (raw.trim() === '') return;
    const cells = splitCsvLine(raw);
    if (cells.length !== 2 || cells[0] === '') {
      throw new UserError(`${file}: line ${line}: expected 'model,value', found '${excerpt(raw)}'`);
    }
    const value = Number(cells[1]);
    if (cells[1] === '' || !Number.isFinite(value)) {
      throw new UserError(
        `${file}: line ${line}: expected a number for ${excerpt(cells[0], 40)}, found '${excerpt(cells[1], 30)}'`,
      );
    }
    if (seen.has(cells[0]))
      throw new UserError(`${file}: line ${line}: model '${excerpt(cells[0])}' is listed twice`);
    seen.add(cells[0]);
    rows.push({ model: cells[0], value, line });
  });
  if (rows.length === 0)
    throw new UserError(`${file}: expected at least one 'model,value' row, found none`);
  return { file, metric: header[1], rows };
}

export async function readMetricCsv(file: string): Promise<MetricTable> {
  return parseMetricCsv(await readInputText(file, 'the metric CSV'), file);
}
