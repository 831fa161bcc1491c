import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../errors';
import { chooseSamples } from './subset';
import type { ImageScale, ProbeOptions, ProbeSet } from './types';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

/** An image as RGBA bytes, row-major. */
interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Where the image goes in the model input: size, channel count and channel axis. */
interface ImageLayout {
  height: number | null;
  width: number | null;
  channels: number;
  channelsFirst: boolean;
}

/** An image layout with its size settled. */
type SizedLayout = ImageLayout & { height: number; width: number };

/** Image files under `dir` (recursively, so class sub-folders work), sorted by relative path. */
export async function listImages(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && IMAGE_EXT.has(path.extname(e.name).toLowerCase()))
    .map((e) => path.join(e.parentPath, e.name))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Decodes a PNG or JPEG (told apart by their magic bytes) with pngjs / jpeg-js. */
export function decodeImage(bytes: Uint8Array, file: string): Rgba {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
    }
    if (isJpeg) {
      const jpg = decodeJpeg(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxMemoryUsageInMB: 1024,
      });
      return { width: jpg.width, height: jpg.height, data: jpg.data };
    }
  } catch (err) {
    throw new UserError(
      `${file}: cannot decode the image: expected a valid ${isPng ? 'PNG' : 'JPEG'}, found ${(err as Error).message}`,
    );
  }
  throw new UserError(
    `${file}: cannot decode the image: expected PNG or JPEG data, found other bytes`,
  );
}

/**
 * The image layout a model input asks for: [S, H, W, C] (channels last), or [S, C, H, W] when
 * axis 1 has 1, 3 or 4 entries and the last axis does not. Without a 4-D input shape: the
 * first image's size, 3 channels, channels last.
 */
export function imageLayout(inputShape: readonly (number | null)[] | undefined): ImageLayout {
  if (inputShape === undefined || inputShape.length !== 4)
    return { height: null, width: null, channels: 3, channelsFirst: false };
  const [, a, b, c] = inputShape;
  const isChannels = (d: number | null): boolean => d === 1 || d === 3 || d === 4;
  if (isChannels(a) && !isChannels(c))
    return { channels: a as number, height: b, width: c, channelsFirst: true };
  return { height: a, width: b, channels: c ?? 3, channelsFirst: false };
}

/**
 * Bilinear resize with half-pixel centres (source x = (x + 0.5) * inW / outW - 0.5, clamped
 * to the edges; no antialiasing, like tf.image.resizeBilinear with halfPixelCenters), then
 * channel selection: 1 channel = luma 0.299 R + 0.587 G + 0.114 B, 3 = RGB, 4 = RGBA (alpha is
 * ignored otherwise), then scaling of the 0-255 values. Writes into `out` at `offset`.
 */
export function resizeInto(
  img: Rgba,
  layout: SizedLayout,
  scale: ImageScale,
  out: Float32Array,
  offset: number,
): void {
  const { width: W, height: H, channels: C, channelsFirst } = layout;
  const sx = img.width / W;
  const sy = img.height / H;
  const k = scale === '0-1' ? 1 / 255 : scale === 'neg1-1' ? 1 / 127.5 : 1;
  const shift = scale === 'neg1-1' ? -1 : 0;
  const pixel = new Float64Array(4);
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const wx = fx - x0;
      for (let ch = 0; ch < 4; ch++) {
        const p00 = img.data[(y0 * img.width + x0) * 4 + ch];
        const p01 = img.data[(y0 * img.width + x1) * 4 + ch];
        const p10 = img.data[(y1 * img.width + x0) * 4 + ch];
        const p11 = img.data[(y1 * img.width + x1) * 4 + ch];
        pixel[ch] = (p00 * (1 - wx) + p01 * wx) * (1 - wy) + (p10 * (1 - wx) + p11 * wx) * wy;
      }
      const values =
        C === 1
          ? [0.299 * pixel[0] + 0.587 * pixel[1] + 0.114 * pixel[2]]
          : Array.from(pixel.subarray(0, C));
      values.forEach((v, ch) => {
        const at = channelsFirst ? offset + (ch * H + y) * W + x : offset + (y * W + x) * C + ch;
        out[at] = v * k + shift;
      });
    }
  }
}

/**
 * Loads a folder of PNG/JPEG images as a probe set shaped for the model input (see
 * `imageLayout`, `resizeInto`). The subset is drawn from the sorted file list before decoding;
 * an image that fails to decode is skipped with a warning or fails the load (`onBadImage`).
 */
export async function loadImageFolder(dir: string, opts: ProbeOptions): Promise<ProbeSet> {
  const files = await listImages(dir);
  if (files.length === 0)
    throw new UserError(`${dir}: expected PNG or JPEG images in the folder, found none`);
  const chosen = chooseSamples(dir, files.length, opts);
  const layout = imageLayout(opts.inputShape);
  if (![1, 3, 4].includes(layout.channels)) {
    throw new UserError(
      `${dir}: the model input asks for ${layout.channels} channels: expected 1, 3 or 4 for images`,
    );
  }
  let full: { height: number; width: number } | undefined;
  const kept: number[] = [];
  let out = new Float32Array(0);
  let size = 0;
  for (const index of chosen) {
    const file = files[index];
    let img: Rgba;
    try {
      img = decodeImage(await fs.readFile(file), file);
    } catch (err) {
      if (opts.onBadImage === 'skip' && err instanceof UserError) {
        opts.onWarning?.(`skipped: ${err.message}`);
        continue;
      }
      throw err;
    }
    if (full === undefined) {
      full = { height: layout.height ?? img.height, width: layout.width ?? img.width };
      size = full.height * full.width * layout.channels;
      out = new Float32Array(chosen.length * size);
    }
    resizeInto(img, { ...layout, ...full }, opts.imageScale ?? '0-1', out, kept.length * size);
    kept.push(index);
  }
  if (full === undefined || kept.length === 0) {
    throw new UserError(
      `${dir}: expected at least one decodable image, found none (${chosen.length} skipped)`,
    );
  }
  const { height, width } = full;
  const example = layout.channelsFirst
    ? [layout.channels, height, width]
    : [height, width, layout.channels];
  return {
    source: dir,
    shape: [kept.length, ...example],
    data: out.slice(0, kept.length * size),
    sampleIndices: kept,
  };
}
