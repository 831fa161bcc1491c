/**
 * The one protocol between the extension host and the MemLens webviews (the report panel,
 * the side-panel view). Both sides compile this file. Every message is a plain object with a
 * `type` of the form `area/verb`; the doc comment on each says who sends it to whom.
 *
 * The host always sends complete snapshots of aggregates (per-layer summaries and densities,
 * never raw activations). The webview only renders them and asks the host to do anything that
 * touches files.
 *
 * Adding a message: add it to the union, then the exhaustive switches on both sides (the
 * webview reducer, the host's handler in src/extension/webviewMessages.ts) stop compiling
 * until they handle it, and the guards below must learn its shape.
 */
import type { AnalysisReport, CompareReport } from '../core/report/schema';

/** The report types travel in the messages; the webview imports them from here, not the core. */
export type * from '../core/report/schema';

/**
 * What a panel shows: one analysed model, or a comparison of several. An analysis read against
 * a baseline may carry the baseline's own report as `reference`, which the charts draw beside
 * the model's (absent when the store has no report of the baseline).
 */
export type ReportSnapshot =
  | { kind: 'analysis'; report: AnalysisReport; reference?: AnalysisReport }
  | { kind: 'compare'; report: CompareReport };

/**
 * How a webview lays a report out: `full` (the report panel: charts and tables) or `summary`
 * (the side view: signature, medians, a sparkline and buttons, for about 300 px).
 */
export type ViewMode = 'full' | 'summary';

/**
 * The commands a webview may ask the host to run (`command/run`), each with the report's model
 * as its argument when it has one. Nothing else runs from a webview.
 */
export const RUNNABLE_COMMANDS = [
  'memlens.compareWith',
  'memlens.useAsBaseline',
  'memlens.chooseReference',
] as const;
export type RunnableCommand = (typeof RUNNABLE_COMMANDS)[number];

/** Progress of a running analysis, as shown by the webview's busy bar. */
export interface BusyInfo {
  /** What is being done, e.g. "capturing dense_1" or "MI pairs 1200/2016". */
  label: string;
  /** Fraction done in [0, 1], or null when unknown. */
  fraction: number | null;
}

/** The charts a webview draws; each is a canvas with id `${chart}-chart`. */
export const CHART_IDS = ['entropy', 'mi', 'compare', 'trajectory'] as const;
export type ChartId = (typeof CHART_IDS)[number];

// ---------------------------------------------------------------- host -> webview

/** host -> webview: show this report (a full snapshot; replaces whatever was shown). */
export interface ReportShowMessage {
  type: 'report/show';
  snapshot: ReportSnapshot;
  /**
   * Optional host-side identity of the report (a report file path or a cache key). The
   * webview keeps it in its persisted UI state so a panel serializer can reopen the report
   * after a reload.
   */
  reportId?: string;
  /** The layout (default `full`); the side view sends `summary`. */
  mode?: ViewMode;
}

/** host -> webview: nothing to show (yet); `message` says why, e.g. "No analysis yet". */
export interface ReportClearMessage {
  type: 'report/clear';
  message: string;
}

/** host -> webview: an analysis is running (`busy` set) or finished (`busy` null). */
export interface BusyUpdateMessage {
  type: 'busy/update';
  busy: BusyInfo | null;
}

/** Every message the host sends to a webview. */
export type HostMessage = ReportShowMessage | ReportClearMessage | BusyUpdateMessage;

// ---------------------------------------------------------------- webview -> host

/** webview -> host: the webview has loaded its script and listens; send the current state. */
export interface WebviewReadyMessage {
  type: 'webview/ready';
}

/**
 * webview -> host: save an export. The webview produces the bytes (a PNG data URL of one
 * chart, the report JSON, the per-layer table as CSV); the host asks where and writes them.
 * For `html` the webview sends the report and the host writes the self-contained HTML report
 * (the same file as `memlens analyze --html` and MemLens: Export Report).
 */
export type ExportRequestMessage =
  | {
      type: 'export/request';
      format: 'png';
      chart: ChartId;
      dataUrl: string;
      /** A suggested bare file name, e.g. "model-entropy.png". */
      fileName: string;
    }
  | { type: 'export/request'; format: 'json' | 'csv'; content: string; fileName: string }
  | {
      type: 'export/request';
      format: 'html';
      report: AnalysisReport | CompareReport;
      fileName: string;
    };

