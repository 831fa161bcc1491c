/** The status-bar item: the capture backend when idle, the running job and its progress when busy. */
import * as vscode from 'vscode';

export class MemLensStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private backend = 'auto';

  constructor() {
    this.item = vscode.window.createStatusBarItem(
      'memlens.status',
      vscode.StatusBarAlignment.Left,
      10,
    );
    this.item.name = 'MemLens';
    this.item.command = 'memlens.openReport';
    this.idle();
    this.item.show();
  }

  setBackend(backend: string): void {
    this.backend = backend;
  }

  idle(): void {
    this.item.text = `$(pulse) MemLens: ${this.backend}`;
    this.item.tooltip = `MemLens: capture backend ${this.backend}. Click to open a report.`;
  }

  busy(what: string, fraction: number | null): void {
    const pct = fraction === null ? '' : ` ${Math.round(fraction * 100)}%`;
    this.item.text = `$(sync~spin) MemLens: ${what}${pct}`;
    this.item.tooltip = `MemLens is analysing (${this.backend}). Cancel from the progress notification.`;
  }

  dispose(): void {
    this.item.dispose();
  }
}
