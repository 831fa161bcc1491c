/**
 * The HTML of the read-only model viewer: a model's facts (inputs, outputs, parameters, who
 * made it), whether the probe fits, its layers and its latest analysis; or what a file of
 * arrays holds (an activation dump, probe data, or neither). It runs
 * no script at all (CSP script-src 'none'); its two actions are command links, and every
 * piece of text is escaped. Pure (no VS Code).
 */
import { escapeHtml } from '../../shared/webviewShell';
import type { TensorSummary } from '../../core/capture/describeModel';
import type { ProbeCheck } from '../../core/probe/probeCheck';
import type { ArrayFileOutline, ModelFileOutline, ModelOutline } from '../child/protocol';
import { readableTimestamp } from './relativeTime';
import { signatureLabel } from '../../core/report/signatureText';
import type { ResultEntry } from './resultStore';

export interface ModelViewerInput {
  /** The path shown as the heading (workspace-relative when possible). */
  displayPath: string;
  /** The model's absolute path, passed to the commands. */
  modelPath: string;
  /** What the file holds, or null while loading or when it cannot be read. */
  outline: ModelOutline | null;
  /** Why the layers are not shown ("loading…", a one-line error), when outline is null. */
  outlineNote: string | null;
  entry: ResultEntry | null;
  /** The entry's context in words ("alone, on probe.npy"), and how many results the model keeps. */
  context?: { label: string; results: number };
  nonce: string;
  /** The current time, for "analysed 3 minutes ago". */
  now: Date;
  /** The probe's path as shown (workspace-relative when possible). */
  displayProbe?: string;
}

/** A `command:` link with the model path as the single argument. */
export function commandLink(command: string, arg: string): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify([arg]))}`;
}

const SELECT_PROBE = 'command:memlens.selectProbe';

const shape = (s: readonly (number | null)[]): string =>
  `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;

/** `1000×784`: an array's shape as a person says it. */
const dims = (s: readonly number[]): string => (s.length === 0 ? 'scalar' : s.join('×'));

const link = (href: string, text: string): string =>
  `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;

/** A two-column table of facts; rows whose value is undefined are left out. */
function facts(rows: [string, string | undefined][]): string {
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined);
  return `<table class="facts"><tbody>${shown
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('')}</tbody></table>`;
}

function tensors(id: string, title: string, list: readonly TensorSummary[]): string {
  const withDtype = list.some((t) => t.dtype !== undefined);
  const rows = list
    .map(
      (t) =>
        `<tr><td>${escapeHtml(t.name)}</td><td>${escapeHtml(t.shape.length ? shape(t.shape) : 'unknown')}</td>` +
        (withDtype ? `<td>${escapeHtml(t.dtype ?? '')}</td>` : '') +
        '</tr>',
    )
    .join('');
  return `<h3>${title}</h3>
