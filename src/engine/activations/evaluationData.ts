/** The evaluation examples a comparison runs through both models. */
import type { BatchPlan } from '../similarity/schedule.js';

export interface EvaluationData {
  readonly count: number;
  /** [height, width, channels] of one example. */
  readonly exampleShape: readonly number[];
  /** Class label per example (for per-class agreement), when known. */
  readonly labels?: ArrayLike<number>;
  readonly classNames?: readonly string[];
  /** Per-example ids (from an `ids` array beside the inputs), when the data carry them. */
  readonly ids?: readonly string[];
  /** The model-ready (normalised) inputs of these examples, row-major [examples, ...shape]. */
  inputs(examples: BatchPlan['examples']): Float32Array;
}

export { exampleIndices } from '../similarity/schedule.js';
