/** Text formatting shared by the components. */

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
