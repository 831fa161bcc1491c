/**
 * Warnings about probe values that make the measures misleading, computed on the examples a
 * preview reads (the first rows of the file): a constant probe (every value the same, or
 * every example the same) gives constant activations, so H and I are 0; an integer-valued
 * probe (raw 0-255 pixels, class labels) is usually not scaled as the model was trained, and
 * its ties can dominate the binned entropy and the kNN MI estimate.
 */

/** A number for a message: integers as they are, others to 4 significant digits. */
function showValue(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

/**
 * The one-line warning for `rows` examples of `rowSize` values each (C order), or null when
 * the values look like scaled inputs. `totalRows`, when more than `rows`, makes the warning
 * say that only the first rows were read.
 */
export function probeValueWarning(
  name: string,
  data: ArrayLike<number>,
  rows: number,
  rowSize: number,
  totalRows: number | null = rows,
): string | null {
  const count = Math.min(data.length, rows * rowSize);
  if (count === 0) return null;
  const where = totalRows === null || totalRows > rows ? ` in the first ${rows} rows` : '';
  let min = Infinity;
  let max = -Infinity;
  let integers = true;
  for (let i = 0; i < count; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
    if (integers && !Number.isInteger(v)) integers = false;
  }
  if (min === max)
    return `${name}: every value is ${showValue(min)}${where}: the activations would be constant, so H and I are 0`;
  if (rows >= 2 && rowsIdentical(data, rows, rowSize))
    return `${name}: all ${rows} rows are identical${where}: the activations would be constant, so H and I are 0`;
  if (integers)
    return `${name}: every value is an integer (${showValue(min)}–${showValue(max)})${where}: expected inputs scaled as in training; MI/H may be dominated by ties`;
  return null;
}

/** Whether every example equals the first. */
function rowsIdentical(data: ArrayLike<number>, rows: number, rowSize: number): boolean {
  for (let r = 1; r < rows; r++) {
    const at = r * rowSize;
    for (let j = 0; j < rowSize; j++) if (data[at + j] !== data[j]) return false;
  }
  return true;
}
