/**
 * Draws a ViewState into the page: header, toolbar, the charts and the tables. Shared by the
 * VS Code webview (main.ts) and the self-contained HTML report (reportPage.ts); only the way
 * exports leave the page differs (ViewHost). Data never goes through innerHTML: every string
 * from a report is set as textContent.
 */
import type {
  AnalysisReport,
  ChartId,
  CompareReport,
  ExportRequestMessage,
  ReportSnapshot,
  RunnableCommand,
} from '../src/shared/protocol';
import type { SummaryData, TableData } from './chartData';
import {
  BASELINE_SIGNATURE_FLAG,
  LONE_MODEL_CLI_NOTE,
  LONE_MODEL_NOTE,
  MAX_POINTS_PER_BOX,
  PNG_TITLE_BAND,
  SIGNATURE_COLORS,
  SIGNATURE_LABELS,
  baselineSignature,
  analysisTable,
  binsText,
  compareLayerTable,
  compareReference,
  comparePoints,
  compareTable,
  displayName,
  entropyBoxData,
  exportStem,
  layerCsv,
  miDensityCurves,
  miSmallMultiples,
  modelRole,
  modelSeries,
  normalizeCompare,
  onsetSummary,
  rankingSection,
  referenceSummary,
  reportSubject,
  scaleNotes,
  shortLabels,
  sparklinePoints,
  summaryData,
  trajectoryData,
  usesSmallMultiples,
} from './chartData';
import { createCompareChart } from './charts/compare';
import { createEntropyChart } from './charts/entropyBoxes';
import { createMiDensityChart } from './charts/miDensity';
import { createTrajectoryChart } from './charts/trajectory';
import {
  SMALL_MULTIPLES_FROM,
  WARNINGS_OPEN_UP_TO,
  shortNameMap,
  shownLayers,
  warningTable,
} from './layerNames';
import type { UiAction, ViewState } from './state';
import { selectableLayers } from './state';
import type { Theme } from './theme';
import { readTheme } from './theme';

/** What the page around the view provides. */
export interface ViewHost {
  /** Delivers an export: posted to the extension host, or downloaded by the report page. */
  exportFile(request: ExportRequestMessage): void;
  /** Opens a model file (only inside VS Code). */
  openSource?: (path: string) => void;
  /**
   * Runs a MemLens command on the report's model (only inside VS Code): without it, the page
   * tells a lone model's reader what to run instead.
   */
  runCommand?: (command: RunnableCommand, modelPath?: string) => void;
  /** Opens the shown report in the report panel (the side view's Open Report). */
  openReport?: () => void;
  /** Whether the host writes the self-contained HTML report (`export/request` format html). */
  exportsHtml?: boolean;
  /** Feeds a user action back into the reducer. */
  dispatch(action: UiAction): void;
}

type Child = Node | string | null | undefined | false;

