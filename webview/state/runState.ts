/**
 * How host messages change the run the panel shows. Pure: the same function serves live
 * messages, replays in tests, and restored state. Messages for another run are ignored, and an
 * ignored message returns the very same snapshot object (callers test identity).
 */
import type { ComparisonResult, RunSnapshot, TrainingMetrics } from '../../src/protocol/results.js';
import type { HostMessage } from '../../src/protocol/webview.js';
import { isCkaSnapshot, isComparisonResult, isRunProgress, isRunSnapshot, isTrainingMetrics } from './validate.js';

/** Per-batch points kept per model while its current epoch runs (older ones are dropped). */
export const MAX_BATCH_POINTS = 400;

export function applyHostMessage(current: RunSnapshot | undefined, message: HostMessage): RunSnapshot | undefined {
  if (message.type === 'snapshot') return isRunSnapshot(message.snapshot) ? message.snapshot : current;
  if (current === undefined || message.runId !== current.runId) return current;
  switch (message.type) {
    case 'progress':
      if (!isRunProgress(message.progress)) return current;
      return { ...current, status: current.status === 'queued' ? 'running' : current.status, progress: message.progress };
    case 'partial':
      if (typeof message.comparison !== 'string' || typeof message.a !== 'string' || typeof message.b !== 'string' || !isCkaSnapshot(message.cka)) return current;
      return { ...current, partial: { comparison: message.comparison, a: message.a, b: message.b, cka: message.cka } };
    case 'comparison':
      return isComparisonResult(message.result) ? withComparison(current, message.result) : current;
    case 'training':
      return isTrainingMetrics(message.metrics) ? withTrainingPoint(current, message.metrics) : current;
    case 'done':
      return { ...current, status: 'done', partial: undefined };
    case 'failed':
      return { ...current, status: message.cancelled === true ? 'cancelled' : 'failed', error: typeof message.error === 'string' ? message.error : undefined, partial: undefined };
    default:
      return current;
  }
}

function withComparison(current: RunSnapshot, result: ComparisonResult): RunSnapshot {
  const index = current.comparisons.findIndex((c) => c.name === result.name);
  const comparisons = index < 0 ? [...current.comparisons, result] : current.comparisons.map((c, i) => (i === index ? result : c));
  const partial = current.partial?.comparison === result.name ? undefined : current.partial;
  return { ...current, comparisons, partial };
}

/**
 * End-of-epoch points are kept (one per epoch, a repeat replaces it); per-batch points only
 * for the epoch still running, so the curve shows it without the state growing. A per-batch
 * point's `epoch` is its fractional position (epoch 0.5 = half-way through the first), an
 * end-of-epoch point's the number of epochs done, so both share one x axis.
 */
function withTrainingPoint(current: RunSnapshot, point: TrainingMetrics): RunSnapshot {
  const previous = current.training[point.model] ?? [];
  let points: TrainingMetrics[];
  if (point.batch === undefined) {
    points = previous.filter((p) => (p.batch === undefined ? p.epoch !== point.epoch : p.epoch > point.epoch));
    points.push(point);
    points.sort((x, y) => x.epoch - y.epoch);
  } else {
    points = [...previous, point];
    const batchPoints = points.filter((p) => p.batch !== undefined).length;
    if (batchPoints > MAX_BATCH_POINTS) {
      let excess = batchPoints - MAX_BATCH_POINTS;
      points = points.filter((p) => p.batch === undefined || excess-- <= 0);
    }
  }
  return { ...current, training: { ...current.training, [point.model]: points } };
}
