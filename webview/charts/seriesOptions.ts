/** Small helpers for the line and bar charts' datasets and axes. */
import type { Scale } from 'chart.js';
import { clipLabel } from '../format.js';
import type { ThemeColors } from '../theme/colors.js';
import { themedAxis } from './themedOptions.js';

/** A point of a line on a numeric x axis; NaN y leaves a gap. */
export interface XY {
  x: number;
  y: number;
}

export const toY = (value: number | null | undefined): number => (value === null || value === undefined ? Number.NaN : value);

export function seriesColor(theme: ThemeColors, index: number): string {
  return theme.series[index % theme.series.length];
}

/** A line dataset in a series colour; `dashed` for test curves. */
export function lineDataset(theme: ThemeColors, label: string, data: XY[] | number[], colorIndex: number, dashed = false) {
  const color = seriesColor(theme, colorIndex);
  return { label, data, borderColor: color, backgroundColor: color, borderWidth: theme.kind.startsWith('high-contrast') ? 3 : 2, borderDash: dashed ? [6, 4] : [], pointRadius: 2, pointHoverRadius: 4, spanGaps: false };
}

export function barDataset(theme: ThemeColors, label: string, data: number[], colorIndex: number) {
  const color = seriesColor(theme, colorIndex);
  return { label, data, backgroundColor: color, borderColor: color, borderWidth: 1 };
}

/** A 0–1 axis shown as percentages. */
export function fractionAxis(theme: ThemeColors, title: string) {
  const axis = themedAxis(theme, title);
  return { ...axis, min: 0, suggestedMax: 1, ticks: { ...axis.ticks, callback: (value: string | number) => `${Math.round(Number(value) * 100)}%` } };
}

/** A category axis of layer names, clipped and autoskipped when dense. */
export function layerAxis(theme: ThemeColors, title: string) {
  const axis = themedAxis(theme, title);
  return {
    ...axis,
    type: 'category' as const,
    ticks: {
      ...axis.ticks,
      autoSkip: true,
      maxRotation: 60,
      // Measure a sample of the labels, not all of them (hundreds of layers).
      sampleSize: 32,
      callback(this: Scale, value: string | number) {
        return clipLabel(this.getLabelForValue(Number(value)), 18);
      },
    },
  };
}
