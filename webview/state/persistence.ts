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
  /** The heatmap's significance and calibration toggles. */
  readonly heatmapOptions?: HeatmapOptions;
  /** The cell whose drill-down is open. */
  readonly selectedCell?: SelectedCell;
}

/** Significance levels the heatmap can mark cells against. */
export const SIGNIFICANCE_LEVELS = [0.05, 0.01, 0.001] as const;
export type SignificanceLevel = (typeof SIGNIFICANCE_LEVELS)[number];

export interface HeatmapOptions {
  /** Cells whose permutation p-value is above this level are dimmed and hatched; null: no marking. */
  readonly significanceLevel: SignificanceLevel | null;
  /** Show calibrated CKA ((observed − null mean) / (1 − null mean)) instead of the raw value. */
  readonly calibrated: boolean;
}

export const DEFAULT_HEATMAP_OPTIONS: HeatmapOptions = { significanceLevel: null, calibrated: false };

/** A heatmap cell of a comparison: row = layer of A, column = layer of B. */
export interface SelectedCell {
  readonly comparison: string;
  readonly row: number;
  readonly column: number;
}

export function parsePanelState(value: unknown): PanelState | undefined {
  const state = value as Partial<PanelState> | null | undefined;
  if (typeof state !== 'object' || state === null || state.version !== STATE_VERSION) return undefined;
  if (state.snapshot !== undefined && !isRunSnapshot(state.snapshot)) return undefined;
  if (state.picked !== undefined && typeof state.picked !== 'string') return undefined;
  const scrollY = typeof state.scrollY === 'number' && Number.isFinite(state.scrollY) ? state.scrollY : undefined;
  const heatmapOptions = parseHeatmapOptions(state.heatmapOptions);
  const selectedCell = parseSelectedCell(state.selectedCell);
  return { version: STATE_VERSION, snapshot: state.snapshot, picked: state.picked, scrollY, ...(heatmapOptions && { heatmapOptions }), ...(selectedCell && { selectedCell }) };
}

/** Saved toggles, or undefined when absent or malformed (the panel then starts with the defaults). */
function parseHeatmapOptions(value: unknown): HeatmapOptions | undefined {
  const options = value as Partial<HeatmapOptions> | null | undefined;
  if (typeof options !== 'object' || options === null) return undefined;
  const level = options.significanceLevel;
  if (level !== null && !SIGNIFICANCE_LEVELS.includes(level as SignificanceLevel)) return undefined;
  if (typeof options.calibrated !== 'boolean') return undefined;
  return { significanceLevel: level as SignificanceLevel | null, calibrated: options.calibrated };
}

function parseSelectedCell(value: unknown): SelectedCell | undefined {
  const cell = value as Partial<SelectedCell> | null | undefined;
  if (typeof cell !== 'object' || cell === null || typeof cell.comparison !== 'string') return undefined;
  const index = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
  return index(cell.row) && index(cell.column) ? { comparison: cell.comparison, row: cell.row, column: cell.column } : undefined;
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
