/**
 * Computes the centred grams of a batch's layers: in this thread, or split over worker
 * threads (each with its own TensorFlow.js backend) when the backend is single-threaded.
 */
import type { BatchHsic } from './batchHsic.js';
import type { CenteredGram, Centering, LayerBatch } from './centeredGrams.js';
import { centeredGram } from './centeredGrams.js';
import type { KernelSpec } from './kernel.js';

export interface GramEngine {
  grams(layers: readonly LayerBatch[], kernel: KernelSpec, centering: Centering): Promise<CenteredGram[]>;
  /** All-pairs HSIC of a batch's grams on this engine; absent: TensorFlow.js (`batchHsic`) in this thread. */
  batchHsic?(gramsA: readonly CenteredGram[], gramsB: readonly CenteredGram[] | 'same', n: number, centering: Centering): Promise<BatchHsic>;
  close(): Promise<void>;
  readonly description: string;
}

export class InProcessGramEngine implements GramEngine {
  readonly description = 'in-process';

  async grams(layers: readonly LayerBatch[], kernel: KernelSpec, centering: Centering): Promise<CenteredGram[]> {
    return layers.map((layer) => centeredGram(layer, kernel, centering));
  }

  async close(): Promise<void> {}
}
