/**
 * The status-bar item: the running job and its progress; after a job that failed or was
 * cancelled, that; otherwise the latest result. A click opens the latest result's report. The
 * words come from logic/statusText.ts.
 */
import * as vscode from 'vscode';
import type { ResultStore } from '../logic/resultStore';
import {
  errorLine,
  latestResult,
  statusView,
  type JobEnd,
  type JobSubject,
  type StatusInput,
} from '../logic/statusText';

export class MemLensStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly sub: { dispose(): void };
  private busyState: StatusInput['busy'] = null;
  private ended: JobEnd | null = null;
  private subject: JobSubject | null = null;

  constructor(private readonly store: ResultStore) {
    this.item = vscode.window.createStatusBarItem(
      'memlens.status',
      vscode.StatusBarAlignment.Left,
      10,
    );
    this.item.name = 'MemLens';
    this.sub = store.onDidChange(() => this.render());
    this.render();
    this.item.show();
  }

  /** A job runs: its title, its overall fraction and the stage it is in. */
  busy(job: string, fraction: number | null, stage: string | null = null): void {
    this.busyState = { job, fraction, stage };
    this.render();
  }

  /** The job gave a result: `idle()` shows it (as the store holds it). */
  succeeded(subject: JobSubject): void {
    this.subject = subject;
    this.ended = null;
  }

  /** The job failed; `idle()` shows it until the next result. */
  failed(err: unknown): void {
    this.ended = {
      kind: 'failed',
      job: this.busyState?.job ?? null,
      error: errorLine(err),
      at: new Date(),
    };
  }

  /** The job was cancelled; `idle()` shows it until the next result. */
  cancelled(job: string): void {
    this.ended = { kind: 'cancelled', job, at: new Date() };
  }

  /** No job runs (any more). */
  idle(): void {
    this.busyState = null;
    this.render();
  }

  private render(): void {
    const view = statusView(
      {
        busy: this.busyState,
        ended: this.ended,
        latest: latestResult(this.store.entries(), this.store.latestCompare(), this.subject),
      },
      (file) => vscode.workspace.asRelativePath(file),
    );
    this.item.text = view.text;
    this.item.tooltip = new vscode.MarkdownString(view.tooltip);
    this.item.backgroundColor = view.error
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : undefined;
    this.item.command = {
      command: 'memlens.openReport',
      title: 'MemLens: Open Report',
      arguments: view.open === null ? [] : [vscode.Uri.file(view.open)],
    };
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}
