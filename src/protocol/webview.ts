/**
 * Messages between the extension host and the webview panel (and what the HTML report embeds).
 * Both sides validate what arrives with the guards below: a webview message is untrusted input.
 */
import type { CkaSnapshot, ComparisonResult, RunProgress, RunSnapshot, TrainingMetrics } from './results.js';

/** Host → webview. */
export type HostMessage =
  | { readonly type: 'snapshot'; readonly snapshot: RunSnapshot }
  | { readonly type: 'progress'; readonly runId: string; readonly progress: RunProgress }
  | { readonly type: 'partial'; readonly runId: string; readonly comparison: string; readonly a: string; readonly b: string; readonly cka: CkaSnapshot }
  | { readonly type: 'comparison'; readonly runId: string; readonly result: ComparisonResult }
  | { readonly type: 'training'; readonly runId: string; readonly metrics: TrainingMetrics }
  | { readonly type: 'done'; readonly runId: string }
  | { readonly type: 'failed'; readonly runId: string; readonly error: string; readonly cancelled: boolean }
  /** Answer to 'exampleThumbnails': PNG data URLs by example index (error: why there are none). */
  | { readonly type: 'exampleThumbnails'; readonly runId: string; readonly comparison: string; readonly thumbnails: readonly ExampleThumbnail[]; readonly error?: string }
  /** Answer to 'recomputeCell'. */
  | { readonly type: 'recomputedCell'; readonly runId: string; readonly result: RecomputedCell };

/** Webview → host. */
export type WebviewMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'cancel'; readonly runId: string }
  | { readonly type: 'export'; readonly format: 'png' | 'svg' | 'csv' | 'json'; readonly comparison: string; readonly fileName: string; readonly data: string }
  /** Images of these evaluation examples, for a cell's drill-down. */
  | { readonly type: 'exampleThumbnails'; readonly runId: string; readonly comparison: string; readonly examples: readonly number[] }
  /** Recompute one cell with these examples left out. */
  | ({ readonly type: 'recomputeCell'; readonly runId: string } & RecomputeCellRequest);

export interface ExampleThumbnail {
  readonly example: number;
  /** data:image/png;base64,… */
  readonly dataUrl: string;
}

/** One cell of a finished comparison, recomputed over the same batches less some examples. */
export interface RecomputeCellRequest {
  readonly comparison: string;
  readonly layerA: string;
  readonly layerB: string;
  /** Evaluation-set indices to leave out. */
  readonly exclude: readonly number[];
}

export interface RecomputedCell extends RecomputeCellRequest {
  /** The cell's CKA without those examples (null: undefined), its standard error, and the examples used. */
  readonly value: number | null;
  readonly stderr: number | null;
  readonly examples: number;
  /** Why it could not be recomputed, when it could not. */
  readonly error?: string;
}

const HOST_TYPES = new Set(['snapshot', 'progress', 'partial', 'comparison', 'training', 'done', 'failed', 'exampleThumbnails', 'recomputedCell']);

export function isHostMessage(value: unknown): value is HostMessage {
  const message = value as { type?: unknown; runId?: unknown; snapshot?: unknown };
  if (typeof message !== 'object' || message === null || typeof message.type !== 'string' || !HOST_TYPES.has(message.type)) return false;
  if (message.type === 'snapshot') return typeof message.snapshot === 'object' && message.snapshot !== null;
  return typeof message.runId === 'string';
}

export function isWebviewMessage(value: unknown): value is WebviewMessage {
  const message = value as Record<string, unknown>;
  if (typeof message !== 'object' || message === null) return false;
  switch (message.type) {
    case 'ready':
      return true;
    case 'cancel':
      return typeof message.runId === 'string';
    case 'export':
      return ['png', 'svg', 'csv', 'json'].includes(message.format as string) && typeof message.comparison === 'string' && typeof message.fileName === 'string' && typeof message.data === 'string';
    case 'exampleThumbnails':
      return typeof message.runId === 'string' && typeof message.comparison === 'string' && isIndexList(message.examples, 64);
    case 'recomputeCell':
      return (
        typeof message.runId === 'string' &&
        typeof message.comparison === 'string' &&
        typeof message.layerA === 'string' &&
        typeof message.layerB === 'string' &&
        isIndexList(message.exclude, 10_000)
      );
    default:
      return false;
  }
}

/** A list of at most `max` non-negative integer indices. */
function isIndexList(value: unknown, max: number): value is number[] {
  return Array.isArray(value) && value.length <= max && value.every((v) => Number.isInteger(v) && v >= 0);
}
