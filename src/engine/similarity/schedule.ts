/**
 * Which examples go into which minibatch. One pass: consecutive batches in file order, a
 * trailing partial batch dropped. Several passes (Nguyen et al.: 10): each pass is a fresh
 * seeded shuffle, sampling without replacement within the pass.
 */
import { InputError } from '../errors.js';
import { seededRandom, shuffledIndices } from '../random.js';

export interface BatchPlan {
  readonly pass: number;
  /** Index of the batch within its pass. */
  readonly index: number;
  /** Example indices, or a contiguous [start, end) range when the batch is in file order. */
  readonly examples: Uint32Array | { readonly start: number; readonly end: number };
}

export interface ScheduleOptions {
  readonly examples: number;
  readonly batchSize: number;
  readonly passes: number;
  readonly seed: number;
}

export function validateSchedule({ examples, batchSize, passes }: ScheduleOptions): void {
  if (!Number.isInteger(batchSize) || batchSize < 4) throw new InputError(`--batch-size ${batchSize}: minibatch CKA needs whole batches of at least 4 examples (the unbiased HSIC estimator divides by n(n−3))`, 'batch-size');
  if (!Number.isInteger(passes) || passes < 1) throw new InputError(`--passes ${passes}: expected a whole number ≥ 1`, 'passes');
  if (examples < batchSize) throw new InputError(`there are ${examples} examples, fewer than one batch of ${batchSize}: lower --batch-size`, 'batch-size');
}

export function batchesPerPass({ examples, batchSize }: ScheduleOptions): number {
  return Math.floor(examples / batchSize);
}

export function* batchSchedule(options: ScheduleOptions): Generator<BatchPlan> {
  validateSchedule(options);
  const { examples, batchSize, passes, seed } = options;
  const perPass = batchesPerPass(options);
  if (passes === 1) {
    for (let index = 0; index < perPass; index++) {
      yield { pass: 0, index, examples: { start: index * batchSize, end: (index + 1) * batchSize } };
    }
    return;
  }
  const random = seededRandom(seed);
  for (let pass = 0; pass < passes; pass++) {
    const order = shuffledIndices(examples, random);
    for (let index = 0; index < perPass; index++) {
      yield { pass, index, examples: order.subarray(index * batchSize, (index + 1) * batchSize) };
    }
  }
}