/** Creates an element with a class and children; strings become text nodes. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className !== null) node.className = className;
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

function seconds(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '—';
}

function paramsLine(report: AnalysisReport | CompareReport): string {
  const p = report.params;
  const parts = [
    report.probe !== null
      ? `probe ${displayName(report.probe.path)} (${report.probe.samples} samples)`
      : null,
    binsText(report),
    p.estimator === 'mixed' ? `mixed (tie-aware) KSG k = ${p.k}` : `KSG k = ${p.k}`,
    `capture: ${p.point === 'preactivation' ? 'pre-activation' : 'layer output'}`,
    p.miNeuronCap !== null ? `MI cap ${p.miNeuronCap} neurons/layer` : null,
  ];
  if (report.schema === 'memlens.report') {
    if (report.backend !== null) parts.push(`backend ${report.backend}`);
    parts.push(`${seconds(report.timing.totalMs)}`);
  }
  return parts.filter((x): x is string => x !== null).join(' · ');
}

function renderTable(id: string, table: TableData, host: ViewHost, caption: string): HTMLElement {
  const t = el('table', 'ml-table');
  t.id = id;
  t.append(
    el(
      'caption',
      null,
      caption,
      table.note !== undefined &&
        el('div', `ml-table-note tone-${table.note.tone}`, table.note.text),
    ),
  );
  const headRow = el('tr', null);
  const align = (i: number) => (table.numeric[i] ? 'ml-num' : 'ml-text');
  for (const [i, c] of table.columns.entries()) {
    const th = el('th', align(i), c);
    th.scope = 'col';
    headRow.append(th);
  }
  t.append(el('thead', null, headRow));
  const body = el('tbody', null);
  for (const row of table.rows) {
    const tr = el('tr', row.tone !== undefined ? `tone tone-${row.tone}` : null);
    if (row.title !== undefined) tr.title = row.title;
    row.cells.forEach((cell, i) => {
      const td = el('td', i === table.toneColumn ? `${align(i)} ml-tone` : align(i));
      const title = row.titles?.[i];
      if (title !== undefined) td.title = title;
      if (row.spanLast === true && i === row.cells.length - 1) {
        td.colSpan = table.columns.length - i;
        td.className = 'ml-text ml-wrap';
      }
      if (
        i === (table.linkColumn ?? 0) &&
        row.path !== undefined &&
        host.openSource !== undefined
      ) {
        const path = row.path;
        const open = host.openSource;
        const button = el('button', 'ml-link', cell);
        button.type = 'button';
        button.title = `Open ${path}`;
        button.addEventListener('click', () => open(path));
        td.append(button);
      } else if (i === table.evidenceColumn && row.evidence !== undefined) {
        // A disclosure (keyboard and touch reachable), not only the row's hover tooltip.
        td.append(
          el('details', 'ml-evidence', el('summary', null, cell), el('p', null, row.evidence)),
        );
      } else {
        td.textContent = cell;
      }
      tr.append(td);
    });
    body.append(tr);
  }
  t.append(body);
  // A table wider than the page scrolls inside its own box, which the keyboard can scroll too.
  const scroll = el('div', 'ml-scroll', t);
  scroll.tabIndex = 0;
  scroll.setAttribute('role', 'region');
  scroll.setAttribute('aria-label', caption);
  return scroll;
}

/** Makes a chart taller when its legend needs more than one row (about three entries a row). */
function growForLegend(canvas: HTMLCanvasElement, entries: number): void {
  const box = canvas.parentElement;
  const extraRows = Math.ceil(entries / 3) - 1;
  if (box !== null && extraRows > 0) box.style.height = `${340 + 22 * extraRows}px`;
}

/**
 * A PNG of the chart as drawn (charts render at PNG_SCALE or the screen's ratio, if higher),
 * under a band with its title, all on the theme background (a bare canvas is transparent).
 */
function chartPng(canvas: HTMLCanvasElement, title: string, theme: Theme): string {
  const scale = canvas.width / Math.max(1, canvas.clientWidth);
  const titled = titledCanvas(canvas.width, canvas.height, scale, title, theme);
  if (titled === null) return canvas.toDataURL('image/png');
  titled.ctx.drawImage(canvas, 0, titled.band);
  return titled.out.toDataURL('image/png');
}

/**
 * A canvas of `width` x `height` (device pixels) under a title band, filled with the theme's
 * background; null when the browser gives no 2-D context.
 */
function titledCanvas(
  width: number,
  height: number,
  scale: number,
  title: string,
  theme: Theme,
): { out: HTMLCanvasElement; ctx: CanvasRenderingContext2D; band: number } | null {
  const band = Math.round(PNG_TITLE_BAND * scale);
  const out = document.createElement('canvas');
  out.width = width;
  out.height = height + band;
  const ctx = out.getContext('2d');
  if (ctx === null) return null;
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = theme.foreground;
  ctx.font = `600 ${(theme.fontSize + 2) * scale}px ${theme.fontFamily}`;
  ctx.textBaseline = 'middle';
  ctx.fillText(title, 12 * scale, band / 2, out.width - 24 * scale);
  return { out, ctx, band };
}

