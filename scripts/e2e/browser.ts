// What both e2e drivers share: launching Debian's Chromium through playwright-core with a
// fresh profile, logging the page's console to a file, and opening a workspace in code-server.
import { appendFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

/** Chromium flags for a headless run that never reaches the network on its own. */
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Session {
  /** Closing the context ends Chromium. */
  browser: BrowserContext;
  page: Page;
}

/**
 * Starts Chromium with the profile folder `profileDir` and opens one 1600x1000 page whose
 * console messages and page errors are appended to `logFile`.
 */
export async function openSession(profileDir: string, logFile: string): Promise<Session> {
  const browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1600, height: 1000 },
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  writeFileSync(logFile, '');
  page.on('console', (m) => appendFileSync(logFile, `[${m.type()}] ${m.text()}\n`));
  page.on('pageerror', (e) => appendFileSync(logFile, `[pageerror] ${e.message}\n`));
  return { browser, page };
}

/** The code-server URL that opens `folder`, with optional extra query parameters. */
export function workspaceUrl(base: string, folder: string, extra: Record<string, string> = {}) {
  const query = new URLSearchParams({ folder, ...extra });
  return `${base}/?${query.toString()}`;
}

/** Rejects after `ms` with a message naming what was awaited; resolves never otherwise. */
export function deadline(ms: number, what: string): Promise<never> {
  return new Promise((_resolve, reject) => {
    setTimeout(
      () => reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)),
      ms,
    ).unref();
  });
}
