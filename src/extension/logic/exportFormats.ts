/** The files a report exports to, chosen by the target's extension. No VS Code imports. */
import * as path from 'node:path';
import { UserError } from '../../core/errors';
import { layerTableCsv } from '../../core/report/csv';
import { renderHtmlReport } from '../../core/report/html';
import type { AnalysisReport, CompareReport } from '../../core/report/schema';

export type ExportFormat = 'json' | 'csv' | 'html';

/** The export format of a target path, from its extension. */
export function exportFormatOf(target: string): ExportFormat {
  const ext = path.extname(target).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.csv') return 'csv';
  if (ext === '.html' || ext === '.htm') return 'html';
  throw new UserError(
    `${target}: expected an export file ending in .json, .csv or .html, found '${ext || 'no extension'}'`,
  );
}

/** The text of a report in a format: the report JSON, the per-layer CSV table, or the self-contained HTML report. */
export function exportContent(
  report: AnalysisReport | CompareReport,
  format: ExportFormat,
): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return layerTableCsv(report);
    case 'html':
      return renderHtmlReport(report);
  }
}