<table id="${id}"><thead><tr><th>Name</th><th>Shape</th>${withDtype ? '<th>Type</th>' : ''}</tr></thead><tbody>${rows}</tbody></table>`;
}

/** The probe line: whether the probe the analysis would use fits the model's input. */
export function probeFitText(fit: ProbeCheck | null): string {
  if (fit === null) return 'no probe selected';
  if ('error' in fit) return `cannot be read: ${fit.error}`;
  if (fit.fits)
    return shape(fit.exampleShape) === shape(fit.fedShape)
      ? `fits: examples of shape ${shape(fit.exampleShape)}`
      : `fits: examples of shape ${shape(fit.exampleShape)} are reshaped to ${shape(fit.fedShape)}`;
  const example =
    fit.exampleShape.length === 1
      ? `probe rows are ${fit.exampleShape[0]} features`
      : `probe examples are ${shape(fit.exampleShape)}`;
  return `does not fit: ${example}, model expects ${shape(fit.modelInput)}`;
}

function probeSection(fit: ProbeCheck | null, displayProbe: string | null): string {
  const text = escapeHtml(probeFitText(fit));
  if (fit === null)
    return `<p id="probe">Probe data: ${text}. ${link(SELECT_PROBE, 'Select probe data')}</p>`;
  const cls = fit.fits ? 'fits' : 'misfit';
  return (
    `<p id="probe">Probe data <code>${escapeHtml(displayProbe ?? fit.probe)}</code>: <span class="${cls}">${text}</span>. ` +
    `${link(SELECT_PROBE, 'Select other probe data')}</p>`
  );
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

function modelSection(o: ModelFileOutline, displayProbe: string | null): string {
  const rows = o.layers
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.name)}</td><td>${escapeHtml(l.type)}</td><td>${escapeHtml(shape(l.outputShape))}</td>` +
        `<td>${escapeHtml(l.activation ?? '')}</td><td>${l.measuredByDefault ? 'yes' : ''}</td></tr>`,
    )
    .join('\n');
  const summary = facts([
    ['Format', o.format],
    ['Runs on', o.backend],
    ['Parameters', o.parameters === null ? 'unknown' : o.parameters.toLocaleString('en-US')],
    ['Opset', o.opset === undefined ? undefined : String(o.opset)],
    ['Producer', o.producer],
    ['Generated by', o.generatedBy],
    ['Converted by', o.convertedBy],
    ['Keras', o.kerasVersion],
  ]);
  const inputs = o.inputs ?? [{ name: '', shape: o.inputShape }];
  return `${summary}
${probeSection(o.probeFit, displayProbe)}
${tensors('inputs', 'Inputs', inputs)}
${o.outputs === undefined ? '' : tensors('outputs', 'Outputs', o.outputs)}
<h3>Layers</h3>
<p>${plural(o.layers.length, 'layer')}.</p>
<table id="layers"><thead><tr><th>Layer</th><th>Type</th><th>Output</th><th>Activation</th><th>Measured</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

/** What a file of arrays is, in one line: a dump, probe data, or the reader's refusal. */
export function arraysVerdict(o: ArrayFileOutline): string {
  if (o.arrays === null) return o.error ?? 'cannot be read';
  const one = o.arrays.length === 1 ? o.arrays[0] : undefined;
  const what = one
    ? `a ${dims(one.shape)} ${one.dtype} array`
    : `${plural(o.arrays.length, 'array')}`;
  if ('samples' in o.dump)
    return `${what}: an activation dump of ${o.dump.samples} samples × ${plural(o.dump.neurons, 'neuron')} in ${plural(o.dump.layers, 'layer')}`;
  if (o.probe !== undefined && 'shape' in o.probe) return `${what}: usable as probe data`;
  return `${what}, not an activation dump: ${o.dump.error}`;
}

function arraysSection(o: ArrayFileOutline, modelPath: string): string {
  const verdict = escapeHtml(arraysVerdict(o));
  if (o.arrays === null) return `<p class="note">${verdict}</p>`;
  const rows = o.arrays
    .map(
      (a) =>
        `<tr><td>${escapeHtml(a.name)}</td><td>${escapeHtml(a.dtype)}</td><td>${escapeHtml(shape(a.shape))}</td></tr>`,
    )
    .join('\n');
  const asProbe =
    o.probe !== undefined && 'shape' in o.probe
      ? o.isProbe
        ? '<p>This is the current probe data.</p>'
        : `<p>${link(commandLink('memlens.selectProbe', modelPath), 'Use as probe data')}</p>`
      : '';
  return `<p id="verdict">${verdict}.</p>
${'samples' in o.dump ? '<p class="note">Rows are samples, columns are neurons.</p>' : ''}
${asProbe}
<table id="arrays"><thead><tr><th>Array</th><th>Type</th><th>Shape</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

export function modelViewerHtml(input: ModelViewerInput): string {
  const { outline, entry } = input;
  const csp = `default-src 'none'; style-src 'nonce-${input.nonce}';`;
  const body =
    outline === null
      ? `<p class="note">${escapeHtml(input.outlineNote ?? '')}</p>`
      : outline.kind === 'model'
        ? modelSection(outline, input.displayProbe ?? null)
        : arraysSection(outline, input.modelPath);
  const heading = outline?.kind === 'arrays' ? 'Arrays' : 'Model';
  const analysis = entry
    ? `<p>Median H <b>${entry.entropyMedian.toFixed(3)}</b> nats · median I <b>${entry.miMedian.toFixed(3)}</b> nats · ` +
      `${escapeHtml(entry.signature ? signatureLabel(entry.signature.kind) : 'no reference (set memlens.baseline or compare)')}</p>` +
      (entry.signature ? `<p class="note">${escapeHtml(entry.signature.explanation)}</p>` : '') +
      `<p class="note">Analysed ${escapeHtml(readableTimestamp(entry.analysedAt, input.now))}${entry.backend ? ` on ${escapeHtml(entry.backend)}` : ''}.</p>` +
      (input.context
        ? `<p class="note">Result ${escapeHtml(input.context.label)} (${escapeHtml(entry.context.settings)}).` +
          (input.context.results > 1
            ? ` ${input.context.results - 1} other result(s): ${link(commandLink('memlens.switchResult', input.modelPath), 'Switch result')}.`
            : '') +
          '</p>'
        : '') +
      `<p>${link(commandLink('memlens.openReport', input.modelPath), 'Open report')} · ` +
      `${link(commandLink('memlens.analyze', input.modelPath), 'Analyze again')}</p>`
    : `<p>Not analysed yet. ${link(commandLink('memlens.analyze', input.modelPath), 'Analyze memorization')}</p>`;
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
td:nth-child(3), code { font-family: var(--vscode-editor-font-family); }
.facts th { font-weight: normal; color: var(--vscode-descriptionForeground); }
.misfit { color: var(--vscode-errorForeground); }
.note { color: var(--vscode-descriptionForeground); }
a { color: var(--vscode-textLink-foreground); }
</style>
</head>
<body>
<h2>${escapeHtml(input.displayPath)}</h2>
<h3>Latest analysis</h3>
${analysis}
<h3>${heading}</h3>
${body}
</body>
</html>
`;
}
