/**
 * CKA between every layer of model A and every layer of model B.
 *
 * 'biased' and 'debiased' use all examples as one batch (H·K·H or U-centering); 'minibatch'
 * is Nguyen et al.'s estimator: HSIC₁ summed over minibatches and passes (a trailing partial
 * batch of at least 4 examples weighted by its size; fewer left over are left out, with a
 * warning). All three run the same path — centred grams per layer, one batched cross product,
 * the accumulator — so the minibatch estimate over a single batch is exactly debiased CKA.
 *
 * The minibatch standard error is a delete-one-block jackknife over blocks of batchSize
 * consecutive examples (accumulator.ts): one pass's batches are those blocks, and further passes
 * add to the blocks of the examples they hold, so the error bar reflects the evaluation set's
 * size, not the number of passes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MinibatchCkaAccumulator, isCurrentAccumulatorState, type AccumulatorState, type CkaMatrixResult } from './accumulator.js';
import { batchHsic } from './batchHsic.js';
import type { CellDetailsResult } from './cellDetails.js';
import { CellEvidence, type CellEvidenceOptions, type CellEvidenceState } from './cellEvidence.js';
import type { PermutationTestOptions, PermutationTestResult } from './permutationTest.js';
import { permutedCrossCost, TFJS_PERMUTATION_KERNELS } from './permutedCross.js';
import type { Centering } from './centeredGrams.js';
import { assertUnbiasedBatchSize } from './centering.js';
import { checkFullDataFits, memoryEngineOf } from './fullDataMemory.js';
import { InProcessGramEngine, type GramEngine } from './gramEngine.js';
import type { KernelSpec } from './kernel.js';
import { assertSameExamples, featureCount, sliceBatch, type LayerActivations } from './layers.js';
import { batchSchedule, batchesPerPass, blockOfEachRow, exampleIndices, scheduleCoverage, type BatchPlan } from './schedule.js';

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
  /**
   * Continue an interrupted run with the same settings from its accumulator state. A state saved
   * by an older version (see isCurrentAccumulatorState) is not resumed: the run starts again.
   */
  readonly resumeFrom?: AccumulatorState;
  /** Biased and debiased: the most bytes the run may plan to use (default: half this machine's memory). */
  readonly memoryBudgetBytes?: number;
  /** A permutation test per cell (permutationTest.ts); none when absent or with 0 permutations. */
  readonly permutations?: PermutationTestOptions;
  /** Keep each cell's per-batch values and per-example shares for its drill-down (cellDetails.ts). */
  readonly details?: CellEvidenceOptions['details'];
  /** Per-example ids (one per row of the activations), named beside the examples in `details`. */
  readonly exampleIds?: readonly string[];
}

/** What a run saves to resume: the accumulator's state, with the permutation test's and the details' when they run. */
export type CkaRunState = AccumulatorState & CellEvidenceState;

export interface CkaBatchUpdate {
  readonly pass: number;
  readonly batchesDone: number;
  readonly totalBatches: number;
  readonly result: CkaMatrixResult;
  /** The permutation test over the batches so far, when it runs. */
  readonly significance?: PermutationTestResult;
  /** The run's state after this batch, for resuming. */
  readonly state: () => CkaRunState;
}

