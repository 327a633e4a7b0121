/**
 * Theme colours for the charts, read from VS Code's CSS variables (the report defines the same
 * variables). Canvas drawing cannot use `var(...)`, so charts re-read these on theme changes.
 */

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface ThemeColors {
  readonly kind: ThemeKind;
  readonly foreground: string;
  readonly mutedForeground: string;
  readonly background: string;
  /** Grid lines and axis borders: the foreground, faint. */
  readonly grid: string;
  readonly focusBorder: string;
  /** Hatching for undefined heatmap cells. */
  readonly hatch: string;
  /** Distinct series colours, in order: blue, orange, green, purple, red, yellow. */
  readonly series: readonly string[];
  readonly fontFamily: string;
  readonly fontSize: number;
}

const SERIES_VARIABLES = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];

const FALLBACK = {
  dark: { foreground: '#cccccc', mutedForeground: '#9d9d9d', background: '#1f1f1f', focusBorder: '#0078d4', series: ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'] },
  light: { foreground: '#3b3b3b', mutedForeground: '#717171', background: '#ffffff', focusBorder: '#005fb8', series: ['#1a85ff', '#d18616', '#388a34', '#652d90', '#e51400', '#bf8803'] },
};

export function themeKind(body: HTMLElement = document.body): ThemeKind {
  const classes = body.classList;
  if (classes.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (classes.contains('vscode-high-contrast')) return 'high-contrast';
  if (classes.contains('vscode-light')) return 'light';
  if (classes.contains('vscode-dark')) return 'dark';
  return globalThis.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

let scratch: CanvasRenderingContext2D | null | undefined;

/** Any CSS colour as `rgba(r, g, b, alpha)` (the canvas parses it for us). */
export function withAlpha(color: string, alpha: number): string {
  scratch ??= document.createElement('canvas').getContext('2d');
  if (!scratch) return color;
  scratch.fillStyle = '#000000';
  scratch.fillStyle = color;
  const normalized = String(scratch.fillStyle);
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(normalized);
  if (hex) return `rgba(${parseInt(hex[1], 16)}, ${parseInt(hex[2], 16)}, ${parseInt(hex[3], 16)}, ${alpha})`;
  const rgba = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(normalized);
  return rgba ? `rgba(${rgba[1].trim()}, ${rgba[2].trim()}, ${rgba[3].trim()}, ${alpha})` : color;
}

export function readThemeColors(source: Element = document.body): ThemeColors {
  const style = getComputedStyle(source);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const kind = themeKind();
  const base = kind === 'light' || kind === 'high-contrast-light' ? FALLBACK.light : FALLBACK.dark;
  const foreground = read('--vscode-foreground', base.foreground);
  const highContrast = kind === 'high-contrast' || kind === 'high-contrast-light';
  return {
    kind,
    foreground,
    mutedForeground: read('--vscode-descriptionForeground', base.mutedForeground),
    background: read('--vscode-editor-background', base.background),
    grid: highContrast ? read('--vscode-contrastBorder', foreground) : withAlpha(foreground, 0.15),
    focusBorder: read('--vscode-focusBorder', base.focusBorder),
    hatch: withAlpha(foreground, highContrast ? 0.9 : 0.45),
    series: SERIES_VARIABLES.map((name, i) => read(name, base.series[i])),
    fontFamily: read('--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: parseFloat(read('--vscode-font-size', '13')) || 13,
  };
}
