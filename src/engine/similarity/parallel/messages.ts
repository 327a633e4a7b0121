/** Messages between the gram worker pool and its worker threads. */
import type { BackendName } from '../../backend/index.js';
import type { CenteredGram, Centering, LayerBatch } from '../centeredGrams.js';
import type { KernelSpec } from '../kernel.js';

export interface GramWorkerData {
  readonly backend: BackendName;
}

export interface GramRequest {
  readonly id: number;
  readonly kernel: KernelSpec;
  readonly centering: Centering;
  readonly layers: readonly LayerBatch[];
}

export type GramResponse =
  | { readonly id: number; readonly grams: readonly CenteredGram[] }
  | { readonly id: number; readonly error: string; readonly inputError: boolean };

export type GramWorkerReady = { readonly ready: true; readonly backend: string } | { readonly ready: false; readonly error: string };
