/**
 * What a cell's drill-down asks the extension host for — thumbnails of examples and a cell
 * recomputed without some examples — and the answers. A Lit controller: it listens to the
 * host's messages while its element is connected and re-renders it when an answer arrives.
 * In the HTML report there is no host: `available` is false and nothing is posted. A request
 * the host does not answer in time ends with an error rather than a spinner forever (a late
 * answer still replaces it).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { isHostMessage, type ExampleThumbnail, type HostMessage, type RecomputeCellRequest, type RecomputedCell } from '../../src/protocol/webview.js';
import { connectHost, type HostConnection } from '../host.js';

/** Thumbnails asked for at once, at most (the drill-down shows 16 examples). */
export const MAX_THUMBNAILS = 16;
export const THUMBNAIL_TIMEOUT_MS = 30_000;
export const RECOMPUTE_TIMEOUT_MS = 180_000;

/** Where a recompute stands: waiting (pending), answered (result, which may carry its own error), or given up on (error). */
export interface RecomputeStatus {
  readonly request: RecomputeCellRequest;
  readonly pending: boolean;
  readonly result?: RecomputedCell;
  readonly error?: string;
}

const DATA_URL = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/;

const thumbnailKey = (comparison: string, example: number) => `${comparison}\n${example}`;

/** One key per cell and set of left-out examples. */
export const recomputeKey = (request: RecomputeCellRequest) => [request.comparison, request.layerA, request.layerB, request.exclude.join(',')].join('\n');

function isThumbnail(value: unknown): value is ExampleThumbnail {
  const t = value as Partial<ExampleThumbnail> | null;
  return typeof t === 'object' && t !== null && Number.isInteger(t.example) && typeof t.dataUrl === 'string' && DATA_URL.test(t.dataUrl);
}

function isRecomputedCell(value: unknown): value is RecomputedCell {
  const r = value as Partial<RecomputedCell> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.comparison === 'string' &&
    typeof r.layerA === 'string' &&
    typeof r.layerB === 'string' &&
    Array.isArray(r.exclude) &&
    r.exclude.every((e) => Number.isInteger(e)) &&
    (r.value === null || typeof r.value === 'number') &&
    (r.stderr === null || typeof r.stderr === 'number') &&
    typeof r.examples === 'number' &&
    (r.error === undefined || typeof r.error === 'string')
  );
}

export class CellRequests implements ReactiveController {
  private readonly connection: HostConnection = connectHost();
  private runId: string | undefined;
  private readonly thumbnails = new Map<string, string>();
  private readonly thumbnailErrors = new Map<string, string>();
  private readonly pendingThumbnails = new Set<string>();
  private readonly recomputes = new Map<string, RecomputeStatus>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  /** Whether a host answers (the live panel, not the static report). */
  get available(): boolean {
    return this.connection.mode === 'vscode';
  }

  hostConnected(): void {
    window.addEventListener('message', this.onMessage);
  }

  hostDisconnected(): void {
    window.removeEventListener('message', this.onMessage);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.pendingThumbnails.clear();
  }

  /** Answers belong to one run: a different run starts afresh. */
  forRun(runId: string): void {
    if (runId === this.runId) return;
    this.runId = runId;
    this.thumbnails.clear();
    this.thumbnailErrors.clear();
    this.pendingThumbnails.clear();
    this.recomputes.clear();
  }

  thumbnail(comparison: string, example: number): string | undefined {
    return this.thumbnails.get(thumbnailKey(comparison, example));
  }

  /** Why the comparison's thumbnails did not come, if they did not. */
  thumbnailError(comparison: string): string | undefined {
    return this.thumbnailErrors.get(comparison);
  }

  /** Asks for the thumbnails of these examples that are neither here nor asked for already (at most MAX_THUMBNAILS). */
  requestThumbnails(comparison: string, examples: readonly number[]): void {
    if (this.connection.mode !== 'vscode' || this.runId === undefined) return;
    const missing = [...new Set(examples)].filter((e) => !this.thumbnails.has(thumbnailKey(comparison, e)) && !this.pendingThumbnails.has(thumbnailKey(comparison, e))).slice(0, MAX_THUMBNAILS);
    if (missing.length === 0) return;
    for (const e of missing) this.pendingThumbnails.add(thumbnailKey(comparison, e));
    this.connection.post({ type: 'exampleThumbnails', runId: this.runId, comparison, examples: missing });
    this.after(THUMBNAIL_TIMEOUT_MS, () => {
      const unanswered = missing.filter((e) => this.pendingThumbnails.delete(thumbnailKey(comparison, e)));
      if (unanswered.length > 0 && !this.thumbnailErrors.has(comparison)) this.thumbnailErrors.set(comparison, 'no answer from the extension');
    });
  }

  recompute(request: RecomputeCellRequest): RecomputeStatus | undefined {
    return this.recomputes.get(recomputeKey(request));
  }

  /** Asks the host to recompute a cell without some examples (once at a time per cell and set of examples). */
  requestRecompute(request: RecomputeCellRequest): void {
    if (this.connection.mode !== 'vscode' || this.runId === undefined) return;
    const key = recomputeKey(request);
    if (this.recomputes.get(key)?.pending) return;
    this.recomputes.set(key, { request, pending: true });
    this.connection.post({ type: 'recomputeCell', runId: this.runId, ...request, exclude: [...request.exclude] });
    this.host.requestUpdate();
    this.after(RECOMPUTE_TIMEOUT_MS, () => {
      const status = this.recomputes.get(key);
      if (status?.pending) this.recomputes.set(key, { request, pending: false, error: `no answer from the extension after ${RECOMPUTE_TIMEOUT_MS / 60_000} min` });
    });
  }

  private after(ms: number, then: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      then();
      this.host.requestUpdate();
    }, ms);
    this.timers.add(timer);
  }

  private readonly onMessage = (event: MessageEvent): void => {
    const message: unknown = event.data;
    if (!isHostMessage(message) || message.type === 'snapshot' || message.runId !== this.runId) return;
    if (message.type === 'exampleThumbnails') this.takeThumbnails(message);
    else if (message.type === 'recomputedCell') this.takeRecomputed(message.result);
  };

  private takeThumbnails(message: Extract<HostMessage, { type: 'exampleThumbnails' }>): void {
    if (typeof message.comparison !== 'string' || !Array.isArray(message.thumbnails)) return;
    for (const t of message.thumbnails) {
      if (!isThumbnail(t)) continue;
      const key = thumbnailKey(message.comparison, t.example);
      this.thumbnails.set(key, t.dataUrl);
      this.pendingThumbnails.delete(key);
    }
    if (typeof message.error === 'string') this.thumbnailErrors.set(message.comparison, message.error);
    else this.thumbnailErrors.delete(message.comparison);
    this.host.requestUpdate();
  }

  private takeRecomputed(result: unknown): void {
    if (!isRecomputedCell(result)) return;
    const key = recomputeKey(result);
    const asked = this.recomputes.get(key);
    if (asked === undefined) return;
    this.recomputes.set(key, { request: asked.request, pending: false, result });
    this.host.requestUpdate();
  }
}
