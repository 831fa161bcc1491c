/**
 * Per-layer notched entropy box plots. chart.js has no box plot, so a plugin draws each box
 * (q1..q3 with a notch indent of median +/- 1.57 IQR / sqrt(n), the median line and the
 * whiskers) under a scatter of the per-neuron entropies. Several models sit side by side in
 * each layer slot so overlapping notches are visible; the reference's boxes are hatched in the
 * theme's muted text colour (readable in every theme, and apart from the series colours).
 */
import type { Plugin, ScriptableContext, TooltipItem } from 'chart.js';
import type { BoxGlyph, EntropyBoxData, NeuronPoint } from '../chartData';
import { entropyAxisRange, entropyPoints, formatNumber, notchedBoxOutline } from '../chartData';
import type { Theme } from '../theme';
import { withAlpha } from '../theme';
import { Chart, baseOptions, fittedAxis, linearAxis } from './common';

/** A point of the chart's data: a neuron, or the invisible hover target at a box's median. */
type EntropyDatum =
  (NeuronPoint & { glyph?: undefined }) | { x: number; y: number; glyph: BoxGlyph };

/** A diagonal hatch in `color`, for the reference's boxes (colour alone does not tell them). */
function hatch(ctx: CanvasRenderingContext2D, color: string): CanvasPattern | string {
  const tile = document.createElement('canvas');
  tile.width = 8;
  tile.height = 8;
  const t = tile.getContext('2d');
  if (t === null) return withAlpha(color, 0.2);
  t.strokeStyle = withAlpha(color, 0.55);
  t.lineWidth = 1.5;
  t.beginPath();
  // Two strokes so the lines run on across tile edges.
  t.moveTo(0, 8);
  t.lineTo(8, 0);
  t.moveTo(-2, 2);
  t.lineTo(2, -2);
  t.moveTo(6, 10);
  t.lineTo(10, 6);
  t.stroke();
  return ctx.createPattern(tile, 'repeat') ?? withAlpha(color, 0.2);
}

/** A series' colour: its palette colour, or the muted one for the reference. */
function seriesColour(theme: Theme, s: { color: BoxGlyph['color']; reference: boolean }): string {
  return s.reference ? theme.muted : theme.colors[s.color];
}

function boxPlugin(data: EntropyBoxData, theme: Theme): Plugin<'scatter'> {
  return {
    id: 'memlensNotchedBoxes',
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea } = chart;
      const x = chart.scales.x;
      const y = chart.scales.y;
      ctx.save();
      ctx.beginPath();
      ctx.rect(chartArea.left, chartArea.top, chartArea.width, chartArea.height);
      ctx.clip();
      for (const g of data.boxes) {
        if (!chart.isDatasetVisible(g.modelIndex)) continue;
        const color = seriesColour(theme, g);
        const px = (v: number) => x.getPixelForValue(v);
        const py = (v: number) => y.getPixelForValue(v);
        const cx = px(g.center);
        const capHalf = (px(g.center + g.halfWidth) - cx) * 0.5;
        // Whiskers with caps.
        ctx.strokeStyle = color;
        ctx.lineWidth = 1.25;
        ctx.beginPath();
        for (const [from, to] of [
          [g.box.q1, g.box.whiskerLow],
          [g.box.q3, g.box.whiskerHigh],
        ]) {
          ctx.moveTo(cx, py(from));
          ctx.lineTo(cx, py(to));
          ctx.moveTo(cx - capHalf, py(to));
          ctx.lineTo(cx + capHalf, py(to));
        }
        ctx.stroke();
        // The notched box.
        const outline = notchedBoxOutline(g.center, g.halfWidth, g.box);
        ctx.beginPath();
        outline.forEach(([vx, vy], i) =>
          i === 0 ? ctx.moveTo(px(vx), py(vy)) : ctx.lineTo(px(vx), py(vy)),
        );
        ctx.closePath();
        ctx.fillStyle = g.reference ? hatch(ctx, color) : withAlpha(color, 0.2);
        ctx.fill();
        ctx.lineWidth = 1.5;
        if (g.reference) ctx.setLineDash([4, 2]);
        ctx.stroke();
        ctx.setLineDash([]);
        // A notch reaching past the box (few neurons) is clamped to it above; mark its true
        // ends with dotted ticks so overlaps between models stay readable.
        const ticks = [
          g.box.notchLow < g.box.q1 ? g.box.notchLow : null,
          g.box.notchHigh > g.box.q3 ? g.box.notchHigh : null,
        ];
        ctx.save();
        ctx.setLineDash([2, 2]);
        ctx.lineWidth = 1.25;
        ctx.beginPath();
        for (const v of ticks) {
          if (v === null) continue;
          ctx.moveTo(cx - capHalf, py(v));
          ctx.lineTo(cx + capHalf, py(v));
        }
        ctx.stroke();
        ctx.restore();
        // The median, across the narrowest part of the notch.
        const [insetLeft] = outline[8];
        const [insetRight] = outline[3];
        ctx.lineWidth = 3;
        ctx.strokeStyle = theme.foreground;
        ctx.beginPath();
        ctx.moveTo(px(insetLeft), py(g.box.median));
        ctx.lineTo(px(insetRight), py(g.box.median));
        ctx.stroke();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = color;
        ctx.stroke();
      }
      ctx.restore();
    },
  };
}

