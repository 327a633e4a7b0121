/** Equal-width histogram bins for a small sample (a cell's per-batch CKA values). */
import { formatNumber } from '../format.js';

export interface Histogram {
  /** Bin labels, "low–high". */
  readonly labels: string[];
  readonly counts: number[];
  /** Values that were finite and counted. */
  readonly n: number;
}

/** About √n bins (between 1 and `maxBins`) spanning the finite values; one bin when they are all equal. */
export function histogram(values: readonly (number | null)[], maxBins = 12): Histogram {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return { labels: [], counts: [], n: 0 };
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const bins = max === min ? 1 : Math.max(1, Math.min(maxBins, Math.ceil(Math.sqrt(finite.length))));
  const width = (max - min) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of finite) counts[Math.min(bins - 1, Math.floor((v - min) / width))]++;
  const digits = max - min < 0.01 ? 4 : 3;
  const labels = counts.map((_, k) => (bins === 1 ? formatNumber(min, digits) : `${formatNumber(min + k * width, digits)}–${formatNumber(min + (k + 1) * width, digits)}`));
  return { labels, counts, n: finite.length };
}
