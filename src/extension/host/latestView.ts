/**
 * The side-panel webview view: a compact summary of the latest analysis or compare (signature,
 * medians, a sparkline, Open Report / Compare With… / Export), kept current. The full report
 * opens in the report panel.
 */
import type * as vscode from 'vscode';
import type { HostMessage } from '../../shared/protocol';
import type { AnalysisService } from './analysisService';
import {
  analysisReportId,
  compareReportId,
  loadSnapshot,
  shellHtml,
  webviewOptions,
} from './webviewContent';
import { handleWebviewMessages } from './webviewMessages';

export const LATEST_VIEW_ID = 'memlens.latest';

export class LatestAnalysisView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly subs: vscode.Disposable[] = [];
  /** The report id the view shows, for Open Report. */
  private shownId: string | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly service: AnalysisService,
    /** Opens a report id in the report panel (ReportPanels.show). */
    private readonly openReport: (reportId: string) => Promise<unknown>,
  ) {
    this.subs.push(
      service.store.onDidChange(() => void this.refresh()),
      service.onDidChangeBusy((busy) => this.post({ type: 'busy/update', busy })),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = shellHtml(view.webview, this.extensionUri, 'MemLens: latest analysis');
    const sub = handleWebviewMessages(view.webview, {
      ready: () => this.refresh(),
      report: (err) => this.service.report(err),
      // The side view writes its exports without a notification; the report panel announces them.
      announceExports: false,
      openReport: async () => {
        if (this.shownId === undefined) return;
        try {
          await this.openReport(this.shownId);
        } catch (err) {
          this.service.report(err);
        }
      },
    });
    view.onDidDispose(() => {
      sub.dispose();
      this.view = undefined;
    });
  }

  private post(message: HostMessage): void {
    if (this.view) void this.view.webview.postMessage(message);
  }

  /** The id of the newest result: the latest compare when it is newer than the newest analysis. */
  private newestReportId(): string | undefined {
    // The model the user analysed last, not a baseline measured for its reading.
    const entry = this.service.store.newest();
    const compare = this.service.store.latestCompare();
    if (compare && (!entry || compare.createdAt >= entry.analysedAt))
      return compareReportId(compare.key);
    return entry?.key ? analysisReportId(entry.key) : undefined;
  }

  private async refresh(): Promise<void> {
    if (!this.view) return;
    const id = this.newestReportId();
    const snapshot = id ? await loadSnapshot(this.service.store, id) : undefined;
    this.shownId = snapshot && id ? id : undefined;
    if (!snapshot || !id) {
      this.post({
        type: 'report/clear',
        message:
          'No analysis yet: right-click a model file and choose MemLens: Analyze Memorization.',
      });
      return;
    }
    this.post({ type: 'report/show', snapshot, reportId: id, mode: 'summary' });
  }

  dispose(): void {
    this.subs.forEach((s) => s.dispose());
  }
}
