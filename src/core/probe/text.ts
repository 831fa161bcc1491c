import { excerpt, UserError } from '../errors';

/** Values of a probe file, batch first, before subsetting. */
export interface RawProbe {
  shape: number[];
  data: ArrayLike<number>;
}

/** A decimal number as CSV cells hold it: optional sign, digits, optional fraction and exponent. */
const DECIMAL = /^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;
/** NaN and infinities as numpy and pandas write them. */
const NONFINITE = /^[-+]?(?:nan|inf|infinity)$/i;

/** Whether a cell reads as a number: a decimal, or a NaN/infinity spelling. */
const numberLike = (cell: string): boolean => DECIMAL.test(cell) || NONFINITE.test(cell);

/**
 * Parses CSV (comma, or tab when the first line has tabs and no commas) of numeric rows.
 * Cells are decimal numbers only (optional sign, digits, optional fraction, optional
 * exponent: `-1.5e-3`); `0x10`, `1_000`, `Infinity`, empty cells and any other text are
 * refused with their line and column, and nan/inf cells are refused as non-finite probe
 * values. The first non-blank line is a header exactly when none of its cells reads as a
 * number (nor nan/inf); it is skipped and reported through `onWarning`. A first line mixing
 * numbers and text is an error, not a header. Every row needs the same count of cells.
 */
export function parseCsv(
  text: string,
  source: string,
  onWarning?: (message: string) => void,
): RawProbe {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const first = lines.find((l) => l.trim().length > 0) ?? '';
  const sep = !first.includes(',') && first.includes('\t') ? '\t' : ',';
  const values: number[] = [];
  let width = -1;
  let rows = 0;
  let seenFirst = false;
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    const cells = line.split(sep).map((c) => c.trim());
    if (!seenFirst) {
      seenFirst = true;
      const numeric = cells.filter(numberLike).length;
      if (numeric === 0 && cells.some((c) => c.length > 0)) {
        onWarning?.(
          `${source}: line ${i + 1} taken as a header (none of its ${cells.length} cells is a number): '${excerpt(line)}'`,
        );
        return;
      }
      if (numeric < cells.length) {
        const bad = cells.findIndex((c) => !numberLike(c));
        const why =
          numeric > 0
            ? ` (decimal numbers only; not a header either: a header has no numeric cell, this line has ${numeric} of ${cells.length})`
            : ' (decimal numbers only)';
        throw new UserError(
          `${source}: line ${i + 1}: expected numeric cells, found ${describeCell(cells[bad])} in column ${bad + 1}${why}`,
        );
      }
    }
    const bad = cells.findIndex((c) => !DECIMAL.test(c));
    if (bad >= 0) {
      const cell = cells[bad];
      if (NONFINITE.test(cell)) {
        const v = /nan/i.test(cell) ? NaN : cell.startsWith('-') ? -Infinity : Infinity;
        throw new UserError(
          `${source}: expected finite probe values, found ${String(v)} in example ${rows} (value ${bad}) at line ${i + 1}, column ${bad + 1}`,
        );
      }
      throw new UserError(
        `${source}: line ${i + 1}: expected numeric cells, found ${describeCell(cell)} in column ${bad + 1} (decimal numbers only, e.g. -1.5e-3)`,
      );
    }
    if (width === -1) width = cells.length;
    else if (cells.length !== width) {
      throw new UserError(
        `${source}: line ${i + 1}: expected ${width} values like the first row, found ${cells.length}`,
      );
    }
    for (const c of cells) values.push(Number(c));
    rows++;
  });
  return { shape: [rows, Math.max(width, 0)], data: values };
}

function describeCell(cell: string): string {
  return cell === '' ? 'an empty cell' : `'${excerpt(cell, 30)}'`;
}

/** JSON Lines examples nested deeper than this (arrays and objects) are refused. */
export const MAX_JSONL_DEPTH = 32;

/**
 * The deepest nesting of arrays and objects in a JSON text, ignoring brackets inside strings;
 * stops counting once `limit` is exceeded. A linear scan, so that JSON.parse and the shape
 * walk never recurse deeper than the limit.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** A JSON value in a few words, for "found ..." (never the whole value). */
function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string '${excerpt(value, 30)}'`;
  return String(value);
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
        `${source}: line ${line}: expected a number, found ${describeJson(value)}`,
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
    if (jsonDepth(line, MAX_JSONL_DEPTH) > MAX_JSONL_DEPTH) {
      throw new UserError(
        `${source}: line ${i + 1}: expected arrays nested at most ${MAX_JSONL_DEPTH} deep, found more than ${MAX_JSONL_DEPTH} levels`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new UserError(`${source}: line ${i + 1}: expected JSON, found '${excerpt(line, 40)}'`);
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