/** webview -> host: open a model file named in the report (e.g. a row of the compare table). */
export interface ReportOpenSourceMessage {
  type: 'report/openSource';
  path: string;
}

/**
 * webview -> host: run one of RUNNABLE_COMMANDS (e.g. Compare With… from a lone model's
 * report), given the model file of the report when there is one.
 */
export interface CommandRunMessage {
  type: 'command/run';
  command: RunnableCommand;
  modelPath?: string;
}

/** webview -> host: open the shown report in the report panel (the side view's Open Report). */
export interface ReportOpenMessage {
  type: 'report/open';
}

/** Every message a webview sends to the host. */
export type WebviewMessage =
  | WebviewReadyMessage
  | ExportRequestMessage
  | ReportOpenSourceMessage
  | CommandRunMessage
  | ReportOpenMessage;

// ---------------------------------------------------------------- guards

/** For exhaustive switches: a call that only compiles when every case has been handled. */
export function assertNever(value: never, what = 'message'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAnalysisReport(report: unknown): report is AnalysisReport {
  return (
    isRecord(report) &&
    report.schema === 'memlens.report' &&
    Array.isArray(report.layers) &&
    isRecord(report.summary) &&
    isRecord(report.model)
  );
}

function isCompareReport(report: unknown): report is CompareReport {
  return (
    isRecord(report) &&
    report.schema === 'memlens.compare' &&
    Array.isArray(report.models) &&
    Array.isArray(report.ranking)
  );
}

function isSnapshot(value: unknown): value is ReportSnapshot {
  if (!isRecord(value)) return false;
  if (value.kind === 'analysis') {
    return (
      isAnalysisReport(value.report) &&
      (value.reference === undefined || isAnalysisReport(value.reference))
    );
  }
  return value.kind === 'compare' && isCompareReport(value.report);
}

function isBusyInfo(value: unknown): value is BusyInfo {
  return (
    isRecord(value) &&
    typeof value.label === 'string' &&
    (value.fraction === null ||
      (typeof value.fraction === 'number' && value.fraction >= 0 && value.fraction <= 1))
  );
}

/** Runtime guard for what a webview receives: true only for a well-formed HostMessage. */
export function isHostMessage(value: unknown): value is HostMessage {
  if (!isRecord(value) || typeof value.type !== 'string') return false;
  const type = value.type as HostMessage['type'];
  switch (type) {
    case 'report/show':
      return (
        isSnapshot(value.snapshot) &&
        (value.reportId === undefined || typeof value.reportId === 'string') &&
        (value.mode === undefined || value.mode === 'full' || value.mode === 'summary')
      );
    case 'report/clear':
      return typeof value.message === 'string';
    case 'busy/update':
      return value.busy === null || isBusyInfo(value.busy);
    default:
      return false;
  }
}

/** A bare file name (the host picks the folder): no separators, no leading dot. */
const SAFE_FILE_NAME = /^[^\\/.][^\\/]*$/;
const PNG_DATA_URL = /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/;

/** Runtime guard for what the host receives: true only for a well-formed WebviewMessage. */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (!isRecord(value) || typeof value.type !== 'string') return false;
  const type = value.type as WebviewMessage['type'];
  switch (type) {
    case 'webview/ready':
      return true;
    case 'report/openSource':
      return typeof value.path === 'string' && value.path.length > 0;
    case 'report/open':
      return true;
    case 'command/run':
      return (
        (RUNNABLE_COMMANDS as readonly unknown[]).includes(value.command) &&
        (value.modelPath === undefined ||
          (typeof value.modelPath === 'string' && value.modelPath.length > 0))
      );
    case 'export/request':
      if (typeof value.fileName !== 'string' || !SAFE_FILE_NAME.test(value.fileName)) return false;
      if (value.format === 'png') {
        return (
          typeof value.dataUrl === 'string' &&
          PNG_DATA_URL.test(value.dataUrl) &&
          (CHART_IDS as readonly unknown[]).includes(value.chart)
        );
      }
      if (value.format === 'html') {
        return isAnalysisReport(value.report) || isCompareReport(value.report);
      }
      return (
        (value.format === 'json' || value.format === 'csv') && typeof value.content === 'string'
      );
    default:
      return false;
  }
}
