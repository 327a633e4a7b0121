/**
 * What the panel saves with `vscode.setState` so it comes back the same after being hidden or
 * after VS Code reloads: the run and the user's choices. Saving a large snapshot costs a
 * serialization, so live updates are batched; important changes save at once.
 */
import type { RunSnapshot } from '../../src/protocol/results.js';
import { isRunSnapshot } from './validate.js';

export const STATE_VERSION = 1;

export interface PanelState {
  readonly version: typeof STATE_VERSION;
  readonly snapshot?: RunSnapshot;
  /** Comparison picked by the user (absent: follow the live one). */
  readonly picked?: string;
  /** How far the panel was scrolled. */
  readonly scrollY?: number;
}

export function parsePanelState(value: unknown): PanelState | undefined {
  const state = value as Partial<PanelState> | null | undefined;
  if (typeof state !== 'object' || state === null || state.version !== STATE_VERSION) return undefined;
  if (state.snapshot !== undefined && !isRunSnapshot(state.snapshot)) return undefined;
  if (state.picked !== undefined && typeof state.picked !== 'string') return undefined;
  const scrollY = typeof state.scrollY === 'number' && Number.isFinite(state.scrollY) ? state.scrollY : undefined;
  return { version: STATE_VERSION, snapshot: state.snapshot, picked: state.picked, scrollY };
}

/** Calls `save` at most once per `intervalMs` with the latest state; `flush` saves a pending one now. */
export class ThrottledSaver {
  private pending: PanelState | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly save: (state: PanelState) => void,
    private readonly intervalMs = 1000,
  ) {}

  schedule(state: PanelState, immediate = false): void {
    this.pending = state;
    if (immediate) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === undefined) return;
    const state = this.pending;
    this.pending = undefined;
    this.save(state);
  }
}
