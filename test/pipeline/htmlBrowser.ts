/**
 * Headless Chromium for the HTML report and webview tests. The Node test program has no DOM
 * types, so the code that runs in the page declares the little it uses through PageGlobals.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
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

export interface PageGlobals {
  document: {
    title: string;
    body: { dataset: Record<string, string | undefined>; className: string; innerText: string };
    documentElement: { style: { setProperty(name: string, value: string): void } };
    getElementById(id: string): (PageCanvas & { textContent: string | null }) | null;
    querySelectorAll(selector: 'canvas'): Iterable<PageCanvas>;
    addEventListener(
      type: 'securitypolicyviolation',
      listener: (e: { violatedDirective: string; blockedURI: string }) => void,
    ): void;
  };
  postMessage(message: unknown, targetOrigin: string): void;
  setTimeout(callback: () => void, ms: number): void;
  acquireVsCodeApi?: () => unknown;
  __posted: unknown[];
  __state: unknown;
  __violations: string[];
}
