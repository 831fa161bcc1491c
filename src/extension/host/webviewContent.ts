/** Shared plumbing of the report panel and the side view: HTML shell, report loading, exports. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../../core/io/atomicWrite';
import type { AnalysisReport, ReportSnapshot, WebviewMessage } from '../../shared/protocol';
import { webviewShellHtml } from '../../shared/webviewShell';
import { exportContent } from '../logic/exportFormats';
import type { ResultStore } from '../logic/resultStore';
import { makeNonce, resourceCspSource } from '../logic/webviewCsp';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')] };
}

/** The webview document: the bundled dist/webview.js and .css under a strict CSP. */
export function shellHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  title: string,
): string {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist');
  return webviewShellHtml({
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
    cspSource: resourceCspSource(webview.cspSource),
    nonce: makeNonce(),
    title,
  });
}

/** Report ids name a stored report: `analysis:<cache key>` or `compare:<cache key>`. */
export function analysisReportId(key: string): string {
  return `analysis:${key}`;
}

export function compareReportId(key: string): string {
  return `compare:${key}`;
}

/**
 * The stored report of the baseline an analysis was read against, for the charts to draw
 * beside the model's; undefined for a lone model or when the store has none. The signature's
 * `reference` is the baseline's path (analyzeAgainstBaseline labels it so).
 */
async function baselineReport(
  store: ResultStore,
  report: AnalysisReport,
): Promise<AnalysisReport | undefined> {
  const baseline = report.signature?.reference;
  if (baseline === undefined || !path.isAbsolute(baseline)) return undefined;
  if (path.resolve(baseline) === path.resolve(report.model.path)) return undefined;
  const entry = store.latest(baseline);
  return entry?.key ? store.report(entry.key) : undefined;
}

/** Loads the snapshot a report id names from the store, or undefined when it is gone. */
export async function loadSnapshot(
  store: ResultStore,
  reportId: string,
): Promise<ReportSnapshot | undefined> {
  const [kind, key] = reportId.split(':', 2);
  if (!key || !/^[0-9a-f]{64}$/.test(key)) return undefined;
  if (kind === 'analysis') {
    const report = await store.report(key);
    if (!report) return undefined;
    const reference = await baselineReport(store, report);
    return reference ? { kind: 'analysis', report, reference } : { kind: 'analysis', report };
  }
  if (kind === 'compare') {
    const report = await store.compareReport(key);
    return report ? { kind: 'compare', report } : undefined;
  }
  return undefined;
}

/** The title of a snapshot's panel. */
export function snapshotTitle(snapshot: ReportSnapshot): string {
  if (snapshot.kind === 'compare')
    return `MemLens: compare (${snapshot.report.models.length} models)`;
  return `MemLens: ${vscode.workspace.asRelativePath(snapshot.report.model.path)}`;
}

/** Handles a webview's export request: asks where, then writes the bytes atomically. */
export async function saveExport(
  message: Extract<WebviewMessage, { type: 'export/request' }>,
): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const filters: Record<string, string[]> =
    message.format === 'png'
      ? { 'PNG image': ['png'] }
      : message.format === 'json'
        ? { JSON: ['json'] }
        : message.format === 'html'
          ? { 'HTML report': ['html'] }
          : { CSV: ['csv'] };
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, message.fileName) : undefined,
    filters,
    saveLabel: 'Export',
  });
  if (!target) return undefined;
  const bytes =
    message.format === 'png'
      ? Buffer.from(message.dataUrl.slice(message.dataUrl.indexOf(',') + 1), 'base64')
      : message.format === 'html'
        ? exportContent(message.report, 'html')
        : message.content;
  await writeFileAtomic(target.fsPath, bytes);
  return target;
}