/** A PNG of the small multiples as laid out in `grid`, under a title band (as chartPng). */
function panelsPng(grid: HTMLElement, title: string, theme: Theme): string {
  const canvases = [...grid.querySelectorAll('canvas')];
  const scale = canvases.length > 0 ? canvases[0].width / Math.max(1, canvases[0].clientWidth) : 1;
  const box = grid.getBoundingClientRect();
  const width = Math.round(box.width * scale);
  const titled = titledCanvas(width, Math.round(box.height * scale), scale, title, theme);
  if (titled === null) return document.createElement('canvas').toDataURL('image/png');
  const { out, ctx, band } = titled;
  // Each panel's name (HTML above its canvas), then the canvas, where the page lays them out.
  ctx.font = `${theme.fontSize * scale}px ${theme.fontFamily}`;
  ctx.textBaseline = 'top';
  for (const panel of grid.querySelectorAll<HTMLElement>('.ml-panel')) {
    const name = panel.querySelector('.ml-panel-name');
    const canvas = panel.querySelector('canvas');
    const r = panel.getBoundingClientRect();
    const at = (v: number, from: number) => Math.round((v - from) * scale);
    if (name !== null) {
      ctx.fillText(
        name.textContent ?? '',
        at(r.left, box.left),
        band + at(r.top, box.top),
        at(r.right, r.left),
      );
    }
    if (canvas !== null) {
      const c = canvas.getBoundingClientRect();
      ctx.drawImage(canvas, at(c.left, box.left), band + at(c.top, box.top));
    }
  }
  return out.toDataURL('image/png');
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const SPARK_WIDTH = 240;
const SPARK_HEIGHT = 36;

/** A sparkline as inline SVG (no canvas: it scales with the view and needs no chart). */
function sparkline(spark: { title: string; values: number[] }): HTMLElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'ml-spark-line');
  svg.setAttribute('role', 'img');
  const finite = spark.values.filter((v) => Number.isFinite(v));
  const range =
    finite.length > 0
      ? `${Math.min(...finite).toFixed(3)} to ${Math.max(...finite).toFixed(3)} nats`
      : 'no values';
  svg.setAttribute('aria-label', `${spark.title}: ${range}`);
  const line = document.createElementNS(SVG_NS, 'polyline');
  line.setAttribute('points', sparklinePoints(spark.values, SPARK_WIDTH, SPARK_HEIGHT));
  line.setAttribute('vector-effect', 'non-scaling-stroke');
  svg.append(line);
  const figure = el(
    'figure',
    'ml-spark',
    el('figcaption', 'ml-muted', `${spark.title} (${range})`),
  );
  figure.prepend(svg);
  figure.id = 'summary-spark';
  return figure;
}

