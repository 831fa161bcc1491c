/**
 * MI density curves: the Gaussian-mixture density of the off-diagonal pair values ("density
 * of neuron pairs") against MI in nats, one curve per layer or per model, with each curve's
 * median marked by a dotted vertical line. The reference's curve is dashed in the theme's
 * muted text colour.
 */
import type { Plugin } from 'chart.js';
import type { AxisRange, DensityCurve } from '../chartData';
import { formatNumber, miAxisMin } from '../chartData';
import type { Theme } from '../theme';
import { withAlpha } from '../theme';
import { Chart, baseOptions, linearAxis } from './common';

/** A curve's colour: its palette colour, or the muted one for the reference. */
function curveColour(theme: Theme, c: DensityCurve): string {
  return c.reference ? theme.muted : theme.colors[c.color];
}

/** The dash of a curve: the reference's short, a whole-model or repeated colour's long. */
function curveDash(c: DensityCurve): number[] | undefined {
  if (c.reference) return [3, 3];
  return c.dashed ? [6, 4] : undefined;
}

function medianPlugin(curves: readonly DensityCurve[], theme: Theme): Plugin<'line'> {
  return {
    id: 'memlensMedianMarkers',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea } = chart;
      const x = chart.scales.x;
      ctx.save();
      ctx.setLineDash([3, 3]);
      ctx.lineWidth = 1.25;
      curves.forEach((c, i) => {
        if (!chart.isDatasetVisible(i) || !Number.isFinite(c.median)) return;
        const px = x.getPixelForValue(c.median);
        if (px < chartArea.left || px > chartArea.right) return;
        ctx.strokeStyle = withAlpha(curveColour(theme, c), 0.9);
        ctx.beginPath();
        ctx.moveTo(px, chartArea.top);
        ctx.lineTo(px, chartArea.bottom);
        ctx.stroke();
      });
      ctx.restore();
    },
  };
}

/**
 * Draws the MI density chart on `canvas` (canvas#mi-chart), or one small multiple (`panel`:
 * no legend and no axis titles, the x axis shared with the other panels).
 */
export function createMiDensityChart(
  canvas: HTMLCanvasElement,
  curves: readonly DensityCurve[],
  theme: Theme,
  panel?: { x: AxisRange | null },
): Chart<'line', { x: number; y: number }[]> {
  const base = baseOptions(theme, panel === undefined);
  const single = curves.length === 1;
  const xAxis = linearAxis(theme, 'Mutual information I between neuron pairs (nats)');
  const yAxis = linearAxis(theme, 'Density of neuron pairs');
  if (panel !== undefined) {
    xAxis.title.display = false;
    yAxis.title.display = false;
  }
  return new Chart<'line', { x: number; y: number }[]>(canvas, {
    type: 'line',
    data: {
      datasets: curves.map((c) => ({
        label: `${c.label} (median ${formatNumber(c.median, 3)})`,
        data: c.points,
        borderColor: curveColour(theme, c),
        backgroundColor: withAlpha(curveColour(theme, c), single ? 0.15 : 0.5),
        fill: single ? 'origin' : false,
        borderWidth: c.dashed ? 2.5 : 2,
        borderDash: curveDash(c),
        pointRadius: 0,
        pointHitRadius: 4,
        tension: 0,
      })),
    },
    options: {
      ...base,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      plugins: {
        ...base.plugins,
        legend: {
          ...base.plugins.legend,
          // Plain legend boxes of height 0: a short line, dashed like its curve.
          labels: {
            ...base.plugins.legend.labels,
            usePointStyle: false,
            boxWidth: 26,
            boxHeight: 0,
          },
        },
        tooltip: {
          ...base.plugins?.tooltip,
          callbacks: {
            title: (items) =>
              items.length > 0 ? `I = ${formatNumber(items[0].parsed.x, 3)} nats` : '',
            label: (item) => {
              const c = curves[item.datasetIndex];
              return `${c.title ?? c.label}: density ${formatNumber(item.parsed.y, 3)}`;
            },
          },
        },
      },
      scales: {
        x:
          panel === undefined
            ? {
                ...xAxis,
                // From where the pairs' values start (chart.js would start at the grid's padded end).
                min: miAxisMin(curves) ?? undefined,
              }
            : {
                ...xAxis,
                min: panel.x?.min,
                max: panel.x?.max,
                ticks: { ...xAxis.ticks, maxTicksLimit: 5 },
              },
        y: {
          ...yAxis,
          min: 0,
          ...(panel === undefined ? {} : { ticks: { ...yAxis.ticks, maxTicksLimit: 3 } }),
        },
      },
    },
    plugins: [medianPlugin(curves, theme)],
  });
}
