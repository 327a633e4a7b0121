/** Text formatting shared by the components. */
import type { PermutationTest } from '../src/protocol/results.js';

export function formatNumber(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}

export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  return fraction === null || fraction === undefined || !Number.isFinite(fraction) ? '—' : `${(fraction * 100).toFixed(digits)}%`;
}

/** "42 s", "3 min 05 s", "2 h 07 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export function formatRate(rate: number, unit = 'items/s'): string {
  const digits = rate >= 100 ? 0 : rate >= 10 ? 1 : 2;
  return `${rate.toFixed(digits)} ${unit}`;
}

/** Keeps the end of a long layer name, where the distinguishing part usually is. */
export function clipLabel(name: string, width = 22): string {
  return name.length > width ? `…${name.slice(name.length - width + 1)}` : name;
}

/** A CKA cell for tooltips: value ± standard error, or why it is missing. */
export function formatCell(value: number | null, stderr: number | null): string {
  if (value === null) return 'undefined (zero variance)';
  return stderr === null ? formatNumber(value) : `${formatNumber(value)} ± ${formatNumber(stderr)}`;
}

/**
 * A permutation test's p-value: "p = 0.023", or "p = 0.0099 (floor 1/101)" when no permutation
 * reached the observed value, so p is as small as `permutations` can show.
 */
export function formatPValue(p: number, permutations: number): string {
  const text = p >= 0.01 ? p.toFixed(3) : p.toPrecision(2);
  const floor = 1 / (permutations + 1);
  return p <= floor * (1 + 1e-9) ? `p = ${text} (floor 1/${permutations + 1})` : `p = ${text}`;
}

/** A cell's permutation test in words, for tooltips and the drill-down: p-value, null mean ± std, calibrated CKA. */
export function describeSignificance(test: PermutationTest, row: number, column: number): string[] {
  const p = test.pValue[row]?.[column] ?? null;
  if (p === null) return ['not tested for significance'];
  const lines = [formatPValue(p, test.permutations)];
  const mean = test.nullMean[row]?.[column] ?? null;
  const std = test.nullStd[row]?.[column] ?? null;
  if (mean !== null) lines.push(`null ${formatCell(mean, std)} (${test.permutations} permutations)`);
  const calibrated = test.calibrated[row]?.[column] ?? null;
  if (calibrated !== null) lines.push(`calibrated CKA ${formatNumber(calibrated)}`);
  return lines;
}
