/**
 * The host's one handler of webview messages, for the report panels and the side view: the
 * exhaustive switch over `WebviewMessage` (src/shared/protocol.ts). What differs between the
 * webviews (what `webview/ready` gets back) is passed in.
 */
import * as vscode from 'vscode';
import { assertNever, isWebviewMessage } from '../../shared/protocol';
import { announceExport } from './exportReport';
import { saveExport } from './webviewContent';

export interface WebviewMessageHandling {
  /** The webview has loaded its script and listens: send it what it shows. */
  ready(): void | Promise<void>;
  /** Shows an export that failed (the service's error reporting). */
  report(err: unknown): void;
  /** Whether a written export is announced with a notification naming the file (Open, Reveal). */
  announceExports: boolean;
  /** Opens the shown report in the report panel (the side view); absent: `report/open` is ignored. */
  openReport?: () => void | Promise<void>;
}

/**
 * Handles what `webview` sends: ready, export requests (a save dialog, then an atomic write),
 * opening a model file named in the report or the report itself, and running one of the
 * whitelisted commands (RUNNABLE_COMMANDS) on the report's model. Malformed messages, and
 * commands off the list, are ignored.
 */
export function handleWebviewMessages(
  webview: vscode.Webview,
  handling: WebviewMessageHandling,
): vscode.Disposable {
  return webview.onDidReceiveMessage(async (m: unknown) => {
    if (!isWebviewMessage(m)) return;
    switch (m.type) {
      case 'webview/ready':
        await handling.ready();
        break;
      case 'export/request':
        try {
          const written = await saveExport(m);
          if (written && handling.announceExports) void announceExport(written);
        } catch (err) {
          handling.report(err);
        }
        break;
      case 'report/openSource':
        await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(m.path));
        break;
      case 'report/open':
        await handling.openReport?.();
        break;
      case 'command/run':
        try {
          await vscode.commands.executeCommand(
            m.command,
            ...(m.modelPath === undefined ? [] : [vscode.Uri.file(m.modelPath)]),
          );
        } catch (err) {
          handling.report(err);
        }
        break;
      default:
        assertNever(m);
    }
  });
}