export interface CkaMatrixOutput extends CkaMatrixResult {
  readonly estimator: CkaEstimator;
  readonly kernel: KernelSpec;
  /** Examples used (in at least one batch); those left out, if any, are counted in a warning. */
  readonly examples: number;
  readonly batchSize: number;
  readonly passes: number;
  readonly seed: number;
  readonly significance?: PermutationTestResult;
  readonly details?: CellDetailsResult;
}

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
  const schedule = { examples, batchSize, passes, seed };
  const plans: BatchPlan[] = minibatch ? [...batchSchedule(schedule)] : [{ pass: 0, index: 0, examples: { start: 0, end: examples }, rows: examples, weight: 1 }];
  const coverage = minibatch ? scheduleCoverage(schedule) : { used: examples, warning: null };
  if (centering === 'unbiased') assertUnbiasedBatchSize(batchSize, minibatch ? `batch size ${batchSize}` : `the evaluation set (${examples} examples)`);
  if (!minibatch) {
    checkFullDataFits(
      { examples, featuresA: layersA.map(featureCount), featuresB: sameLayers ? null : layersB.map(featureCount), kernel: options.kernel, centering },
      memoryEngineOf(options.engine, tf.getBackend()),
      options.memoryBudgetBytes,
      options.estimator,
    );
  }

  const engine: GramEngine = options.engine ?? new InProcessGramEngine();
  const resumable = options.resumeFrom !== undefined && isCurrentAccumulatorState(options.resumeFrom);
  const accumulator = resumable
    ? MinibatchCkaAccumulator.fromJSON(options.resumeFrom!)
    : new MinibatchCkaAccumulator(layersA.map((l) => l.name), layersB.map((l) => l.name), minibatch ? { groupExamples: batchSize } : {});
  const runWarnings: string[] = [
    ...(coverage.warning ? [coverage.warning] : []),
    ...(options.resumeFrom !== undefined && !resumable ? ['the saved state of the interrupted run is from an older version of RepSim: the comparison started again from the first batch'] : []),
  ];
  const skipped = accumulator.batches;
  const namesA = layersA.map((l) => l.name);
  const namesB = layersB.map((l) => l.name);
  const evidence = CellEvidence.start({
    layersA: namesA,
    layersB: namesB,
    permutations: fullDataTestCells(options.permutations, namesA, namesB, minibatch ? 0 : examples, runWarnings),
    details: options.details,
    examples,
    batches: plans.length,
    skipped,
    resumed: resumable ? (options.resumeFrom as CkaRunState) : undefined,
    warn: (message) => runWarnings.push(message),
  });
  const kernels = engine.permutationKernels ?? TFJS_PERMUTATION_KERNELS;
  const degenerate = new Map<string, string>();
  const current = (): CkaMatrixResult => finishResult(accumulator.result(), minibatch, runWarnings, degenerate);
  const state = (): CkaRunState => ({ ...accumulator.toJSON(), ...evidence.toJSON() });
  try {
    for (const [step, plan] of plans.entries()) {
      if (step < skipped) continue;
      options.signal?.throwIfAborted();
      const gramsA = await engine.grams(layersA.map((l) => sliceBatch(l, plan.examples)), options.kernel, centering);
      const gramsB = sameLayers ? 'same' : await engine.grams(layersB.map((l) => sliceBatch(l, plan.examples)), options.kernel, centering);
      noteDegenerate(degenerate, 'model A', layersA, gramsA);
      if (gramsB !== 'same') noteDegenerate(degenerate, 'model B', layersB, gramsB);
      const groups = minibatch ? blockOfEachRow(plan.examples, batchSize) : undefined;
      const hsic = engine.batchHsic ? await engine.batchHsic(gramsA, gramsB, plan.rows, centering, groups) : await batchHsic(gramsA, gramsB, plan.rows, centering, groups);
      accumulator.add(hsic, plan.weight);
      await evidence.add({ hsic, gramsA, gramsB, centering }, exampleIndices(plan.examples), plan.weight, step, kernels);
      await options.onBatch?.({ pass: plan.pass, batchesDone: accumulator.batches, totalBatches: plans.length, result: current(), significance: evidence.significance(accumulator.sums()), state });
    }
  } finally {
    if (!options.engine) await engine.close();
  }
  return {
    ...current(),
    estimator: options.estimator,
    kernel: options.kernel,
    examples: coverage.used,
    batchSize,
    passes,
    seed,
    ...evidence.result(accumulator.sums(), options.exampleIds),
  };
}

/** The accumulator's result with the run's own warnings and, for full-data estimators, no error bars. */
function finishResult(result: CkaMatrixResult, minibatch: boolean, runWarnings: readonly string[], degenerate: Map<string, string>): CkaMatrixResult {
  return {
    ...result,
    stderrMethod: minibatch ? result.stderrMethod : 'none: the biased and debiased estimators use every example in one batch (stderr is null)',
    warnings: [...runWarnings, ...explainWarnings(result.warnings, degenerate)],
  };
}

/** Above this many multiply-adds per run, a full-data permutation test over every cell is restricted to the diagonal (about a minute on two cores). */
export const FULL_DATA_PERMUTATION_BUDGET = 4e12;

/**
 * A full-data (biased, debiased) test over every cell of n examples costs P·n² per cell: beyond
 * the budget, and unless the cells were chosen, it runs on the diagonal, with a warning saying so.
 */
function fullDataTestCells(test: PermutationTestOptions | undefined, layersA: readonly string[], layersB: readonly string[], n: number, warnings: string[]): PermutationTestOptions | undefined {
  if (!test || n === 0 || (test.cells !== undefined && test.cells !== 'all')) return test;
  const cost = permutedCrossCost(layersA.length, layersB.length, n, test.permutations, undefined);
  if (cost <= FULL_DATA_PERMUTATION_BUDGET) return test;
  warnings.push(
    `the permutation test over all ${layersA.length * layersB.length} cells of ${n} examples would take about ${cost.toExponential(1)} multiply-adds: ` +
      `it ran on the diagonal (layer i with layer i) only; choose cells with permutationCells, or fewer permutations`,
  );
  return { ...test, cells: 'diagonal' };
}

/** The number of batches a minibatch run makes, for progress bars. */
export function plannedBatches(examples: number, batchSize: number, passes: number): number {
  return batchesPerPass({ examples, batchSize, passes, seed: 0 }) * passes;
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
