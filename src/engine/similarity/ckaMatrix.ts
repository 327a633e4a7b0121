/**
 * CKA between every layer of model A and every layer of model B.
 *
 * 'biased' and 'debiased' use all examples as one batch (H·K·H or U-centering); 'minibatch'
 * is Nguyen et al.'s estimator: HSIC₁ averaged over minibatches and passes. All three run the
 * same path — centred grams per layer, one batched cross product, the accumulator — so the
 * minibatch estimate over a single batch is exactly debiased CKA.
 */
import { InputError } from '../errors.js';
import { MinibatchCkaAccumulator, type AccumulatorState, type CkaMatrixResult } from './accumulator.js';
import { batchHsic } from './batchHsic.js';
import type { Centering } from './centeredGrams.js';
import { assertUnbiasedBatchSize } from './centering.js';
import { InProcessGramEngine, type GramEngine } from './gramEngine.js';
import type { KernelSpec } from './kernel.js';
import { assertSameExamples, sliceBatch, type LayerActivations } from './layers.js';
import { batchSchedule, batchesPerPass, type BatchPlan } from './schedule.js';

export type CkaEstimator = 'biased' | 'debiased' | 'minibatch';

export interface CkaMatrixOptions {
  readonly kernel: KernelSpec;
  readonly estimator: CkaEstimator;
  /** Minibatch only (defaults: 256 examples, 1 pass, seed 0). */
  readonly batchSize?: number;
  readonly passes?: number;
  readonly seed?: number;
  /** Where the grams are computed (default: this thread). */
  readonly engine?: GramEngine;
  /** Called after every batch with the running result. */
  readonly onBatch?: (update: CkaBatchUpdate) => void | Promise<void>;
  /** Cancels between batches; the promise then rejects with an AbortError. */
  readonly signal?: AbortSignal;
  /** Continue an interrupted run with the same settings from its accumulator state. */
  readonly resumeFrom?: AccumulatorState;
}

export interface CkaBatchUpdate {
  readonly pass: number;
  readonly batchesDone: number;
  readonly totalBatches: number;
  readonly result: CkaMatrixResult;
  /** The accumulator's state after this batch, for resuming. */
  readonly state: () => AccumulatorState;
}

export interface CkaMatrixOutput extends CkaMatrixResult {
  readonly estimator: CkaEstimator;
  readonly kernel: KernelSpec;
  readonly examples: number;
  readonly batchSize: number;
  readonly passes: number;
  readonly seed: number;
}

/** Full-data grams of every layer are held at once; past this, ask for the minibatch estimator. */
const FULL_DATA_GRAM_BUDGET_BYTES = 2 * 1024 ** 3;

export async function ckaMatrix(
  layersA: readonly LayerActivations[],
  layersB: readonly LayerActivations[],
  options: CkaMatrixOptions,
): Promise<CkaMatrixOutput> {
  const examples = assertSameExamples(layersA, layersB);
  const sameLayers = layersA === layersB;
  const minibatch = options.estimator === 'minibatch';
  const batchSize = minibatch ? (options.batchSize ?? 256) : examples;
  const passes = minibatch ? (options.passes ?? 1) : 1;
  const seed = options.seed ?? 0;
  const centering: Centering = options.estimator === 'biased' ? 'biased' : 'unbiased';
  const plans: BatchPlan[] = minibatch
    ? [...batchSchedule({ examples, batchSize, passes, seed })]
    : [{ pass: 0, index: 0, examples: { start: 0, end: examples } }];
  if (!minibatch) checkFullDataFits(examples, layersA.length + (sameLayers ? 0 : layersB.length));
  if (centering === 'unbiased') assertUnbiasedBatchSize(batchSize, minibatch ? `batch size ${batchSize}` : `the evaluation set (${examples} examples)`);

  const engine: GramEngine = options.engine ?? new InProcessGramEngine();
  const accumulator = options.resumeFrom
    ? MinibatchCkaAccumulator.fromJSON(options.resumeFrom)
    : new MinibatchCkaAccumulator(layersA.map((l) => l.name), layersB.map((l) => l.name));
  const skipped = accumulator.batches;
  const degenerate = new Map<string, string>();
  try {
    for (const plan of plans.slice(skipped)) {
      options.signal?.throwIfAborted();
      const gramsA = await engine.grams(layersA.map((l) => sliceBatch(l, plan.examples)), options.kernel, centering);
      const gramsB = sameLayers ? 'same' : await engine.grams(layersB.map((l) => sliceBatch(l, plan.examples)), options.kernel, centering);
      noteDegenerate(degenerate, 'model A', layersA, gramsA);
      if (gramsB !== 'same') noteDegenerate(degenerate, 'model B', layersB, gramsB);
      accumulator.add(engine.batchHsic ? await engine.batchHsic(gramsA, gramsB, batchSize, centering) : batchHsic(gramsA, gramsB, batchSize, centering));
      await options.onBatch?.({ pass: plan.pass, batchesDone: accumulator.batches, totalBatches: plans.length, result: accumulator.result(), state: () => accumulator.toJSON() });
    }
  } finally {
    if (!options.engine) await engine.close();
  }
  const result = accumulator.result();
  return {
    ...result,
    warnings: explainWarnings(result.warnings, degenerate),
    estimator: options.estimator,
    kernel: options.kernel,
    examples,
    batchSize,
    passes,
    seed,
  };
}

/** The number of batches a minibatch run makes, for progress bars. */
export function plannedBatches(examples: number, batchSize: number, passes: number): number {
  return batchesPerPass({ examples, batchSize, passes, seed: 0 }) * passes;
}

function checkFullDataFits(examples: number, layers: number): void {
  const bytes = examples * examples * 4 * layers;
  if (bytes > FULL_DATA_GRAM_BUDGET_BYTES) {
    throw new InputError(
      `full-data CKA over ${examples} examples would hold ${(bytes / 1024 ** 3).toFixed(1)} GiB of gram matrices: use --estimator minibatch`,
      'estimator',
    );
  }
}

function noteDegenerate(found: Map<string, string>, model: string, layers: readonly LayerActivations[], grams: readonly { degenerate: string | null }[]): void {
  grams.forEach((g, i) => {
    const key = `${model} layer '${layers[i].name}'`;
    if (g.degenerate && !found.has(key)) found.set(key, g.degenerate);
  });
}

/** Replaces the accumulator's generic zero-variance lines with the gram's own reason. */
function explainWarnings(warnings: readonly string[], degenerate: Map<string, string>): string[] {
  return warnings.map((line) => {
    for (const [key, reason] of degenerate) {
      if (line.startsWith(key)) return `${key}: ${reason}; its CKA is undefined (null)`;
    }
    return line;
  });
}
