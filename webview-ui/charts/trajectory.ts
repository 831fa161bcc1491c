/** The checkpoint trajectory: median H (left axis) and median I (right axis) over training steps. */
import type { TrajectoryData } from '../chartData';
import { formatNumber } from '../chartData';
import type { Theme } from '../theme';
import { withAlpha } from '../theme';
import { Chart, baseOptions, linearAxis } from './common';

/** Draws the trajectory chart on `canvas` (canvas#trajectory-chart). */
export function createTrajectoryChart(
  canvas: HTMLCanvasElement,
  data: TrajectoryData,
  theme: Theme,
): Chart<'line', { x: number; y: number }[]> {
  const hColor = theme.colors.blue;
  const iColor = theme.colors.orange;
  const base = baseOptions(theme, true);
  const yLeft = linearAxis(theme, 'Median H (nats)');
  const yRight = linearAxis(theme, 'Median I (nats)');
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
            title: (items) => (items.length > 0 ? `step ${items[0].parsed.x}` : ''),
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
          grace: '10%',
        },
        y1: {
          ...yRight,
          position: 'right',
          title: { ...yRight.title, color: iColor },
          ticks: { ...yRight.ticks, color: iColor },
          grid: { drawOnChartArea: false },
          grace: '10%',
        },
      },
    },
  });
}
