/**
 * The VS Code webview entry (report panel and side view). Talks to the extension host only
 * through the typed protocol: posts `webview/ready`, renders each `report/show` snapshot (in
 * the layout the host names: the full report or the side view's summary), asks the host to save
 * exports and to run the few commands a report offers. Persists only UI state. Follows theme changes by redrawing when
 * VS Code changes the body class (vscode-light / vscode-dark / vscode-high-contrast).
 */
import type { WebviewMessage } from '../src/shared/protocol';
import { isHostMessage } from '../src/shared/protocol';
import type { Action, UiState, ViewState } from './state';
import { initialState, reducer } from './state';
import { ReportView } from './view';
import './styles.css';

/** The part of the webview API this page uses (no `vscode` import in webview code). */
interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: UiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let state: ViewState = initialState(vscode.getState());

const root =
  document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));
const view = new ReportView(root, {
  exportFile: (request) => vscode.postMessage(request),
  openSource: (path) => vscode.postMessage({ type: 'report/openSource', path }),
  runCommand: (command, modelPath) =>
    vscode.postMessage(
      modelPath === undefined
        ? { type: 'command/run', command }
        : { type: 'command/run', command, modelPath },
    ),
  openReport: () => vscode.postMessage({ type: 'report/open' }),
  exportsHtml: true,
  dispatch,
});

function dispatch(action: Action): void {
  const next = reducer(state, action);
  if (next === state) return;
  if (next.ui !== state.ui) vscode.setState(next.ui);
  state = next;
  view.render(state);
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (isHostMessage(event.data)) dispatch(event.data);
});

// VS Code re-applies the body's theme class and data attributes and the --vscode-* variables
// on <html> whenever the colour theme changes; one redraw per batch of changes.
const themeObserver = new MutationObserver(() => view.scheduleRedraw());
themeObserver.observe(document.body, {
  attributes: true,
  attributeFilter: ['class', 'data-vscode-theme-id', 'data-vscode-theme-kind'],
});
themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });

view.render(state);
vscode.postMessage({ type: 'webview/ready' });
