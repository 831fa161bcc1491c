/**
 * Headless Chromium for the HTML report and webview tests. The Node test program has no DOM
 * types, so the code that runs in the page declares the little it uses through PageGlobals.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { skipWithout } from '../fixtures/optionalDeps';

export const CHROMIUM = '/usr/bin/chromium';

/** A skip reason when Chromium is missing, for `test(name, { skip }, fn)`. */
export const skipWithoutChromium: string | false = skipWithout('chromium', existsSync(CHROMIUM));

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'],
  });
}

export interface PageCanvas {
  id: string;
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  } | null;
}

/** An element as the page tests read it. */
export interface PageElement {
  id: string;
  tagName: string;
  textContent: string | null;
  innerText: string;
  parentElement: PageElement | null;
  clientWidth: number;
  clientHeight: number;
  open?: boolean;
  querySelector(selector: string): PageElement | null;
  getBoundingClientRect(): { left: number; top: number; width: number; height: number };
}

/** The computed style properties the tests read. */
export interface PageStyle {
  color: string;
  backgroundColor: string;
  borderTopColor: string;
  borderTopWidth: string;
  outlineColor: string;
  outlineStyle: string;
  outlineWidth: string;
}

export interface PageGlobals {
  document: {
    title: string;
    body: {
      dataset: Record<string, string | undefined>;
      className: string;
      innerText: string;
      append(node: PageElement): void;
    };
    documentElement: {
      scrollWidth: number;
      style: { setProperty(name: string, value: string): void };
    };
    activeElement: PageElement | null;
    getElementById(id: string): (PageCanvas & PageElement) | null;
    querySelectorAll(selector: 'canvas'): Iterable<PageCanvas & PageElement>;
    querySelectorAll(selector: string): Iterable<PageElement>;
    createElement(tag: string): PageElement & { style: { color: string } };
    addEventListener(
      type: 'securitypolicyviolation',
      listener: (e: { violatedDirective: string; blockedURI: string }) => void,
    ): void;
  };
  getComputedStyle(element: PageElement): PageStyle;
  postMessage(message: unknown, targetOrigin: string): void;
  setTimeout(callback: () => void, ms: number): void;
  acquireVsCodeApi?: () => unknown;
  __posted: unknown[];
  __state: unknown;
  __violations: string[];
}

/** CSS variables as VS Code sets them on <html>, and the class it gives <body>. */
export interface VsCodeTheme {
  bodyClass: string;
  vars: Record<string, string>;
}

/**
 * VS Code's Dark High Contrast theme, as far as the report uses it: black and white, the
 * contrast borders, and no button backgrounds (the theme leaves them undefined).
 */
export const DARK_HIGH_CONTRAST: VsCodeTheme = {
  bodyClass: 'vscode-high-contrast',
  vars: {
    '--vscode-editor-background': '#000000',
    '--vscode-editor-foreground': '#ffffff',
    '--vscode-sideBar-background': '#000000',
    '--vscode-descriptionForeground': '#ffffffb3',
    '--vscode-panel-border': '#6fc3df',
    '--vscode-contrastBorder': '#6fc3df',
    '--vscode-contrastActiveBorder': '#f38518',
    '--vscode-focusBorder': '#f38518',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-secondaryForeground': '#ffffff',
    '--vscode-button-border': '#6fc3df',
    '--vscode-textLink-foreground': '#21a6ff',
    '--vscode-dropdown-background': '#000000',
    '--vscode-dropdown-foreground': '#ffffff',
    '--vscode-dropdown-border': '#6fc3df',
    '--vscode-charts-foreground': '#ffffff',
    '--vscode-charts-lines': 'rgba(255, 255, 255, 0.5)',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-orange': '#ab5a00',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-charts-red': '#f48771',
    '--vscode-charts-yellow': '#cca700',
  },
};

