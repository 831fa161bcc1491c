/**
 * Pixel scales and integer model inputs: a model whose image input is int32 or uint8 (MoveNet,
 * BlazeFace exports) takes pixels as 0-255, and a float probe in [0, 1] fed to it would round
 * to a blank image. Shared by every reader that feeds an integer input.
 */
import { imageLayout } from './images';
import type { ImageScale, ProbeSet } from './types';

/** The pixel scales a user can ask for (CLI --image-scale, setting memlens.imageScale). */
export const IMAGE_SCALES: readonly ImageScale[] = ['0-1', '0-255', 'neg1-1'];

/** Element types whose input takes whole numbers. */
const INTEGER_TYPES = /^u?int(8|16|32|64)$/;

/**
 * Whether an input of this element type (`int32`, `uint8`, `float32`...) and shape (batch
 * first) is an integer image: rank 4 with 1, 3 or 4 channels first or last.
 */
export function isIntegerImageInput(
  elementType: string,
  shape: readonly (number | null)[],
): boolean {
  if (!INTEGER_TYPES.test(elementType) || shape.length !== 4) return false;
  const { channels } = imageLayout(shape);
  return [1, 3, 4].includes(channels);
}

/** The pixel scale a model input implies: 0-255 for an integer image input, else none. */
export function impliedImageScale(
  elementType: string,
  shape: readonly (number | null)[],
): ImageScale | undefined {
  return isIntegerImageInput(elementType, shape) ? '0-255' : undefined;
}

/**
 * A probe fed to an integer image input: scaled from [0, 1] to 0-255 when all its values lie in
 * [0, 1] and some are fractional (pixels read as 0-1 floats, which would round to 0 and 1),
 * with a one-line notice of what was done; otherwise as it is.
 */
export function scaleForIntegerImage(
  file: string,
  probe: ProbeSet,
  elementType: string,
  shape: readonly (number | null)[],
): { probe: ProbeSet; notice?: string } {
  if (!isIntegerImageInput(elementType, shape)) return { probe };
  let fractional = false;
  for (const v of probe.data) {
    if (v < 0 || v > 1) return { probe };
    if (!Number.isInteger(v)) fractional = true;
  }
  if (!fractional) return { probe };
  const data = Float32Array.from(probe.data, (v) => v * 255);
  return {
    probe: { ...probe, data, imageScale: '0-255' },
    notice: `${file}: the model's input is ${elementType}: probe values in [0, 1] were scaled to 0-255`,
  };
}