export class ReportView {
  private charts: { destroy(): void }[] = [];
  private shown: { snapshot: ReportSnapshot | null; ui: ViewState['ui'] | null } = {
    snapshot: null,
    ui: null,
  };
  private readonly busyBar: HTMLElement;
  private readonly content: HTMLElement;
  private lastState: ViewState | null = null;
  private redrawPending = false;
  private renders = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: ViewHost,
  ) {
    this.busyBar = el('div', 'ml-busy');
    this.busyBar.hidden = true;
    this.content = el('div', 'ml-content');
    this.root.replaceChildren(this.busyBar, this.content);
  }

  /** Updates the page for `state`; charts are rebuilt only when the report or UI changed. */
  render(state: ViewState): void {
    this.lastState = state;
    this.renderBusy(state);
    const s = this.shown;
    if (s.snapshot === state.snapshot && s.ui === state.ui) return;
    this.shown = { snapshot: state.snapshot, ui: state.ui };
    this.renderContent(state);
  }

  /** Rebuilds the charts in the current theme colours at the next frame (after a theme change). */
  scheduleRedraw(): void {
    if (this.redrawPending || this.lastState === null) return;
    this.redrawPending = true;
    document.body.dataset.rendered = 'false';
    requestAnimationFrame(() => {
      this.redrawPending = false;
      if (this.lastState !== null) this.renderContent(this.lastState);
    });
  }

  /**
   * Marks the page drawn, for tests and drivers to wait on: data-rendered="true", and
   * data-renders counts the renders so far (a wait for the next one compares it).
   */
  private markRendered(): void {
    this.renders++;
    document.body.dataset.renders = String(this.renders);
    document.body.dataset.rendered = 'true';
  }

  private renderBusy(state: ViewState): void {
    const busy = state.busy;
    this.busyBar.hidden = busy === null;
    if (busy === null) {
      this.busyBar.replaceChildren();
      return;
    }
    const bar = el('progress', null);
    bar.max = 1;
    if (busy.fraction !== null) bar.value = busy.fraction;
    const pct = busy.fraction !== null ? ` ${Math.round(busy.fraction * 100)}%` : '';
    this.busyBar.replaceChildren(bar, el('span', null, `${busy.label}${pct}`));
  }

  private renderContent(state: ViewState): void {
    document.body.dataset.rendered = 'false';
    const scroll = window.scrollY;
    // Controls are rebuilt: keep the keyboard focus on the one the user was using.
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.id : '';
    for (const c of this.charts) c.destroy();
    this.charts = [];
    const parts: Node[] = [];
    if (state.snapshot === null) {
      parts.push(el('p', 'ml-empty', state.emptyMessage));
      this.content.replaceChildren(...parts);
      this.markRendered();
      return;
    }
    const snapshot = state.snapshot;
    if (state.mode === 'summary') {
      this.content.replaceChildren(this.summary(snapshot));
      if (focused !== '') document.getElementById(focused)?.focus();
      requestAnimationFrame(() => this.markRendered());
      return;
    }
    const theme = readTheme();
    const pending: (() => void)[] = [];
    const layer = state.ui.selectedLayer;
    const filter = state.ui.layerFilter;
    const shown = shownLayers(selectableLayers(snapshot), layer, filter);
    parts.push(this.header(snapshot), this.toolbar(snapshot, state.ui), this.notes(snapshot));
    if (snapshot.kind === 'analysis' && snapshot.report.warnings.length > 0) {
      parts.push(this.warnings(snapshot.report, shown));
    }
    const grid = el('div', 'ml-grid');
    const models = modelSeries(snapshot);
    const names = { stem: exportStem(snapshot), subject: reportSubject(snapshot) };

    const entropy = this.card(
      'entropy',
      'Entropy per neuron, by layer',
      names,
      theme,
      'Boxes span the quartiles; the notch is the 95% interval of the median (median ± 1.57 IQR/√n). ' +
        'Non-overlapping notches mean the medians differ. Lower H: low-variety neurons (heuristic memorization); higher H: idiosyncratic neurons (example-level).',
    );
    grid.append(entropy.card);
    // Many layers: the boxes take the whole width, above the small multiples.
    if (usesSmallMultiples(snapshot, layer)) entropy.card.classList.add('ml-card-wide');
    growForLegend(entropy.canvas, models.length);
    const boxData = entropyBoxData(models, snapshot.report.params.bins, layer, filter);
    if (boxData.subsampled && state.ui.showNeurons) {
      entropy.card
        .querySelector('figcaption')
        ?.append(
          ` Wide layers show every k-th neuron (at most ${MAX_POINTS_PER_BOX} a box) and all outliers.`,
        );
    }
    pending.push(() =>
      this.charts.push(createEntropyChart(entropy.canvas, boxData, theme, state.ui.showNeurons)),
    );

    if (snapshot.kind === 'analysis' && usesSmallMultiples(snapshot, layer)) {
      grid.append(this.miPanels(snapshot, filter, names, theme, pending));
    } else {
      const curves = miDensityCurves(snapshot, layer, filter);
      const mi = this.card(
        'mi',
        'Mutual information between neuron pairs',
        names,
        theme,
        'Gaussian-mixture density of the off-diagonal pair values (KSG, nats); dotted lines mark the medians. ' +
          'Mass moving to higher I: neurons become alike (heuristic memorization).',
      );
      grid.append(mi.card);
      growForLegend(mi.canvas, curves.length);
      pending.push(() => this.charts.push(createMiDensityChart(mi.canvas, curves, theme)));
    }

    if (snapshot.kind === 'compare') {
      const report = normalizeCompare(snapshot.report);
      const cmp = this.card(
        'compare',
        'Median H against median I, by signature',
        names,
        theme,
        report.reference.mode === 'none'
          ? 'Each model’s median H and median I. No reference, so no signatures and no quadrants.'
          : 'Each model against the reference (the dotted cross): heuristic = H lower and I higher; example-level = H higher and I lower.',
      );
      grid.append(cmp.card);
      const points = comparePoints(report);
      const reference = compareReference(report);
      pending.push(() =>
        this.charts.push(createCompareChart(cmp.canvas, points, reference, theme)),
      );
      const traj = trajectoryData(report);
      if (traj !== null) {
        const onsets = onsetSummary(report);
        const tr = this.card(
          'trajectory',
          'Trajectory over training',
          names,
          theme,
          'Median H and median I of each checkpoint by step: the onset of memorization shows as H falling while I rises.' +
            (onsets === ''
              ? ''
              : ` Vertical lines mark where a signature first appears: ${onsets}.`),
        );
        grid.append(tr.card);
        pending.push(() => this.charts.push(createTrajectoryChart(tr.canvas, traj, theme)));
      }
    }
    parts.push(grid);

    if (snapshot.kind === 'analysis') {
      parts.push(
        renderTable(
          'summary-table',
          analysisTable(snapshot, shown),
          this.host,
          'Per-layer summary',
        ),
      );
    } else {
      const report = normalizeCompare(snapshot.report);
      parts.push(
        renderTable(
          'summary-table',
          compareTable(report),
          this.host,
          'Signatures and their evidence',
        ),
      );
      parts.push(
        renderTable(
          'layer-table',
          compareLayerTable(report, state.ui.selectedLayer, filter),
          this.host,
          report.reference.path !== null
            ? 'Per-layer medians (nats); ≠: notch apart from the reference’s in that layer'
            : 'Per-layer medians (nats)',
        ),
      );
      const ranking = el('section', 'ml-ranking');
      const section = rankingSection(report, this.host.runCommand !== undefined);
      const tables = section.tables.map((t) => renderTable(t.id, t.table, this.host, t.caption));
      ranking.append(tables.length > 1 ? el('div', 'ml-orderings', ...tables) : tables[0]);
      for (const note of section.notes) ranking.append(el('p', 'ml-muted', note));
      if (report.correlation !== null) {
        const c = report.correlation;
        ranking.append(
          el(
            'p',
            'ml-muted',
            `Spearman correlation with ${c.metric}: median H ${c.entropySpearman.toFixed(2)}, median I ${c.miSpearman.toFixed(2)}.`,
          ),
        );
      }
      parts.push(ranking);
    }
    this.content.replaceChildren(...parts);
    // Charts size themselves from their attached containers, so draw after attaching.
    for (const draw of pending) draw();
    window.scrollTo(0, scroll);
    if (focused !== '') {
      const again = document.getElementById(focused);
      again?.focus();
      // The filter box is rebuilt on every keystroke: the caret goes back to the end.
      if (again instanceof HTMLInputElement && again.type === 'search') {
        again.setSelectionRange(again.value.length, again.value.length);
      }
    }
    requestAnimationFrame(() => this.markRendered());
  }

  private header(snapshot: ReportSnapshot): HTMLElement {
    if (snapshot.kind === 'analysis') {
      const r = snapshot.report;
      document.title = `MemLens: ${reportSubject(snapshot)}`;
      const h = el('header', 'ml-header', el('h1', null, `MemLens · ${reportSubject(snapshot)}`));
      const path = el('p', 'ml-path', r.model.path);
      path.title = `sha256 ${r.model.sha256}`;
      h.append(path, el('p', 'ml-muted', paramsLine(r)));
      return h;
    }
    const r = normalizeCompare(snapshot.report);
    const ok = r.models.filter((m) => m.error === undefined).length;
    document.title = `MemLens: ${reportSubject(snapshot)}`;
    const reference = el('p', 'ml-reference', referenceSummary(r));
    reference.id = 'compare-reference';
    if (r.reference.initialisation) reference.classList.add('ml-reference-caveat');
    return el(
      'header',
      'ml-header',
      el('h1', null, `MemLens · ${reportSubject(snapshot)}`),
      reference,
      el('p', 'ml-muted', `${ok} analysed · ${paramsLine(r)}`),
    );
  }

  private toolbar(snapshot: ReportSnapshot, ui: ViewState['ui']): HTMLElement {
    const select = el('select', null);
    select.id = 'layer-select';
    const all = el('option', null, 'All layers');
    all.value = '';
    select.append(all);
    const layerList = selectableLayers(snapshot);
    const short = shortNameMap(layerList);
    for (const name of layerList) {
      const o = el('option', null, short.get(name) ?? name);
      o.value = name;
      o.title = name;
      select.append(o);
    }
    select.value = ui.selectedLayer ?? '';
    select.addEventListener('change', () =>
      this.host.dispatch({
        type: 'ui/selectLayer',
        layer: select.value === '' ? null : select.value,
      }),
    );
    const neurons = el('input', null);
    neurons.type = 'checkbox';
    neurons.id = 'show-neurons';
    neurons.checked = ui.showNeurons;
    neurons.addEventListener('change', () =>
      this.host.dispatch({ type: 'ui/showNeurons', show: neurons.checked }),
    );
    const layerLabel = el('label', null, 'Layer ', select);
    const filter =
      layerList.length >= SMALL_MULTIPLES_FROM ? this.layerFilter(layerList, ui) : null;
    const neuronLabel = el('label', null, neurons, ' Show every neuron');
    const stem = exportStem(snapshot);
    const json = this.button('Export JSON', 'export-json', () =>
      this.host.exportFile({
        type: 'export/request',
        format: 'json',
        fileName: `${stem}.json`,
        content: `${JSON.stringify(snapshot.report, null, 2)}\n`,
      }),
    );
    const csv = this.button('Export CSV', 'export-csv', () =>
      this.host.exportFile({
        type: 'export/request',
        format: 'csv',
        fileName: `${stem}-layers.csv`,
        content: layerCsv(snapshot),
      }),
    );
    const html = this.host.exportsHtml === true ? this.htmlExportButton(snapshot) : null;
    return el(
      'div',
      'ml-toolbar',
      layerLabel,
      filter,
      neuronLabel,
      el('span', 'ml-spacer'),
      json,
      csv,
      html,
    );
  }

  /** Export HTML: the host writes the standalone report (what MemLens: Export Report writes). */
  private htmlExportButton(snapshot: ReportSnapshot, text = 'Export HTML'): HTMLButtonElement {
    const b = this.button(text, 'export-html', () =>
      this.host.exportFile({
        type: 'export/request',
        format: 'html',
        fileName: `${exportStem(snapshot)}.html`,
        report: snapshot.report,
      }),
    );
    b.title = 'Save the report as one self-contained HTML file';
    return b;
  }

  /** Buttons that run the commands giving a lone model a verdict (inside VS Code). */
  private verdictButtons(modelPath: string): HTMLElement | null {
    const run = this.host.runCommand;
    if (run === undefined) return null;
    const compare = this.button('Compare With…', 'run-compare-with', () =>
      run('memlens.compareWith', modelPath),
    );
    compare.title = 'Compare this model with a reference of its architecture';
    const baseline = this.button('Use as Baseline', 'run-use-as-baseline', () =>
      run('memlens.useAsBaseline', modelPath),
    );
    baseline.classList.add('ml-secondary');
    baseline.title = 'Read the signatures of other analyses against this model';
    return el('span', 'ml-actions', compare, baseline);
  }

  /** The side view's compact summary: signature, medians, a sparkline and buttons. */
  private summary(snapshot: ReportSnapshot): HTMLElement {
    const data = summaryData(snapshot);
    document.title = `MemLens: ${data.title}`;
    const section = el('section', 'ml-summary');
    section.id = 'summary';
    section.append(el('h1', 'ml-summary-title', data.title));
    if (data.signature !== null) {
      const sig = el('p', `ml-summary-signature tone-${data.signature.tone}`, data.signature.text);
      sig.id = 'summary-signature';
      section.append(sig);
    }
    section.append(el('p', 'ml-muted', data.note));
    section.append(this.summaryTable(data));
    if (data.spark !== null) section.append(sparkline(data.spark));
    const open = this.host.openReport;
    const run = this.host.runCommand;
    const actions = el('div', 'ml-summary-actions');
    if (open !== undefined) actions.append(this.button('Open Report', 'summary-open', open));
    if (run !== undefined) {
      const other =
        snapshot.kind === 'analysis'
          ? this.button('Compare With…', 'summary-compare-with', () =>
              run('memlens.compareWith', snapshot.report.model.path),
            )
          : this.button('Choose the Reference…', 'summary-choose-reference', () =>
              run('memlens.chooseReference'),
            );
      other.classList.add('ml-secondary');
      actions.append(other);
    }
    if (this.host.exportsHtml === true) {
      const exp = this.htmlExportButton(snapshot, 'Export');
      exp.id = 'summary-export';
      exp.classList.add('ml-secondary');
      actions.append(exp);
    }
    section.append(actions);
    return section;
  }

  private summaryTable(data: SummaryData): HTMLElement {
    const t = el('table', 'ml-table ml-compact');
    t.id = 'summary-medians';
    const head = el('tr', null);
    for (const [i, c] of [data.rowHeading, 'Median H', 'Median I'].entries()) {
      const th = el('th', i === 0 ? 'ml-text' : 'ml-num', c);
      th.scope = 'col';
      head.append(th);
    }
    t.append(el('thead', null, head));
    const body = el('tbody', null);
    for (const row of data.rows) {
      const name = el('td', 'ml-text', row.name);
      if (row.signature !== undefined) {
        const tone = row.signature.tone;
        name.append(
          el(
            'div',
            tone === undefined ? 'ml-muted' : `ml-summary-tone tone-${tone}`,
            row.signature.text,
          ),
        );
      }
      body.append(
        el('tr', null, name, el('td', 'ml-num', row.entropy), el('td', 'ml-num', row.mi)),
      );
    }
    t.append(body);
    return t;
  }

  private notes(snapshot: ReportSnapshot): HTMLElement {
    const list = el('ul', 'ml-notes');
    if (snapshot.kind === 'analysis') {
      const r = snapshot.report;
      // The report says itself whether it has a reference: a signature against the baseline
      // (flag added by the extension), or the lone-model note; otherwise say it here.
      const signature = baselineSignature(r);
      const noReference = r.flags.find((f) => f.code === 'no-reference');
      if (signature !== undefined) {
        list.append(
          el(
            'li',
            `ml-note-signature tone-${SIGNATURE_COLORS[signature.kind]}`,
            el('strong', null, 'Signature: '),
            `${signature.message} (thresholds: ${signature.threshold})`,
          ),
        );
      } else if (this.host.runCommand !== undefined) {
        // Inside VS Code the buttons run what the core's note would tell a CLI user to type.
        const note = el('li', 'ml-note-info ml-note-lone', LONE_MODEL_NOTE, ' ');
        note.id = 'lone-model-note';
        note.append(this.verdictButtons(r.model.path) ?? '');
        list.append(note);
      } else {
        list.append(el('li', 'ml-note-info', noReference?.message ?? LONE_MODEL_CLI_NOTE));
      }
      for (const f of r.flags) {
        if (f === noReference || f.code === BASELINE_SIGNATURE_FLAG) continue;
        list.append(
          el(
            'li',
            'ml-note-flag',
            el('strong', null, 'Flag: '),
            `${f.message} (threshold: ${f.threshold})`,
          ),
        );
      }
    } else {
      const r = normalizeCompare(snapshot.report);
      const t = r.thresholds;
      if (r.reference.mode !== 'none') {
        const scale = Number.isFinite(t.scaleRatio)
          ? `; where two models’ value ranges differ ×${t.scaleRatio} or more, an H change must hold under per-layer bins too`
          : '';
        list.append(
          el(
            'li',
            'ml-note-info',
            `Signature thresholds: ΔH median ${t.deltaEntropy} nats with notches apart, median I ratio ${t.miRatio}${scale}. Expand a signature for its evidence.`,
          ),
        );
      }
      // How many models are in each role and, read against the reference, of each signature.
      const counts = new Map<string, number>();
      const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
      for (const m of r.models) {
        const role = modelRole(r, m);
        if (role === 'read') count(SIGNATURE_LABELS[m.signature.kind]);
        else if (role === 'reference') count('reference');
        else if (role === 'not-comparable') count('not comparable');
        else if (role === 'unread') count('measured without a reference');
      }
      const summary = [...counts].map(([k, n]) => `${n} ${k}`);
      if (summary.length > 0)
        list.append(el('li', 'ml-note-info', `Models: ${summary.join(', ')}.`));
      for (const note of scaleNotes(r)) {
        list.append(el('li', 'ml-note-info', el('strong', null, 'Scale: '), note));
      }
      const labels = shortLabels(r.models.map((m) => m.path));
      r.models.forEach((m, i) => {
        if (m.error !== undefined) {
          list.append(
            el('li', 'ml-note-warning', el('strong', null, 'Failed: '), `${labels[i]}: ${m.error}`),
          );
        } else if (m.notComparable !== undefined) {
          list.append(
            el(
              'li',
              'ml-note-warning',
              el('strong', null, 'Not comparable: '),
              `${labels[i]}: ${m.notComparable}`,
            ),
          );
        }
      });
    }
    return list;
  }

  /** The layer filter of a report with many layers: words the shown layers' names contain. */
  private layerFilter(layers: readonly string[], ui: ViewState['ui']): HTMLElement {
    const input = el('input', null);
    input.type = 'search';
    input.id = 'layer-filter';
    input.placeholder = 'Filter layers';
    input.value = ui.layerFilter ?? '';
    input.setAttribute('aria-label', 'Filter layers by name');
    input.title = 'Show only the layers whose names contain these words';
    input.addEventListener('input', () =>
      this.host.dispatch({ type: 'ui/filterLayers', filter: input.value }),
    );
    const count = shownLayers(layers, ui.selectedLayer, ui.layerFilter).length;
    const status = el('span', 'ml-muted', `${count} of ${layers.length} layers`);
    status.id = 'layer-filter-count';
    status.setAttribute('aria-live', 'polite');
    return el('span', 'ml-filter', input, status);
  }

  /**
   * The report's warnings in one table (warning, layers, count), one row per kind, in a
   * disclosure that starts closed beyond WARNINGS_OPEN_UP_TO warnings; only the shown layers’.
   */
  private warnings(report: AnalysisReport, shown: readonly string[]): HTMLElement {
    const short = shortNameMap(report.layers.map((l) => l.name));
    const table = warningTable(report.warnings, short, shown);
    const total = table.rows.reduce((n, r) => n + Number(r.cells[2]), 0);
    const details = el(
      'details',
      'ml-warnings',
      el(
        'summary',
        null,
        el('strong', null, 'Warnings'),
        ` (${total}${table.rows.length > 1 ? ` of ${table.rows.length} kinds` : ''})`,
      ),
      renderTable('warning-table', table, this.host, 'Warnings by kind'),
    );
    details.id = 'warnings';
    details.open = total <= WARNINGS_OPEN_UP_TO;
    return details;
  }

  /**
   * The MI densities of a report with many layers, one small chart per layer (after one of all
   * the model's pairs) on a shared x axis: a legend of one entry per layer would fill the chart.
   */
  private miPanels(
    snapshot: Extract<ReportSnapshot, { kind: 'analysis' }>,
    filter: string | undefined,
    names: { stem: string; subject: string },
    theme: Theme,
    pending: (() => void)[],
  ): HTMLElement {
    const title = 'Mutual information between neuron pairs, by layer';
    const data = miSmallMultiples(snapshot, filter);
    const panels = el('div', 'ml-panels');
    panels.id = 'mi-panels';
    for (const p of data.panels) {
      const canvas = el('canvas', 'ml-canvas');
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `MI density of ${p.title}`);
      const name = el('div', 'ml-panel-name', p.label);
      name.title = p.title;
      const panel = el('div', 'ml-panel', name, el('div', 'ml-panel-chart', canvas));
      panel.dataset.layer = p.layer ?? '';
      panels.append(panel);
      pending.push(() =>
        this.charts.push(createMiDensityChart(canvas, p.curves, theme, { x: data.x })),
      );
    }
    const png = this.button('PNG', 'export-mi-png', () =>
      this.host.exportFile({
        type: 'export/request',
        format: 'png',
        chart: 'mi',
        fileName: `${names.stem}-mi.png`,
        dataUrl: panelsPng(panels, `${title} · ${names.subject}`, theme),
      }),
    );
    png.classList.add('ml-secondary');
    png.title = 'Save these charts as one PNG';
    const card = el(
      'figure',
      'ml-card ml-card-wide',
      el('div', 'ml-card-head', el('h2', null, title), png),
      panels,
      el(
        'figcaption',
        'ml-muted',
        'Gaussian-mixture density of the off-diagonal pair values (KSG, nats) of each layer, all on one I axis; the dotted line marks each median' +
          (snapshot.reference !== undefined ? ', the dashed grey curve the baseline’s' : '') +
          '. Mass moving to higher I: neurons become alike (heuristic memorization).',
      ),
    );
    card.id = 'mi-card';
    return card;
  }

  private button(text: string, id: string, onClick: () => void): HTMLButtonElement {
    const b = el('button', 'ml-button', text);
    b.type = 'button';
    b.id = id;
    b.addEventListener('click', onClick);
    return b;
  }

  private card(
    chart: ChartId,
    title: string,
    names: { stem: string; subject: string },
    theme: Theme,
    caption: string,
  ): { card: HTMLElement; canvas: HTMLCanvasElement } {
    const canvas = el('canvas', 'ml-canvas');
    canvas.id = `${chart}-chart`;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', title);
    const png = this.button('PNG', `export-${chart}-png`, () =>
      this.host.exportFile({
        type: 'export/request',
        format: 'png',
        chart,
        fileName: `${names.stem}-${chart}.png`,
        dataUrl: chartPng(canvas, `${title} · ${names.subject}`, theme),
      }),
    );
    png.classList.add('ml-secondary');
    png.title = `Save this chart as PNG`;
    const card = el(
      'figure',
      'ml-card',
      el('div', 'ml-card-head', el('h2', null, title), png),
      el('div', 'ml-chart', canvas),
      el('figcaption', 'ml-muted', caption),
    );
    card.id = `${chart}-card`;
    return { card, canvas };
  }
}
