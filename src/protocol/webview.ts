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
  | { readonly type: 'failed'; readonly runId: string; readonly error: string; readonly cancelled: boolean };

/** Webview → host. */
export type WebviewMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'cancel'; readonly runId: string }
  | { readonly type: 'export'; readonly format: 'png' | 'csv' | 'json'; readonly comparison: string; readonly fileName: string; readonly data: string };

const HOST_TYPES = new Set(['snapshot', 'progress', 'partial', 'comparison', 'training', 'done', 'failed']);

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
      return ['png', 'csv', 'json'].includes(message.format as string) && typeof message.comparison === 'string' && typeof message.fileName === 'string' && typeof message.data === 'string';
    default:
      return false;
  }
}
