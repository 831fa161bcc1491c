/**
 * MemLens: Export Report. Given a model and a destination it writes without asking (tests,
 * scripts); otherwise it asks which report when several could be meant (the active panel's,
 * the latest compare, each analysed model's latest), then where, with a file name made from
 * the model. The destination's extension picks the format. The notification of a written
 * export offers Open and Reveal.
 */
import * as vscode from 'vscode';
import { writeFileAtomic } from '../../core/io/atomicWrite';
import type { AnalysisReport, CompareReport } from '../../core/report/schema';
import { exportContent, exportFormatOf } from '../logic/exportFormats';
import { exportFileName, openExportIn, reportChoice, revealCommand } from '../logic/exportNames';
import type { ResultStore } from '../logic/resultStore';
import { analysisReportId, compareReportId, loadSnapshot } from './webviewContent';

type Report = AnalysisReport | CompareReport;

/**
 * The reports Export Report offers, each once: the active panel's first, then the latest
 * compare and every analysed model's latest report, newest first.
 */
export async function exportCandidates(
  store: ResultStore,
  activeReportId: string | undefined,
): Promise<{ id: string; report: Report }[]> {
  await store.whenLoaded();
  const compare = store.latestCompare();
  const rest = [
    ...(compare ? [compareReportId(compare.key)] : []),
    ...store
      .entries()
      .filter((e) => e.key !== '')
      .map((e) => analysisReportId(e.key)),
  ];
  const ids = [...new Set([...(activeReportId ? [activeReportId] : []), ...rest])];
  const found: { id: string; report: Report }[] = [];
  for (const id of ids) {
    const snapshot = await loadSnapshot(store, id);
    if (snapshot) found.push({ id, report: snapshot.report });
  }
  const active = found.find((c) => c.id === activeReportId);
  const others = found
    .filter((c) => c !== active)
    .sort((a, b) => b.report.createdAt.localeCompare(a.report.createdAt));
  return active ? [active, ...others] : others;
}

/** Asks which report to export when there are several; undefined when dismissed. */
async function pickReport(
  candidates: { id: string; report: Report }[],
  activeReportId: string | undefined,
): Promise<Report | undefined> {
  if (candidates.length <= 1) return candidates[0]?.report;
  const pick = await vscode.window.showQuickPick(
    candidates.map((c) => ({
      ...reportChoice(c.report, c.id === activeReportId),
      report: c.report,
    })),
    {
      title: 'MemLens: Export Report',
      placeHolder: 'Which report to export',
      matchOnDescription: true,
    },
  );
  return pick?.report;
}

/** Asks where to write a report, proposing `<model>-memlens.json` in the model's workspace folder. */
function askDestination(report: Report): Thenable<vscode.Uri | undefined> {
  const modelPath = report.schema === 'memlens.report' ? report.model.path : report.models[0]?.path;
  const folder =
    (modelPath ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(modelPath)) : undefined) ??
    vscode.workspace.workspaceFolders?.[0];
  return vscode.window.showSaveDialog({
    title: 'MemLens: Export Report',
    defaultUri: folder ? vscode.Uri.joinPath(folder.uri, exportFileName(report)) : undefined,
    filters: { JSON: ['json'], 'HTML report': ['html'], 'CSV (per-layer table)': ['csv'] },
    saveLabel: 'Export',
  });
}

export interface ExportRequest {
  /** The report of the panel the user looked at last. */
  activeReportId: string | undefined;
  /** A model named by the command's caller, with its latest report's id (none: not analysed). */
  model?: { reportId: string | undefined };
  destination?: vscode.Uri;
}

/**
 * Exports a report: a model and a destination make it non-interactive. Returns the written
 * path, or undefined when there was nothing to export or the user dismissed a question.
 */
export async function exportReport(
  store: ResultStore,
  { activeReportId, model, destination }: ExportRequest,
): Promise<string | undefined> {
  let report: Report | undefined;
  if (model) {
    report = model.reportId ? (await loadSnapshot(store, model.reportId))?.report : undefined;
  } else {
    const candidates = await exportCandidates(store, activeReportId);
    if (candidates.length > 0) {
      report = await pickReport(candidates, activeReportId);
      if (!report) return undefined;
    }
  }
  if (!report) {
    void vscode.window.showInformationMessage(
      'MemLens: no report to export; analyse a model first.',
    );
    return undefined;
  }
  const target = destination ?? (await askDestination(report));
  if (!target) return undefined;
  const format = exportFormatOf(target.fsPath);
  await writeFileAtomic(target.fsPath, exportContent(report, format));
  void announceExport(target);
  return target.fsPath;
}

/** Whether this window's UI runs on the machine that holds the files. */
function localDesktop(): boolean {
  return vscode.env.uiKind === vscode.UIKind.Desktop && vscode.env.remoteName === undefined;
}

/** The notification of a written export (a report, a chart, a table), with Open and Reveal. */
export async function announceExport(file: vscode.Uri): Promise<void> {
  const choice = await vscode.window.showInformationMessage(
    `MemLens: exported ${vscode.workspace.asRelativePath(file)}`,
    'Open',
    'Reveal',
  );
  if (choice === 'Open') {
    if (openExportIn(file.fsPath, localDesktop()) === 'browser')
      await vscode.env.openExternal(file);
    else await vscode.commands.executeCommand('vscode.open', file);
  } else if (choice === 'Reveal') {
    const available = (await vscode.commands.getCommands(true)).includes('revealFileInOS');
    await vscode.commands.executeCommand(revealCommand(available, localDesktop()), file);
  }
}
