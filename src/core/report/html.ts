/**
 * The self-contained HTML report: one file that works offline. It inlines the bundled report
 * page (reportPage.js and reportPage.css, built beside this bundle from webview-ui/) and embeds
 * the report JSON in a non-executed <script type="application/json">. Nothing is loaded from
 * anywhere: a Content-Security-Policy allows only the two inline blocks, by hash.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { AnalysisReport, CompareReport } from './schema';

/** The id of the <script type="application/json"> element holding the report. */
export const REPORT_JSON_ID = 'memlens-report';

function readAsset(file: string): string {
  const full = path.join(__dirname, file);
  try {
    return readFileSync(full, 'utf8');
  } catch {
    throw new UserError(
      `${full}: expected the bundled report page asset beside the MemLens bundle, found no readable file (rebuild with npm run build)`,
    );
  }
}

/**
 * The report as JSON that is safe inside a <script> element: every `<` becomes \u003c (so no
 * `</script>` or `<!--` can end or alter the element) and U+2028/U+2029 are escaped too.
 * JSON.parse of the element's text gives back exactly the report.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Script text that cannot close its element early (`</script` is written `<\/script`). */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

function inlineStyle(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

function sha256Source(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * Renders `report` (an analysis or a comparison) as one self-contained HTML document: the
 * same chart.js charts and tables as the VS Code panel, light theme by default (dark when the
 * browser prefers it), no network access. The document title and every string from the report
 * are set by the page script from the embedded JSON, never written into the HTML.
 */
export function renderHtmlReport(report: AnalysisReport | CompareReport): string {
  const script = inlineScript(readAsset('reportPage.js'));
  const style = inlineStyle(readAsset('reportPage.css'));
  const csp = [
    "default-src 'none'",
    'img-src data: blob:',
    `style-src ${sha256Source(style)}`,
    `script-src ${sha256Source(script)}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="MemLens">
<title>MemLens report</title>
<style>${style}</style>
</head>
<body>
<main id="app"></main>
<script type="application/json" id="${REPORT_JSON_ID}">${embedJson(report)}</script>
<script>${script}</script>
</body>
</html>
`;
}
