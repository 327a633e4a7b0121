/**
 * Computes the centred grams of a batch's layers: in this thread, or split over worker
 * threads (each with its own TensorFlow.js backend) when the backend is single-threaded.
 */
import type { BatchHsic } from './batchHsic.js';
import type { CenteredGram, Centering, LayerBatch } from './centeredGrams.js';
import { centeredGram } from './centeredGrams.js';
import * as tf from '@tensorflow/tfjs-core';
import type { GramMemoryEngine } from './fullDataMemory.js';
import type { KernelSpec } from './kernel.js';
import type { PermutationKernels } from './permutedCross.js';

export interface GramEngine {
  grams(layers: readonly LayerBatch[], kernel: KernelSpec, centering: Centering): Promise<CenteredGram[]>;
  /**
   * All-pairs HSIC of a batch's grams on this engine; absent: TensorFlow.js (`batchHsic`) in this
   * thread. `rowGroups` (a jackknife group key per row) adds each group's share.
   */
  batchHsic?(gramsA: readonly CenteredGram[], gramsB: readonly CenteredGram[] | 'same', n: number, centering: Centering, rowGroups?: ArrayLike<number>): Promise<BatchHsic>;
  /** The permutation test's products on this engine's runtime (absent: TensorFlow.js in this thread). */
  readonly permutationKernels?: PermutationKernels;
  close(): Promise<void>;
  readonly description: string;
  /** Where the grams are computed, for the full-data estimators' memory check (absent: TF.js in this thread). */
  readonly memoryEngine?: GramMemoryEngine;
}

export class InProcessGramEngine implements GramEngine {
  readonly description = 'in-process';

  get memoryEngine(): GramMemoryEngine {
    return { kind: 'tfjs', backend: tf.getBackend(), workers: 1 };
  }

  async grams(layers: readonly LayerBatch[], kernel: KernelSpec, centering: Centering): Promise<CenteredGram[]> {
    return layers.map((layer) => centeredGram(layer, kernel, centering));
  }

  async close(): Promise<void> {}
}