function isGlyphItem(item: TooltipItem<'scatter'>): boolean {
  return (item.raw as EntropyDatum).glyph !== undefined;
}

function tooltipLines(item: TooltipItem<'scatter'>, data: EntropyBoxData): string[] {
  const d = item.raw as EntropyDatum;
  const model = data.models[item.datasetIndex]?.label ?? '';
  if (d.glyph !== undefined) {
    const b = d.glyph.box;
    return [
      `${model} · ${d.glyph.layer} (n = ${b.n})`,
      `median H ${formatNumber(b.median)} nats, notch ${formatNumber(b.notchLow)} – ${formatNumber(b.notchHigh)}`,
      `quartiles ${formatNumber(b.q1)} – ${formatNumber(b.q3)}, whiskers ${formatNumber(b.whiskerLow)} – ${formatNumber(b.whiskerHigh)}`,
    ];
  }
  return [`${model} · ${d.layer} · neuron ${d.neuron}: H = ${formatNumber(d.y, 3)} nats`];
}

/** Draws the entropy chart on `canvas` (canvas#entropy-chart). */
export function createEntropyChart(
  canvas: HTMLCanvasElement,
  data: EntropyBoxData,
  theme: Theme,
  showNeurons: boolean,
): Chart<'scatter', EntropyDatum[]> {
  const points = entropyPoints(data, showNeurons);
  const datasets = data.models.map((m, modelIndex) => {
    const markers: EntropyDatum[] = data.boxes
      .filter((g) => g.modelIndex === modelIndex)
      .map((g) => ({ x: g.center, y: g.box.median, glyph: g }));
    const color = seriesColour(theme, m);
    return {
      label: m.label,
      data: [...points[modelIndex], ...markers] as EntropyDatum[],
      backgroundColor: withAlpha(color, showNeurons ? 0.45 : 0.8),
      borderColor: color,
      pointRadius: (ctx: ScriptableContext<'line'>) =>
        (ctx.raw as EntropyDatum | undefined)?.glyph !== undefined ? 0 : showNeurons ? 1.8 : 2.5,
      pointHoverRadius: (ctx: ScriptableContext<'line'>) =>
        (ctx.raw as EntropyDatum | undefined)?.glyph !== undefined ? 0 : 4,
      pointHitRadius: (ctx: ScriptableContext<'line'>) => {
        const d = ctx.raw as EntropyDatum | undefined;
        if (d?.glyph === undefined) return 2;
        const xs = ctx.chart.scales.x;
        return Math.abs(xs.getPixelForValue(d.glyph.halfWidth) - xs.getPixelForValue(0));
      },
      pointStyle: m.marker,
      pointBorderWidth: 0,
    };
  });
  const base = baseOptions(theme, data.models.length > 1);
  const xAxis = linearAxis(theme, 'Layer');
  return new Chart<'scatter', EntropyDatum[]>(canvas, {
    type: 'scatter',
    data: { datasets },
    options: {
      ...base,
      plugins: {
        ...base.plugins,
        legend: {
          ...base.plugins.legend,
          labels: {
            ...base.plugins.legend.labels,
            // Solid legend swatches although the neuron points are translucent.
            generateLabels: (chart) =>
              Chart.defaults.plugins.legend.labels
                .generateLabels(chart)
                .map((item) => ({ ...item, fillStyle: item.strokeStyle })),
          },
        },
        tooltip: {
          ...base.plugins?.tooltip,
          // Near a median, the box summary alone; elsewhere the neurons under the pointer.
          filter: (item, _index, items) => !items.some(isGlyphItem) || isGlyphItem(item),
          callbacks: { label: (item) => tooltipLines(item, data) },
        },
      },
      scales: {
        x: {
          ...xAxis,
          min: -0.5,
          max: data.layers.length - 0.5,
          grid: { display: false },
          afterBuildTicks: (axis) => {
            axis.ticks = data.layers.map((_, i) => ({ value: i }));
          },
          ticks: {
            ...xAxis.ticks,
            color: theme.foreground,
            // Short names (long graph-model names would take the chart); tooltips give the full ones.
            callback: (value) => data.labels[Number(value)] ?? '',
          },
        },
        y: fittedAxis(linearAxis(theme, 'Entropy H per neuron (nats)'), entropyAxisRange(data)),
      },
    },
    plugins: [boxPlugin(data, theme)],
  });
}
