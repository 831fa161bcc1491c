/**
 * The checkpoint trajectory: median H (left axis) and median I (right axis) over training
 * steps, with a dashed vertical line where each signature first appears ("heuristic from step
 * 200"), in the signature's colour.
 */
import type { Plugin } from 'chart.js';
import type { OnsetMark, TrajectoryData } from '../chartData';
import { formatNumber, trajectoryAxes } from '../chartData';
import type { Theme } from '../theme';
import { withAlpha } from '../theme';
import { Chart, baseOptions, fittedAxis, linearAxis, themeFont } from './common';

/**
 * A dashed vertical line at each onset step, labelled at the top of the plot area (right of
 * the line, else left of it when it would leave the plot); later labels step down a row so
 * that two onsets close together stay readable.
 */
function onsetPlugin(theme: Theme, onsets: readonly OnsetMark[]): Plugin<'line'> {
  return {
    id: 'memlensTrajectoryOnsets',
    afterDatasetsDraw(chart) {
      if (onsets.length === 0) return;
      const { ctx, chartArea: area } = chart;
      const font = themeFont(theme, -1);
      const height = font.size ?? 12;
      ctx.save();
      ctx.font = `${height}px ${font.family}`;
      ctx.textBaseline = 'top';
      onsets.forEach((o, i) => {
        const x = chart.scales.x.getPixelForValue(o.step);
        if (!Number.isFinite(x) || x < area.left - 0.5 || x > area.right + 0.5) return;
        const color = theme.colors[o.color];
        ctx.strokeStyle = color;
        ctx.lineWidth = 1.5;
        ctx.setLineDash([5, 4]);
        ctx.beginPath();
        ctx.moveTo(x, area.top);
        ctx.lineTo(x, area.bottom);
        ctx.stroke();
        const width = ctx.measureText(o.label).width;
        const right = x + 4 + width <= area.right;
        const y = area.top + 2 + i * (height + 3);
        // A backing in the theme background keeps the label readable over the lines.
        ctx.fillStyle = withAlpha(theme.background, 0.85);
        ctx.fillRect(right ? x + 2 : x - 6 - width, y - 1, width + 4, height + 2);
        ctx.fillStyle = color;
        ctx.textAlign = right ? 'left' : 'right';
        ctx.fillText(o.label, right ? x + 4 : x - 4, y);
      });
      ctx.restore();
    },
  };
}

/** Draws the trajectory chart on `canvas` (canvas#trajectory-chart). */
export function createTrajectoryChart(
  canvas: HTMLCanvasElement,
  data: TrajectoryData,
  theme: Theme,
): Chart<'line', { x: number; y: number }[]> {
  const hColor = theme.colors.blue;
  const iColor = theme.colors.orange;
  const base = baseOptions(theme, true);
  const axes = trajectoryAxes(data);
  const yLeft = fittedAxis(linearAxis(theme, 'Median H (nats)'), axes.entropy);
  const yRight = fittedAxis(linearAxis(theme, 'Median I (nats)'), axes.mi);
  return new Chart<'line', { x: number; y: number }[]>(canvas, {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'median entropy H',
          data: data.entropy,
          yAxisID: 'y',
          borderColor: hColor,
          backgroundColor: withAlpha(hColor, 0.8),
          pointRadius: 3.5,
          borderWidth: 2,
        },
        {
          label: 'median mutual information I',
          data: data.mi,
          yAxisID: 'y1',
          borderColor: iColor,
          backgroundColor: withAlpha(iColor, 0.8),
          pointRadius: 3.5,
          pointStyle: 'rect',
          borderWidth: 2,
          borderDash: [6, 3],
        },
      ],
    },
    options: {
      ...base,
      interaction: { mode: 'index', intersect: false },
      plugins: {
        ...base.plugins,
        tooltip: {
          ...base.plugins?.tooltip,
          callbacks: {
            title: (items) => {
              if (items.length === 0) return '';
              const step = items[0].parsed.x;
              const onsets = data.onsets.filter((o) => o.step === step).map((o) => o.label);
              return onsets.length === 0 ? `step ${step}` : `step ${step}: ${onsets.join(', ')}`;
            },
            label: (item) =>
              `${item.dataset.label ?? ''}: ${formatNumber(item.parsed.y, item.datasetIndex === 0 ? 2 : 3)} nats`,
          },
        },
      },
      scales: {
        x: linearAxis(theme, 'Training step'),
        y: {
          ...yLeft,
          position: 'left',
          title: { ...yLeft.title, color: hColor },
          ticks: { ...yLeft.ticks, color: hColor },
        },
        y1: {
          ...yRight,
          position: 'right',
          title: { ...yRight.title, color: iColor },
          ticks: { ...yRight.ticks, color: iColor },
          grid: { drawOnChartArea: false },
        },
      },
    },
    plugins: [onsetPlugin(theme, data.onsets)],
  });
}