function sha256Source(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The HTML report as a VS Code webview would show it in `theme`: the body class, and the
 * variables in a style block that the page's CSP admits by its hash (as strict as before).
 */
export function inVsCodeTheme(html: string, theme: VsCodeTheme): string {
  const vars = Object.entries(theme.vars)
    .map(([name, value]) => `${name}: ${value};`)
    .join(' ');
  const style = `:root { ${vars} }`;
  const themed = html
    .replace(/style-src ('sha256-[^']+')/, `style-src $1 ${sha256Source(style)}`)
    .replace('</head>', `<style>${style}</style>\n</head>`)
    .replace('<body>', `<body class="${theme.bodyClass}">`);
  if (themed === html || !themed.includes(theme.bodyClass)) {
    throw new Error('inVsCodeTheme: the report page has no CSP style-src, </head> or <body>');
  }
  return themed;
}

/** An rgb()/rgba() colour (as getComputedStyle gives it) as [r, g, b, alpha]. */
export function parseRgb(color: string): [number, number, number, number] {
  const m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+))?\s*\)$/.exec(
    color.trim(),
  );
  if (m === null) throw new Error(`parseRgb: expected rgb() or rgba(), found ${color}`);
  return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])];
}

/** `layers` (topmost first, rgb()/rgba()) composited over white, as [r, g, b]. */
export function composite(layers: readonly string[]): [number, number, number] {
  let out: [number, number, number] = [255, 255, 255];
  for (const layer of [...layers].reverse()) {
    const [r, g, b, a] = parseRgb(layer);
    out = [out[0] + (r - out[0]) * a, out[1] + (g - out[1]) * a, out[2] + (b - out[2]) * a];
  }
  return out;
}

/** WCAG 2 relative luminance of an sRGB colour. */
function luminance([r, g, b]: readonly number[]): number {
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG 2 contrast ratio of two sRGB colours (1 to 21). */
export function contrastRatio(a: readonly number[], b: readonly number[]): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** CIE 1976 colour difference (Euclidean in CIELAB, D65) of two sRGB colours. */
export function deltaE(a: readonly number[], b: readonly number[]): number {
  const lab = ([r, g, b]: readonly number[]) => {
    const lin = (c: number) => {
      const v = c / 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    const [R, G, B] = [lin(r), lin(g), lin(b)];
    const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
    const x = f((0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047);
    const y = f(0.2126 * R + 0.7152 * G + 0.0722 * B);
    const z = f((0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883);
    return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
  };
  const [p, q] = [lab(a), lab(b)];
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

/** CRC-32 of PNG chunks (zlib.crc32 needs Node 20.15; the project supports 20.12). */
function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/**
 * A screenshot re-encoded with a palette of its 256 most frequent colours (each other colour
 * drawn as the nearest of them): text, lines and fills stay exact, anti-aliasing shades move a
 * little, and the file is several times smaller than Chromium's RGB encoding.
 */
export function palettePng(screenshot: Buffer): Buffer {
  const image = PNG.sync.read(screenshot);
  const { width, height, data } = image;
  const counts = new Map<number, number>();
  for (let i = 0; i < data.length; i += 4) {
    const rgb = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
  }
  const palette = [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 256)
    .map(([rgb]) => rgb);
  const channels = (rgb: number) => [rgb >> 16, (rgb >> 8) & 255, rgb & 255];
  const nearest = new Map<number, number>(palette.map((rgb, i) => [rgb, i]));
  const indexOf = (rgb: number) => {
    let index = nearest.get(rgb);
    if (index === undefined) {
      const [r, g, b] = channels(rgb);
      let best = Infinity;
      palette.forEach((p, i) => {
        const [pr, pg, pb] = channels(p);
        const d = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
        if (d < best) [best, index] = [d, i];
      });
      nearest.set(rgb, index ?? 0);
    }
    return index ?? 0;
  };
  // Each row: filter type 0, then one palette index a pixel.
  const rows = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      rows[y * (width + 1) + 1 + x] = indexOf((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    }
  }
  const chunk = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
    return Buffer.concat([head, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 3, 0, 0, 0], 8); // 8-bit indices, colour type 3 (palette)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('PLTE', Buffer.from(palette.flatMap(channels))),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Installed before a webview page's script (page.addInitScript): the VS Code API stand-in,
 * recording posted messages and state, and a log of CSP violations.
 */
export function vscodeStub(): void {
  const w = globalThis as unknown as PageGlobals;
  w.__posted = [];
  w.__state = undefined;
  w.__violations = [];
  w.document.addEventListener('securitypolicyviolation', (e) =>
    w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`),
  );
  w.acquireVsCodeApi = () => ({
    postMessage: (m: unknown) => w.__posted.push(m),
    getState: () => w.__state,
    setState: (s: unknown) => {
      w.__state = s;
    },
  });
}
