import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
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

/**
 * Most pixels an image may have: 100 megapixels (jpeg-js's own default, now explicit and shared
 * by PNG). Decoding holds a few bytes per pixel several times over (RGBA output, pngjs's
 * inflated and unfiltered rows, jpeg-js's component planes, capped at 1 GiB): about 1 to 1.6
 * GB at the limit. Probe images are resized to the model input anyway; 100 MP is over any
 * camera photo's 12 to 50 MP. Checked from the header, before anything is decoded.
 */
export const MAX_IMAGE_PIXELS = 100_000_000;

/** jpeg-js's cap on the memory one decode may allocate (it counts its own buffers). */
const JPEG_MAX_MEMORY_MB = 1024;

/** Width and height from a PNG's IHDR chunk (bytes 16-23), or undefined when there is none. */
function pngSize(
  bytes: Uint8Array,
): { width: number; height: number; interlaced: boolean } | undefined {
  if (bytes.length < 29) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]);
  if (type !== 'IHDR') return undefined;
  return { width: view.getUint32(16), height: view.getUint32(20), interlaced: bytes[28] !== 0 };
}

/** Width and height from a JPEG's first start-of-frame marker, or undefined before any. */
function jpegSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  let at = 2;
  while (at + 9 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    // Markers without a length: TEM, RSTn; SOS starts the entropy-coded data (no frame seen).
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return undefined;
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return {
        height: (bytes[at + 5] << 8) | bytes[at + 6],
        width: (bytes[at + 7] << 8) | bytes[at + 8],
      };
    }
    at += 2 + length;
  }
  return undefined;
}

/**
 * A bound on the bytes an interlaced PNG's image data inflates to: every bit of every pixel,
 * plus, for each of the 7 passes' rows (at most 7 x height), a filter byte and a partial byte.
 */
function interlacedBound(bytes: Uint8Array, width: number, height: number): number {
  const depth = bytes[24];
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[bytes[25]] ?? 4;
  return Math.ceil((width * height * channels * depth) / 8) + 14 * height;
}

/** The IDAT chunks' data of a PNG, concatenated (the zlib stream of its pixels). */
function pngImageData(bytes: Uint8Array): Buffer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    if (String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]) === 'IDAT')
      parts.push(bytes.subarray(at + 8, Math.min(at + 8 + length, bytes.length)));
    at += 12 + length;
  }
  return Buffer.concat(parts);
}

/**
 * Refuses an image whose header declares more than {@link MAX_IMAGE_PIXELS}, before decoding.
 * pngjs bounds the inflation of a non-interlaced PNG by its size; for an interlaced one it
 * does not, so its image data is first inflated here with that bound.
 */
function checkImageSize(bytes: Uint8Array, file: string, isPng: boolean): void {
  const size = isPng ? pngSize(bytes) : jpegSize(bytes);
  if (size === undefined) return; // the decoder names what is wrong
  const pixels = size.width * size.height;
  if (pixels > MAX_IMAGE_PIXELS) {
    throw new UserError(
      `${file}: expected an image of at most ${MAX_IMAGE_PIXELS.toLocaleString('en-US')} pixels, found ${size.width} x ${size.height} (${pixels.toLocaleString('en-US')} pixels) in its ${isPng ? 'PNG' : 'JPEG'} header`,
    );
  }
  if (isPng && 'interlaced' in size && size.interlaced) {
    const bound = interlacedBound(bytes, size.width, size.height);
    try {
      zlib.inflateSync(pngImageData(bytes), { maxOutputLength: Math.max(1, bound) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new UserError(
          `${file}: expected the image data of a ${size.width} x ${size.height} PNG (at most ${bound} bytes inflated), found more (a decompression bomb?)`,
        );
      }
      // Damaged data: pngjs names it.
    }
  }
}

/** Decodes a PNG or JPEG (told apart by their magic bytes) with pngjs / jpeg-js. */
export function decodeImage(bytes: Uint8Array, file: string): Rgba {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (isPng || isJpeg) checkImageSize(bytes, file, isPng);
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      // A view, not a copy: the RGBA data is only read.
      const data = new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
      return { width: png.width, height: png.height, data };
    }
    if (isJpeg) {
      const jpg = decodeJpeg(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
        maxMemoryUsageInMB: JPEG_MAX_MEMORY_MB,
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
  const scale = opts.imageScale ?? '0-1';
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
    resizeInto(img, { ...layout, ...full }, scale, out, kept.length * size);
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
    imageScale: scale,
  };
}
