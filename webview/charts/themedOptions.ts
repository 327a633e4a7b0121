/** Chart options shared by every chart: no animation, theme colours and fonts. */
import type { ThemeColors } from '../theme/colors.js';

export function themedFont(theme: ThemeColors, scale = 0.9) {
  return { family: theme.fontFamily, size: Math.round(theme.fontSize * scale) };
}

/** A cartesian axis in theme colours; `title` labels it. */
export function themedAxis(theme: ThemeColors, title?: string) {
  return {
    grid: { color: theme.grid },
    border: { color: theme.grid },
    ticks: { color: theme.foreground, font: themedFont(theme) },
    title: { display: title !== undefined, text: title ?? '', color: theme.foreground, font: themedFont(theme) },
  };
}

export function themedTooltip(theme: ThemeColors) {
  return {
    backgroundColor: theme.background,
    titleColor: theme.foreground,
    bodyColor: theme.foreground,
    borderColor: theme.focusBorder,
    borderWidth: 1,
    titleFont: { ...themedFont(theme, 1), weight: 'bold' as const },
    bodyFont: themedFont(theme, 1),
  };
}

export function themedLegend(theme: ThemeColors) {
  return { labels: { color: theme.foreground, font: themedFont(theme), boxWidth: 12, boxHeight: 12 } };
}

/** Options every line/bar chart starts from. */
export function baseChartOptions(theme: ThemeColors) {
  return {
    animation: false as const,
    responsive: true,
    maintainAspectRatio: false,
    color: theme.foreground,
    font: themedFont(theme),
    interaction: { mode: 'nearest' as const, intersect: false },
  };
}
