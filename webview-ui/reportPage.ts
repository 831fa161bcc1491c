/**
 * The entry of the self-contained HTML report (`memlens analyze --html`). The report JSON is
 * embedded in <script type="application/json" id="memlens-report">; this page renders it with
 * the same view as the VS Code panel, and exports by downloading files.
 */
import type { ExportRequestMessage, ReportSnapshot } from '../src/shared/protocol';
import { isHostMessage } from '../src/shared/protocol';
import type { Action, ViewState } from './state';
import { initialState, reducer } from './state';
import { ReportView } from './view';
import './styles.css';

function download(request: ExportRequestMessage): void {
  // This page is the HTML report already: it offers no HTML export (ViewHost.exportsHtml).
  if (request.format === 'html') return;
  const a = document.createElement('a');
  a.download = request.fileName;
  let url: string;
  if (request.format === 'png') {
    url = request.dataUrl;
  } else {
    const type = request.format === 'csv' ? 'text/csv' : 'application/json';
    url = URL.createObjectURL(new Blob([request.content], { type }));
  }
  a.href = url;
  document.body.append(a);
  a.click();
  a.remove();
  if (url.startsWith('blob:')) setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function embeddedSnapshot(): ReportSnapshot | string {
  const node = document.getElementById('memlens-report');
  if (node === null) return 'This page has no embedded MemLens report.';
  try {
    const report: unknown = JSON.parse(node.textContent ?? '');
    const schema = (report as { schema?: unknown } | null)?.schema;
    const message = {
      type: 'report/show',
      snapshot: { kind: schema === 'memlens.compare' ? 'compare' : 'analysis', report },
    };
    return isHostMessage(message) && message.type === 'report/show'
      ? message.snapshot
      : 'The embedded report is not a MemLens report (schema memlens.report or memlens.compare).';
  } catch {
    return 'The embedded MemLens report is not valid JSON.';
  }
}

let state: ViewState = initialState();
const root =
  document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));
const view = new ReportView(root, { exportFile: download, dispatch });

function dispatch(action: Action): void {
  const next = reducer(state, action);
  if (next === state) return;
  state = next;
  view.render(state);
}

const snapshot = embeddedSnapshot();
dispatch(
  typeof snapshot === 'string'
    ? { type: 'report/clear', message: snapshot }
    : { type: 'report/show', snapshot },
);
window
  .matchMedia('(prefers-color-scheme: dark)')
  .addEventListener('change', () => view.scheduleRedraw());
