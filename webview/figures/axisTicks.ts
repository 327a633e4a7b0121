/**
 * Where the figures put their ticks: round values along a numeric axis (the colour bar, the CKA
 * axis), and which layers get a label when there are too many to label each one.
 */

/** About `target` round values (steps of 1, 2 or 5 × 10^k) from min to max, both included when round. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) return Number.isFinite(min) ? [min] : [];
  const step = niceStep((max - min) / Math.max(1, target));
  const ticks: number[] = [];
  const first = Math.ceil(min / step - 1e-9);
  const last = Math.floor(max / step + 1e-9);
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toFixed(12)) || 0);
  return ticks;
}

/** The round step (1, 2 or 5 × 10^k) nearest a rough one on a log scale (as d3's ticks choose). */
export function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction >= Math.sqrt(50) ? 10 : fraction >= Math.sqrt(10) ? 5 : fraction >= Math.sqrt(2) ? 2 : 1) * power;
}

/** Tick values as text with the decimals their spacing needs ("0", "0.2", …, "1"; "0.05"). */
export function formatTicks(ticks: readonly number[]): string[] {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return ticks.map((t) => t.toFixed(decimals).replace(/^-(0\.?0*)$/, '$1'));
}

/**
 * The positions 0 … count − 1 that get a label when consecutive positions are `spacing` apart
 * and labels need `minGap` between them: every k-th, with k as small as that allows, always the
 * first and the last (k a round 1, 2 or 5 × 10^n, so labels go 1, 6, 11, …; the last replaces the one before it when they would be too close; with
 * room for only one label, only the first).
 */
export function thinnedIndices(count: number, spacing: number, minGap: number): number[] {
  if (count <= 0) return [];
  const step = roundCount(Math.max(1, Math.ceil(minGap / Math.max(spacing, 1e-9) - 1e-9)));
  const kept: number[] = [];
  for (let i = 0; i < count; i += step) kept.push(i);
  const last = count - 1;
  if (kept.at(-1) !== last) {
    if (last * spacing < minGap - 1e-9) return [0];
    while (kept.length > 1 && (last - kept[kept.length - 1]) * spacing < minGap - 1e-9) kept.pop();
    kept.push(last);
  }
  return kept;
}

/** The smallest whole 1, 2 or 5 × 10^n at least n. */
function roundCount(n: number): number {
  for (let power = 1; ; power *= 10) for (const m of [1, 2, 5]) if (m * power >= n) return m * power;
}
