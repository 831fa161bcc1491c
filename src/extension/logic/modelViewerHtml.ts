/**
 * The HTML of the read-only model viewer: the model's layers and its latest analysis. It runs
 * no script at all (CSP script-src 'none'); its two actions are command links, and every
 * piece of text is escaped. Pure (no VS Code).
 */
import { escapeHtml } from '../../shared/webviewShell';
import type { ModelOutline } from '../child/protocol';
import { signatureLabel } from '../../core/report/signatureText';
import type { ResultEntry } from './resultStore';

export interface ModelViewerInput {
  /** The path shown as the heading (workspace-relative when possible). */
  displayPath: string;
  /** The model's absolute path, passed to the commands. */
  modelPath: string;
  /** The layers, or null while loading or when they cannot be read. */
  outline: ModelOutline | null;
  /** Why the layers are not shown ("loading…", a one-line error), when outline is null. */
  outlineNote: string | null;
  entry: ResultEntry | null;
  nonce: string;
}

/** A `command:` link with the model path as the single argument. */
export function commandLink(command: string, arg: string): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify([arg]))}`;
}

const shape = (s: (number | null)[]): string =>
  `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;

export function modelViewerHtml(input: ModelViewerInput): string {
  const { outline, entry } = input;
  const csp = `default-src 'none'; style-src 'nonce-${input.nonce}';`;
  const rows = outline
    ? outline.layers
        .map(
          (l) =>
            `<tr><td>${escapeHtml(l.name)}</td><td>${escapeHtml(l.type)}</td><td>${escapeHtml(shape(l.outputShape))}</td>` +
            `<td>${escapeHtml(l.activation ?? '')}</td><td>${l.measuredByDefault ? 'yes' : ''}</td></tr>`,
        )
        .join('\n')
    : '';
  const layers = outline
    ? `<p>${escapeHtml(outline.format)} on ${escapeHtml(outline.backend)}, input ${escapeHtml(shape(outline.inputShape))}, ${outline.layers.length} layers.</p>
<table id="layers"><thead><tr><th>Layer</th><th>Type</th><th>Output</th><th>Activation</th><th>Measured</th></tr></thead>
<tbody>${rows}</tbody></table>`
    : `<p class="note">${escapeHtml(input.outlineNote ?? '')}</p>`;
  const analysis = entry
    ? `<p>Median H <b>${entry.entropyMedian.toFixed(3)}</b> nats · median I <b>${entry.miMedian.toFixed(3)}</b> nats · ` +
      `${escapeHtml(entry.signature ? signatureLabel(entry.signature.kind) : 'no reference (set memlens.baseline or compare)')}</p>` +
      (entry.signature ? `<p class="note">${escapeHtml(entry.signature.explanation)}</p>` : '') +
      `<p class="note">Analysed ${escapeHtml(entry.analysedAt)}${entry.backend ? ` on ${escapeHtml(entry.backend)}` : ''}.</p>` +
      `<p><a href="${escapeHtml(commandLink('memlens.openReport', input.modelPath))}">Open report</a> · ` +
      `<a href="${escapeHtml(commandLink('memlens.analyze', input.modelPath))}">Analyze again</a></p>`
    : `<p>Not analysed yet. <a href="${escapeHtml(commandLink('memlens.analyze', input.modelPath))}">Analyze memorization</a></p>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<title>${escapeHtml(input.displayPath)}</title>
<style nonce="${input.nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 2px 12px 2px 0; border-bottom: 1px solid var(--vscode-panel-border, #8884); }
td:nth-child(3) { font-family: var(--vscode-editor-font-family); }
.note { color: var(--vscode-descriptionForeground); }
a { color: var(--vscode-textLink-foreground); }
</style>
</head>
<body>
<h2>${escapeHtml(input.displayPath)}</h2>
<h3>Latest analysis</h3>
${analysis}
<h3>Layers</h3>
${layers}
</body>
</html>
`;
}
