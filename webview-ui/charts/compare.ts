/**
 * The comparison chart: each model's median H (x) against its median I (y), coloured by its
 * signature, labelled with its name, with the reference (baseline or cohort median) marked.
 * Lower-right is where shortcut learning is least suspected (higher H, lower I).
 */
import type { Plugin } from 'chart.js';
import type { ComparePoint } from '../chartData';
import { SIGNATURE_COLORS, SIGNATURE_LABELS, formatNumber } from '../chartData';
import type { SignatureKind } from '../../src/shared/protocol';
import type { Theme } from '../theme';
import { withAlpha } from '../theme';
import { Chart, baseOptions, linearAxis, themeFont } from './common';

type LabelledPoint = { x: number; y: number; label: string };

const KINDS: SignatureKind[] = ['heuristic', 'example-level', 'none'];

/**
 * Labels each model's point with its name (left or right of it, whichever fits) and, through
 * the reference, draws dotted cross-hairs with the two signature quadrants named.
 */
function annotationPlugin(
  theme: Theme,
  reference: { x: number; y: number } | null,
): Plugin<'scatter'> {
  return {
    id: 'memlensCompareAnnotations',
    beforeDatasetsDraw(chart) {
      if (reference === null) return;
      const { ctx, chartArea: area } = chart;
      const px = chart.scales.x.getPixelForValue(reference.x);
      const py = chart.scales.y.getPixelForValue(reference.y);
      ctx.save();
      ctx.strokeStyle = theme.muted;
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
      ctx.moveTo(area.left, py);
      ctx.lineTo(area.right, py);
      ctx.stroke();
      const font = themeFont(theme, -2);
      ctx.font = `italic ${font.size}px ${font.family}`;
      ctx.fillStyle = withAlpha(theme.colors[SIGNATURE_COLORS.heuristic], 0.9);
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      ctx.fillText('heuristic: H lower, I higher', area.left + 6, area.top + 4);
      ctx.fillStyle = withAlpha(theme.colors[SIGNATURE_COLORS['example-level']], 0.9);
      ctx.textAlign = 'right';
      ctx.textBaseline = 'bottom';
      ctx.fillText('example-level: H higher, I lower', area.right - 6, area.bottom - 4);
      ctx.restore();
    },
    afterDatasetsDraw(chart) {
      const { ctx, chartArea: area } = chart;
      ctx.save();
      ctx.fillStyle = theme.foreground;
      const font = themeFont(theme, -1);
      const height = font.size ?? 12;
      ctx.font = `${height}px ${font.family}`;
      ctx.textBaseline = 'bottom';
      // Right of the point, else left of it; a label that would overlap one already drawn is
      // left out (the tooltip still names the point).
      const drawn: { left: number; right: number; top: number; bottom: number }[] = [];
      const free = (r: (typeof drawn)[number]) =>
        r.left >= area.left &&
        r.right <= area.right &&
        drawn.every(
          (d) => r.right < d.left || r.left > d.right || r.bottom < d.top || r.top > d.bottom,
        );
      chart.data.datasets.forEach((ds, i) => {
        if (!chart.isDatasetVisible(i)) return;
        const meta = chart.getDatasetMeta(i);
        (ds.data as LabelledPoint[]).forEach((d, j) => {
          const point = meta.data[j];
          if (point === undefined || d.label === '') return;
          const width = ctx.measureText(d.label).width;
          const top = point.y - 5 - height;
          const bottom = point.y - 5;
          const right = { left: point.x + 8, right: point.x + 8 + width, top, bottom };
          const left = { left: point.x - 8 - width, right: point.x - 8, top, bottom };
          const place = free(right) ? right : free(left) ? left : null;
          if (place === null) return;
          drawn.push(place);
          ctx.textAlign = 'left';
          ctx.fillText(d.label, place.left, bottom);
        });
      });
      ctx.restore();
    },
  };
}

/** Draws the compare chart on `canvas` (canvas#compare-chart). */
export function createCompareChart(
  canvas: HTMLCanvasElement,
  points: readonly ComparePoint[],
  reference: { label: string; x: number; y: number } | null,
  theme: Theme,
): Chart<'scatter', LabelledPoint[]> {
  const datasets = KINDS.filter((k) => points.some((p) => p.signature === k)).map((kind) => {
    const color = theme.colors[SIGNATURE_COLORS[kind]];
    return {
      label: SIGNATURE_LABELS[kind],
      data: points
        .filter((p) => p.signature === kind)
        .map((p) => ({ x: p.x, y: p.y, label: p.label })),
      backgroundColor: withAlpha(color, 0.85),
      borderColor: color,
      pointRadius: 6,
      pointHoverRadius: 8,
      pointStyle: 'circle' as const,
    };
  });
  if (reference !== null) {
    datasets.push({
      label: reference.label,
      data: [{ x: reference.x, y: reference.y, label: '' }],
      backgroundColor: 'transparent',
      borderColor: theme.foreground,
      pointRadius: 9,
      pointHoverRadius: 10,
      pointStyle: 'crossRot' as 'circle',
    });
  }
  const base = baseOptions(theme, true);
  return new Chart<'scatter', LabelledPoint[]>(canvas, {
    type: 'scatter',
    data: { datasets },
    options: {
      ...base,
      layout: { padding: { right: 16, top: 8 } },
      plugins: {
        ...base.plugins,
        tooltip: {
          ...base.plugins?.tooltip,
          callbacks: {
            label: (item) => {
              const d = item.raw as LabelledPoint;
              const name = d.label === '' ? (item.dataset.label ?? '') : d.label;
              return `${name}: median H ${formatNumber(d.x)} nats, median I ${formatNumber(d.y, 3)} nats`;
            },
          },
        },
      },
      scales: {
        x: { ...linearAxis(theme, 'Median entropy H (nats)'), grace: '10%' },
        y: { ...linearAxis(theme, 'Median mutual information I (nats)'), grace: '10%' },
      },
    },
    plugins: [annotationPlugin(theme, reference)],
  });
}
