/**
 * Whether a probe's shape fits a model's input, by the rules the engine applies when it feeds
 * the probe (`fitProbe`): the example shapes agree (null = any), or, when the model's input
 * is fully known, they hold the same number of values and the examples are reshaped
 * (784 columns into [28, 28, 1]). Pure, with no file access, so that the engine, the probe
 * picker and the extension host share it.
 */

/**
 * The words every misfit error of the engine carries: the extension recognises the error by
 * them and offers to choose other probe data.
 */
export const PROBE_MISFIT = 'probe does not fit the model';

/** A shape for messages: `[?, 28, 28, 1]`, unknown dimensions as `?`. */
export function showShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** The outcome of {@link shapeFit}. */
export interface ShapeFit {
  fits: boolean;
  /** One line: `fits [784]`, `fits [28, 28, 1] (reshaped from [784])`, `does not fit: ...`. */
  why: string;
  /** When it fits: the shape the probe is fed in, batch first (the probe's batch size). */
  fitted?: number[];
}

/**
 * Whether a probe of `probeShape` (batch first) fits a model input of `inputShape` (batch
 * first, null = any dimension), and why.
 */
export function shapeFit(
  probeShape: readonly number[],
  inputShape: readonly (number | null)[],
): ShapeFit {
  const example = probeShape.slice(1);
  const want = inputShape.slice(1);
  if (want.length === example.length && want.every((d, i) => d === null || d === example[i]))
    return { fits: true, why: `fits ${showShape(want)}`, fitted: [...probeShape] };
  const misfit: ShapeFit = {
    fits: false,
    why: `does not fit: the model expects ${showShape(want)}, the examples are ${showShape(example)}`,
  };
  if (want.some((d) => d === null)) return misfit;
  const wantSize = (want as number[]).reduce((a, b) => a * b, 1);
  const haveSize = example.reduce((a, b) => a * b, 1);
  if (wantSize !== haveSize) return misfit;
  return {
    fits: true,
    why: `fits ${showShape(want)} (reshaped from ${showShape(example)})`,
    fitted: [probeShape[0], ...(want as number[])],
  };
}
