/**
 * The comparison chart: each model's median H (x) against its median I (y), coloured by its
 * signature, labelled with its name, with the reference the signatures are read against marked
 * (the reference model's point, or the cohort median, as the core reports it). Without a
 * reference the points are neutral and there are no quadrants; models that are not comparable
 * with the reference's group are drawn hollow.
 * Lower-right is where shortcut learning is least suspected (higher H, lower I).
 */
import type { ChartDataset, Plugin } from 'chart.js';
import type { ComparePoint } from '../chartData';
import type { PixelBox } from '../chartData';
import {
  SIGNATURE_COLORS,
  SIGNATURE_LABELS,
  boxesOverlap,
  formatNumber,
  placeLabels,
} from '../chartData';
import type { SignatureKind } from '../../src/shared/protocol';
import type { Theme } from '../theme';
import { withAlpha } from '../theme';
import { Chart, baseOptions, linearAxis, themeFont } from './common';

type LabelledPoint = { x: number; y: number; label: string };

const KINDS: SignatureKind[] = ['heuristic', 'example-level', 'none'];

/**
 * Through the reference, dotted cross-hairs; each model's point labelled with its name where
 * it overlaps no other label or marker (placeLabels: beside, above or below the point; a label
 * with no such place is left out and its tooltip names it); and the two signature quadrants
 * named in their corners where that does not hide a label.
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
      ctx.restore();
    },
    afterDatasetsDraw(chart) {
      const { ctx, chartArea: area } = chart;
      ctx.save();
      const font = themeFont(theme, -1);
      const height = font.size ?? 12;
      ctx.textBaseline = 'top';
      ctx.textAlign = 'left';
      ctx.fillStyle = theme.foreground;
      ctx.font = `${height}px ${font.family}`;
      // Every shown point, labelled or not (a bare cohort cross), so labels keep off markers.
      const shown = chart.data.datasets.flatMap((ds, i) => {
        if (!chart.isDatasetVisible(i)) return [];
        const meta = chart.getDatasetMeta(i);
        const radius = typeof ds.pointRadius === 'number' ? ds.pointRadius : 6;
        return (ds.data as LabelledPoint[]).flatMap((d, j) => {
          const point = meta.data[j];
          if (point === undefined) return [];
          const width = d.label === '' ? 0 : ctx.measureText(d.label).width;
          return [{ text: d.label, x: point.x, y: point.y, radius, width, height }];
        });
      });
      const boxes = placeLabels(shown, area);
      // What the quadrant names must not cover: the labels drawn and the markers.
      const drawn: PixelBox[] = [];
      boxes.forEach((box, i) => {
        if (box === null || shown[i].text === '') return;
        drawn.push(box);
        ctx.fillText(shown[i].text, box.left, box.top);
      });
      for (const p of shown) {
        const r = p.radius;
        drawn.push({ left: p.x - r, top: p.y - r, right: p.x + r, bottom: p.y + r });
      }
      const free = (box: PixelBox) => !drawn.some((d) => boxesOverlap(box, d));
      if (reference !== null) {
        const small = themeFont(theme, -2);
        const h = small.size ?? 11;
        ctx.font = `italic ${h}px ${small.family}`;
        const corner = (text: string, kind: SignatureKind, atLeft: boolean) => {
          const width = ctx.measureText(text).width;
          const r = atLeft
            ? {
                left: area.left + 6,
                right: area.left + 6 + width,
                top: area.top + 4,
                bottom: area.top + 4 + h,
              }
            : {
                left: area.right - 6 - width,
                right: area.right - 6,
                top: area.bottom - 4 - h,
                bottom: area.bottom - 4,
              };
          if (!free(r)) return;
          ctx.fillStyle = withAlpha(theme.colors[SIGNATURE_COLORS[kind]], 0.9);
          ctx.fillText(text, r.left, r.top);
        };
        corner('heuristic: H lower, I higher', 'heuristic', true);
        corner('example-level: H higher, I lower', 'example-level', false);
      }
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
  const data = (role: ComparePoint['role'], kind?: SignatureKind): LabelledPoint[] =>
    points
      .filter((p) => p.role === role && (kind === undefined || p.signature === kind))
      .map((p) => ({ x: p.x, y: p.y, label: p.label }));
  const datasets: ChartDataset<'scatter', LabelledPoint[]>[] = KINDS.map((kind) => {
    const color = theme.colors[SIGNATURE_COLORS[kind]];
    return {
      label: SIGNATURE_LABELS[kind],
      data: data('read', kind),
      backgroundColor: withAlpha(color, 0.85),
      borderColor: color,
      pointRadius: 6,
      pointHoverRadius: 8,
      pointStyle: 'circle' as const,
    };
  });
  // Without a reference: neutral points, in the theme's text colour.
  datasets.push({
    label: 'no reference (no signature)',
    data: data('unread'),
    backgroundColor: withAlpha(theme.foreground, 0.55),
    borderColor: theme.foreground,
    pointRadius: 6,
    pointHoverRadius: 8,
    pointStyle: 'circle',
  });
  // Not comparable with the reference's group: hollow, muted.
  datasets.push({
    label: 'not comparable',
    data: data('not-comparable'),
    backgroundColor: 'transparent',
    borderColor: theme.muted,
    borderWidth: 2,
    pointRadius: 6,
    pointHoverRadius: 8,
    pointStyle: 'circle',
  });
  // The reference: its model's point (named), else the cohort median (a bare cross).
  const referencePoints = data('reference');
  if (referencePoints.length > 0 || reference !== null) {
    datasets.push({
      label: reference?.label ?? 'reference',
      data:
        referencePoints.length > 0
          ? referencePoints
          : [{ x: reference?.x ?? NaN, y: reference?.y ?? NaN, label: '' }],
      backgroundColor: 'transparent',
      borderColor: theme.foreground,
      borderWidth: 2,
      pointRadius: 9,
      pointHoverRadius: 10,
      pointStyle: 'crossRot',
    });
  }
  const shown = datasets.filter((d) => d.data.length > 0);
  const base = baseOptions(theme, true);
  return new Chart<'scatter', LabelledPoint[]>(canvas, {
    type: 'scatter',
    data: { datasets: shown },
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
