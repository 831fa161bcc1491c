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
import type { ChartEvent, FontSpec } from 'chart.js';
import type { AxisRange } from '../chartData';
import { PNG_SCALE } from '../chartData';
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

/** The pointer over a legend entry says it can be clicked. */
function setCursor(event: ChartEvent, cursor: string): void {
  const target = event.native?.target;
  if (target instanceof HTMLElement) target.style.cursor = cursor;
}

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

/**
 * Options every chart shares: no animation (render at once), drawn at PNG_SCALE pixels per CSS
 * pixel or more (what a PNG export holds), a theme-coloured tooltip and a legend whose entries
 * show and hide their series on click (chart.js's own legend handler, kept on every chart).
 */
export function baseOptions(theme: Theme, showLegend: boolean) {
  return {
    animation: false as const,
    responsive: true,
    maintainAspectRatio: false,
    devicePixelRatio: Math.max(PNG_SCALE, window.devicePixelRatio),
    color: theme.foreground,
    font: themeFont(theme),
    plugins: {
      legend: {
        display: showLegend,
        position: 'top' as const,
        onHover: (event: ChartEvent) => setCursor(event, 'pointer'),
        onLeave: (event: ChartEvent) => setCursor(event, ''),
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

/**
 * An axis set to `range` (chart.js fits the data itself when it is null), with ticks only at
 * round values inside it, not at its padded ends.
 */
export function fittedAxis<A extends ReturnType<typeof linearAxis>>(
  axis: A,
  range: AxisRange | null,
) {
  if (range === null) return axis;
  return {
    ...axis,
    min: range.min,
    max: range.max,
    ticks: { ...axis.ticks, includeBounds: false },
  };
}
