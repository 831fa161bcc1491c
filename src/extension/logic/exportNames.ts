/**
 * What Export Report and Clear Cached Results show: the names of the reports offered for
 * export, the file name an export defaults to, what Open and Reveal do with the written file,
 * and the confirmation of a clear. No VS Code imports.
 */
import * as path from 'node:path';
import type { AnalysisReport, CompareReport } from '../../core/report/schema';
import { signatureLabel } from '../../core/report/signatureText';
import type { ExportFormat } from './exportFormats';
import { modelDisplayName } from './modelDisplayName';

/**
 * A name made safe as a file name on every OS: runs of anything but letters, digits, `.`,
 * `_` and `-` become one `-`, without leading or trailing `-` or `.`, at most 80 characters.
 */
export function sanitiseFileStem(name: string): string {
  const safe = name
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 80)
    .replace(/[-.]+$/, '');
  return safe.length > 0 ? safe : 'report';
}

/** The stem of a report's export: the model's name, or `compare-<first>-and-<others>`. */
export function reportStem(report: AnalysisReport | CompareReport): string {
  if (report.schema === 'memlens.report') return modelDisplayName(report.model.path);
  const [first] = report.models;
  if (first === undefined) return 'compare';
  const others = report.models.length - 1;
  const name = modelDisplayName(first.path);
  return others > 0 ? `compare-${name}-and-${others}` : `compare-${name}`;
}

/** The file an export of `report` defaults to: `shortcut-memlens.json`. */
export function exportFileName(
  report: AnalysisReport | CompareReport,
  format: ExportFormat = 'json',
): string {
  return `${sanitiseFileStem(reportStem(report))}-memlens.${format}`;
}

/** A report's time as `2025-01-02 13:45`, in local time. */
export function reportTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** What a report found, in words: its signature, or the compare's models with a memorization signature. */
export function reportFinding(report: AnalysisReport | CompareReport): string {
  if (report.schema === 'memlens.report')
    return report.signature ? signatureLabel(report.signature.kind) : 'no reference';
  const flagged = report.models.filter(
    (m) => m.error === undefined && m.notComparable === undefined && m.signature.kind !== 'none',
  );
  if (flagged.length === 0) return 'no memorization signature';
  if (flagged.length === 1)
    return `${modelDisplayName(flagged[0].path)}: ${signatureLabel(flagged[0].signature.kind)}`;
  return `${flagged.length} of ${report.models.length} models with a memorization signature`;
}

/** A report as an item of the Export Report pick: what it is of, then when and what it found. */
export function reportChoice(
  report: AnalysisReport | CompareReport,
  active: boolean,
): { label: string; description: string } {
  const label =
    report.schema === 'memlens.report'
      ? modelDisplayName(report.model.path)
      : `compare of ${report.models.length} models`;
  const parts = [reportTime(report.createdAt), reportFinding(report)];
  if (active) parts.unshift('active report');
  return { label, description: parts.join(' · ') };
}

/**
 * How Open shows an exported file: an HTML report in the browser when the browser runs where
 * the file is (a local desktop window), everything else (and HTML elsewhere) in an editor.
 */
export function openExportIn(file: string, localDesktop: boolean): 'browser' | 'editor' {
  const ext = path.extname(file).toLowerCase();
  return (ext === '.html' || ext === '.htm') && localDesktop ? 'browser' : 'editor';
}

/**
 * The command Reveal runs: the OS file manager where it exists and sees the file (a local
 * desktop window), else the Explorer view (code-server, remote windows).
 */
export function revealCommand(revealInOsAvailable: boolean, localDesktop: boolean): string {
  return revealInOsAvailable && localDesktop ? 'revealFileInOS' : 'revealInExplorer';
}

/** The confirmation of Clear Cached Results, or undefined when nothing is cached. */
export function clearQuestion(results: number, measurements: boolean): string | undefined {
  if (results === 0 && !measurements) return undefined;
  if (results === 0) return 'Clear the cached measurements?';
  return `Clear ${results} cached result${results === 1 ? '' : 's'} and measurements?`;
}
