import { UserError } from '../errors';

/** Values of a probe file, batch first, before subsetting. */
export interface RawProbe {
  shape: number[];
  data: ArrayLike<number>;
}

/**
 * Parses CSV (comma, or tab when the first line has tabs and no commas) of numeric rows. A first
 * line with any non-numeric cell is a header and is skipped. Every row needs the same count.
 */
export function parseCsv(text: string, source: string): RawProbe {
  const lines = text.split(/\r?\n/);
  const first = lines.find((l) => l.trim().length > 0) ?? '';
  const sep = !first.includes(',') && first.includes('\t') ? '\t' : ',';
  const values: number[] = [];
  let width = -1;
  let rows = 0;
  let headerSeen = false;
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    const nums = line.split(sep).map((c) => cellValue(c.trim()));
    const bad = nums.findIndex((v) => v === undefined);
    if (bad >= 0) {
      if (rows === 0 && !headerSeen) {
        headerSeen = true;
        return;
      }
      throw new UserError(
        `${source}: line ${i + 1}: expected numeric cells, found '${line.split(sep)[bad].trim()}'`,
      );
    }
    if (width === -1) width = nums.length;
    else if (nums.length !== width) {
      throw new UserError(
        `${source}: line ${i + 1}: expected ${width} values like the first row, found ${nums.length}`,
      );
    }
    for (const v of nums) values.push(v as number);
    rows++;
  });
  return { shape: [rows, Math.max(width, 0)], data: values };
}

/** A CSV cell as a number (nan/inf spelled as numpy writes them), or undefined when not numeric. */
function cellValue(cell: string): number | undefined {
  if (/^[-+]?nan$/i.test(cell)) return NaN;
  if (/^[-+]?inf(inity)?$/i.test(cell)) return cell.startsWith('-') ? -Infinity : Infinity;
  if (cell === '') return undefined;
  const v = Number(cell);
  return Number.isNaN(v) ? undefined : v;
}

function shapeOf(value: unknown, source: string, line: number): number[] {
  if (typeof value === 'number') return [];
  if (Array.isArray(value)) {
    if (value.length === 0)
      throw new UserError(`${source}: line ${line}: expected a non-empty array, found []`);
    const inner = shapeOf(value[0], source, line);
    return [value.length, ...inner];
  }
  throw new UserError(
    `${source}: line ${line}: expected numbers or arrays of numbers, found ${value === null ? 'null' : typeof value}`,
  );
}

function flatten(
  value: unknown,
  shape: number[],
  out: number[],
  source: string,
  line: number,
): void {
  if (shape.length === 0) {
    if (typeof value !== 'number')
      throw new UserError(
        `${source}: line ${line}: expected a number, found ${JSON.stringify(value)}`,
      );
    out.push(value);
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[0]) {
    throw new UserError(
      `${source}: line ${line}: expected a ragged-free array of shape [${shape.join(', ')}], found a row of another length`,
    );
  }
  for (const v of value) flatten(v, shape.slice(1), out, source, line);
}

/**
 * Parses JSON Lines: one example per line, a (nested) array of numbers or an object with an
 * `input` field holding one. Blank lines are skipped; every example needs the same shape.
 */
export function parseJsonl(text: string, source: string): RawProbe {
  const values: number[] = [];
  let shape: number[] | undefined;
  let rows = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line.length === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new UserError(`${source}: line ${i + 1}: expected JSON, found '${line.slice(0, 40)}'`);
    }
    const example =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>).input
        : parsed;
    if (example === undefined)
      throw new UserError(
        `${source}: line ${i + 1}: expected an array or {"input": ...}, found an object without "input"`,
      );
    const s = shapeOf(example, source, i + 1);
    if (shape === undefined) shape = s;
    else if (s.join(',') !== shape.join(',')) {
      throw new UserError(
        `${source}: line ${i + 1}: expected an example of shape [${shape.join(', ')}] like the first, found [${s.join(', ')}]`,
      );
    }
    flatten(example, shape, values, source, i + 1);
    rows++;
  });
  return { shape: [rows, ...(shape ?? [])], data: values };
}
