/**
 * Theme colours for the charts, read from CSS custom properties. styles.css maps each --ml-*
 * property to the matching --vscode-* variable with a light (or, in a plain browser with a dark
 * preference, dark) fallback, so the same code serves the panel and the HTML report.
 */
import type { ColorKey } from './chartData';
import { PALETTE } from './chartData';

export interface Theme {
  foreground: string;
  muted: string;
  background: string;
  grid: string;
  fontFamily: string;
  fontSize: number;
  colors: Record<ColorKey, string>;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const value = style.getPropertyValue(name).trim();
  return value.length > 0 ? value : fallback;
}

/** Reads the current theme from the computed style of `element` (the body). */
export function readTheme(element: HTMLElement = document.body): Theme {
  const style = getComputedStyle(element);
  const colors = {} as Record<ColorKey, string>;
  for (const key of PALETTE) colors[key] = cssVar(style, `--ml-${key}`, '#888888');
  const size = Number.parseFloat(cssVar(style, '--ml-font-size', '13'));
  return {
    foreground: cssVar(style, '--ml-fg', '#1f2328'),
    muted: cssVar(style, '--ml-muted', '#59636e'),
    background: cssVar(style, '--ml-bg', '#ffffff'),
    grid: cssVar(style, '--ml-grid', 'rgba(128, 128, 128, 0.25)'),
    fontFamily: cssVar(style, '--ml-font', 'system-ui, sans-serif'),
    fontSize: Number.isFinite(size) ? size : 13,
    colors,
  };
}

/** The colour with an alpha channel, for #rgb, #rrggbb, #rrggbbaa and rgb()/rgba() colours. */
export function withAlpha(color: string, alpha: number): string {
  const c = color.trim();
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c);
  if (hex !== null) {
    let h = hex[1];
    if (h.length === 3 || h.length === 4) h = [...h].map((ch) => ch + ch).join('');
    if (h.length === 6 || h.length === 8) {
      const [r, g, b] = [0, 2, 4].map((i) => Number.parseInt(h.slice(i, i + 2), 16));
      return `rgba(${r}, ${g}, ${b}, ${alpha})`;
    }
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(c);
  if (rgb !== null) return `rgba(${rgb[1]}, ${rgb[2]}, ${rgb[3]}, ${alpha})`;
  return c;
}
