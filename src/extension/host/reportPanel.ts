/**
 * Report panels: one WebviewPanel per report (reports are identified by their cache key), all
 * as tabs of one column (the first opens beside the editor, the next ones where the last
 * active report is, so reports do not pile up columns), not retained when hidden (the webview re-asks with `webview/ready` and gets the snapshot again),
 * restored after a reload by the panel serializer from the reportId the webview persisted.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HostMessage, ReportSnapshot } from '../../shared/protocol';
import type { AnalysisService } from './analysisService';
import {
  analysisReportId,
  compareReportId,
  loadSnapshot,
  shellHtml,
  snapshotTitle,
  webviewOptions,
} from './webviewContent';
import { handleWebviewMessages } from './webviewMessages';

export const REPORT_VIEW_TYPE = 'memlens.report';

export class ReportPanels
  implements vscode.WebviewPanelSerializer<{ reportId?: unknown }>, vscode.Disposable
{
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  private lastActive: string | undefined;
  /** The report panels, the most recently active last: where the next report opens. */
  private readonly recency: vscode.WebviewPanel[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly service: AnalysisService,
  ) {}

  /** The report id of the panel the user looked at last. */
  get activeReportId(): string | undefined {
    return this.lastActive;
  }

  /** Opens (or reveals) the panel of a stored report. Returns the panel. */
  async show(reportId: string): Promise<vscode.WebviewPanel | undefined> {
    const existing = this.panels.get(reportId);
    if (existing) {
      existing.reveal(undefined, true);
      // Shown without the focus, it is still the report the user asked for last.
      this.lastActive = reportId;
      this.touch(existing);
      return existing;
    }
    const snapshot = await loadSnapshot(this.service.store, reportId);
    if (!snapshot) {
      void vscode.window.showWarningMessage(
        'MemLens: that report is no longer cached; analyse the model again.',
      );
      return undefined;
    }
    const panel = vscode.window.createWebviewPanel(
      REPORT_VIEW_TYPE,
      snapshotTitle(snapshot),
      { viewColumn: this.reportColumn(), preserveFocus: true },
      { ...webviewOptions(this.extensionUri), retainContextWhenHidden: false },
    );
    this.attach(panel, reportId, snapshot);
    return panel;
  }

  async deserializeWebviewPanel(
    panel: vscode.WebviewPanel,
    state: { reportId?: unknown } | undefined,
  ): Promise<void> {
    // The webview keeps the report id in its state once it has shown the report; a window
    // reloaded before that restores from the panel's title (the model's latest report).
    const reportId =
      typeof state?.reportId === 'string' ? state.reportId : await this.idFromTitle(panel.title);
    const snapshot = reportId ? await loadSnapshot(this.service.store, reportId) : undefined;
    this.service.log.info(
      `restoring the report panel "${panel.title}": ${reportId ?? 'no report id'}${reportId && !snapshot ? ' (no longer cached)' : ''}`,
    );
    panel.webview.options = webviewOptions(this.extensionUri);
    if (!reportId || !snapshot) {
      panel.webview.html = shellHtml(panel.webview, this.extensionUri, 'MemLens');
      const clear: HostMessage = {
        type: 'report/clear',
        message: 'This report is no longer cached. Analyse the model again.',
      };
      const sub = handleWebviewMessages(panel.webview, {
        ready: () => void panel.webview.postMessage(clear),
        report: (err) => this.service.report(err),
        announceExports: true,
      });
      panel.onDidDispose(() => sub.dispose());
      return;
    }
    panel.title = snapshotTitle(snapshot);
    this.attach(panel, reportId, snapshot);
  }

  /** The column of the most recently active report panel; Beside when none is open. */
  private reportColumn(): vscode.ViewColumn {
    for (let i = this.recency.length - 1; i >= 0; i--) {
      const column = this.recency[i].viewColumn;
      if (column !== undefined) return column;
    }
    return vscode.ViewColumn.Beside;
  }

  private touch(panel: vscode.WebviewPanel): void {
    const at = this.recency.indexOf(panel);
    if (at >= 0) this.recency.splice(at, 1);
    this.recency.push(panel);
  }

  /** The report a panel title names: "MemLens: compare (…)" or "MemLens: <model path>". */
  private async idFromTitle(title: string): Promise<string | undefined> {
    const { store } = this.service;
    await store.whenLoaded();
    if (!title.startsWith('MemLens: ')) return undefined;
    if (title.startsWith('MemLens: compare (')) {
      const compare = store.latestCompare();
      return compare ? compareReportId(compare.key) : undefined;
    }
    const shown = title.slice('MemLens: '.length);
    const candidates = path.isAbsolute(shown)
      ? [shown]
      : (vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, shown));
    for (const candidate of candidates) {
      const entry = store.latest(candidate);
      if (entry?.key) return analysisReportId(entry.key);
    }
    return undefined;
  }

  private attach(panel: vscode.WebviewPanel, reportId: string, snapshot: ReportSnapshot): void {
    panel.webview.html = shellHtml(panel.webview, this.extensionUri, snapshotTitle(snapshot));
    this.panels.set(reportId, panel);
    this.lastActive = reportId;
    this.touch(panel);
    const post = (m: HostMessage): void => void panel.webview.postMessage(m);
    const subs: vscode.Disposable[] = [
      handleWebviewMessages(panel.webview, {
        ready: () => post({ type: 'report/show', snapshot, reportId }),
        report: (err) => this.service.report(err),
        announceExports: true,
      }),
      panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.active) return;
        this.lastActive = reportId;
        this.touch(panel);
      }),
      this.service.onDidChangeBusy((busy) => post({ type: 'busy/update', busy })),
    ];
    panel.onDidDispose(() => {
      subs.forEach((s) => s.dispose());
      if (this.panels.get(reportId) === panel) this.panels.delete(reportId);
      if (this.lastActive === reportId) this.lastActive = undefined;
      const at = this.recency.indexOf(panel);
      if (at >= 0) this.recency.splice(at, 1);
    });
  }

  /** Whether a panel of this report is open (for tests and the export command). */
  isOpen(reportId: string): boolean {
    return this.panels.has(reportId);
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    this.panels.clear();
    this.recency.length = 0;
  }
}
