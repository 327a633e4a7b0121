/** How a run's progress reads in the status bar and in progress notifications. */
import type { RunProgress } from '../../protocol/index.js';

const PHASE_NAMES: Record<RunProgress['phase'], string> = {
  queued: 'queued',
  data: 'data',
  train: 'training',
  compare: 'comparing',
  'subspace-match': 'subspace match',
  report: 'report',
};

export function phaseName(phase: RunProgress['phase']): string {
  return PHASE_NAMES[phase] ?? phase;
}

/** 0–100 within the current phase, or undefined when the phase has no known total. */
export function progressPercent(progress: RunProgress | undefined): number | undefined {
  if (!progress || !(progress.total > 0)) return undefined;
  return Math.max(0, Math.min(100, Math.floor((100 * progress.step) / progress.total)));
}

/** 75 → "1:15", 3725 → "1:02:05"; undefined for unknown or absurd values. */
export function formatEta(seconds: number | undefined): string | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0 || seconds > 7 * 24 * 3600) return undefined;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** "42% · ETA 1:15" (either part may be missing). */
export function progressSummary(progress: RunProgress | undefined): string {
  const percent = progressPercent(progress);
  const eta = formatEta(progress?.etaSeconds);
  return [percent === undefined ? undefined : `${percent}%`, eta && `ETA ${eta}`].filter(Boolean).join(' · ');
}

/** A progress notification's line: what is being done, then how far. */
export function progressMessage(progress: RunProgress | undefined): string {
  if (!progress) return 'starting…';
  const summary = progressSummary(progress);
  return summary ? `${progress.label} — ${summary}` : progress.label;
}
