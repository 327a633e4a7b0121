/**
 * A run's results.json (written by the server, or any file a user points at) → a RunSnapshot
 * the panel can show, checked enough that the webview is not handed something else.
 */
import type { RunSnapshot, RunStatus } from '../../protocol/index.js';

const STATUSES: ReadonlySet<RunStatus> = new Set(['queued', 'running', 'done', 'failed', 'cancelled']);

export function isSnapshotLike(value: unknown): value is RunSnapshot {
  const s = value as Partial<RunSnapshot> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.runId === 'string' &&
    typeof s.experiment === 'string' &&
    typeof s.status === 'string' &&
    STATUSES.has(s.status) &&
    Array.isArray(s.comparisons) &&
    Array.isArray(s.models) &&
    typeof s.training === 'object' &&
    s.training !== null
  );
}

export function parseResultsJson(text: string, source: string): RunSnapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not valid JSON (${(error as Error).message})`);
  }
  if (!isSnapshotLike(value)) throw new Error(`${source} is not a RepSim results file (expected runId, experiment, status, models, training and comparisons)`);
  return value;
}

/**
 * A snapshot restored after a reload whose run cannot be live any more (the server that ran it
 * ended with the old extension host) says so instead of showing a run that never moves.
 */
export function interruptedSnapshot(snapshot: RunSnapshot): RunSnapshot {
  if (snapshot.status !== 'running' && snapshot.status !== 'queued') return snapshot;
  return { ...snapshot, status: 'failed', progress: undefined, partial: undefined, error: 'interrupted: the window reloaded while this run was going (finished comparisons are in its results folder)' };
}
