/**
 * MemLens: Clear Cached Results: deletes the workspace's stored reports and measurements
 * after a modal confirmation, which `{ confirm: false }` skips (tests).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { clearQuestion } from '../logic/exportNames';
import type { ResultStore } from '../logic/resultStore';

/** The stored reports (analyses and compares) and whether any measurement is kept. */
async function cachedCounts(
  store: ResultStore,
): Promise<{ results: number; measurements: boolean }> {
  const list = (dir: string): Promise<string[]> => fs.readdir(dir).catch(() => []);
  const reports = await list(path.dirname(store.reportFile('_')));
  const compares = await list(path.dirname(store.compareFile('_')));
  const isReport = (f: string): boolean => f.endsWith('.json') && !f.endsWith('.signature.json');
  return {
    results: reports.filter(isReport).length + compares.filter(isReport).length,
    measurements: (await list(store.measurementsDir)).length > 0,
  };
}

/** Clears the cache unless the user declines. Returns whether it was cleared. */
export async function clearCachedResults(store: ResultStore, arg: unknown): Promise<boolean> {
  await store.whenLoaded();
  const ask = (arg as { confirm?: unknown } | null | undefined)?.confirm !== false;
  if (ask) {
    const counts = await cachedCounts(store);
    const question = clearQuestion(counts.results, counts.measurements);
    if (question === undefined) {
      void vscode.window.showInformationMessage('MemLens: nothing is cached in this workspace.');
      return false;
    }
    const choice = await vscode.window.showWarningMessage(
      question,
      { modal: true, detail: 'This cannot be undone.' },
      'Clear',
    );
    if (choice !== 'Clear') return false;
  }
  await store.clear();
  void vscode.window.showInformationMessage(
    'MemLens: cleared the cached results of this workspace.',
  );
  return true;
}
