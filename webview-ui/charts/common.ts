/** chart.js set-up shared by every MemLens chart: the registered parts and themed axes. */
import {
  Chart,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  ScatterController,
  Title,
  Tooltip,
} from 'chart.js';
import type { FontSpec } from 'chart.js';
import type { Theme } from '../theme';

Chart.register(
  Filler,
  ScatterController,
  LineController,
  LinearScale,
  PointElement,
  LineElement,
  Tooltip,
  Legend,
  Title,
);

export { Chart };

/** Fonts in the theme's family and size. */
export function themeFont(theme: Theme, delta = 0, weight?: FontSpec['weight']): Partial<FontSpec> {
  return { family: theme.fontFamily, size: Math.max(9, theme.fontSize + delta), weight };
}

/** A linear axis with a title (units in brackets), in the theme's colours. */
export function linearAxis(theme: Theme, title: string) {
  return {
    type: 'linear' as const,
    title: {
      display: true,
      text: title,
      color: theme.foreground,
      font: themeFont(theme, 0, 'bold'),
    },
    ticks: { color: theme.muted, font: themeFont(theme, -1) },
    grid: { color: theme.grid },
    border: { color: theme.grid },
  };
}

/** Options every chart shares: no animation (render at once), theme-coloured legend and tooltip. */
export function baseOptions(theme: Theme, showLegend: boolean) {
  return {
    animation: false as const,
    responsive: true,
    maintainAspectRatio: false,
    color: theme.foreground,
    font: themeFont(theme),
    plugins: {
      legend: {
        display: showLegend,
        position: 'top' as const,
        labels: {
          color: theme.foreground,
          font: themeFont(theme),
          usePointStyle: true,
          boxHeight: 8,
        },
      },
      tooltip: {
        backgroundColor: theme.background,
        titleColor: theme.foreground,
        bodyColor: theme.foreground,
        borderColor: theme.grid,
        borderWidth: 1,
        titleFont: themeFont(theme, 0, 'bold'),
        bodyFont: themeFont(theme, -1),
      },
    },
  };
}
