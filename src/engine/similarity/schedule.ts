/**
 * Which examples go into which minibatch. One pass: consecutive batches in file order. Several
 * passes (Nguyen et al.: 10): each pass is a fresh seeded shuffle, sampling without replacement
 * within the pass.
 *
 * Leftovers: when the examples do not fill whole batches, the trailing partial batch of a pass is
 * used if it holds at least 4 examples (HSIC₁ is unbiased for any batch of 4 or more; its HSIC
 * terms are weighted by rows / batchSize, so full batches keep weight 1). Fewer than 4 left over
 * are left out of that pass; `leftoverExamples` says how many, so callers can say so.
 */
import { InputError } from '../errors.js';
import { seededRandom, shuffledIndices } from '../random.js';

/** The unbiased HSIC estimator divides by n(n−3): a batch needs at least 4 examples. */
export const MIN_BATCH_EXAMPLES = 4;

export interface BatchPlan {
  readonly pass: number;
  /** Index of the batch within its pass. */
  readonly index: number;
  /** Example indices, or a contiguous [start, end) range when the batch is in file order. */
  readonly examples: Uint32Array | { readonly start: number; readonly end: number };
  /** Examples in this batch: batchSize, or fewer for a pass's trailing partial batch. */
  readonly rows: number;
  /** Weight of this batch's HSIC terms: rows / batchSize (1 for a full batch). */
  readonly weight: number;
}

export interface ScheduleOptions {
  readonly examples: number;
  readonly batchSize: number;
  readonly passes: number;
  readonly seed: number;
}

export function validateSchedule({ examples, batchSize, passes }: ScheduleOptions): void {
  if (examples < MIN_BATCH_EXAMPLES) throw new InputError(`there are ${examples} examples: minibatch CKA needs at least 4 (the unbiased HSIC estimator divides by n(n−3))`, 'examples');
  if (!Number.isInteger(batchSize) || batchSize < MIN_BATCH_EXAMPLES) throw new InputError(`--batch-size ${batchSize}: minibatch CKA needs whole batches of at least 4 examples (the unbiased HSIC estimator divides by n(n−3))`, 'batch-size');
  if (!Number.isInteger(passes) || passes < 1) throw new InputError(`--passes ${passes}: expected a whole number ≥ 1`, 'passes');
  if (examples < batchSize) throw new InputError(`there are ${examples} examples, fewer than one batch of ${batchSize}: lower --batch-size`, 'batch-size');
}

/** Examples of a pass beyond its full batches: used as a partial batch when ≥ 4, else left out. */
function remainder({ examples, batchSize }: ScheduleOptions): number {
  return examples % batchSize;
}

/** Batches per pass: the full batches, and the trailing partial batch when it holds ≥ 4 examples. */
export function batchesPerPass(options: ScheduleOptions): number {
  return Math.floor(options.examples / options.batchSize) + (remainder(options) >= MIN_BATCH_EXAMPLES ? 1 : 0);
}

/** Examples each pass leaves out (fewer than 4 that do not fill a batch); 0 when every example is used. */
export function leftoverExamples(options: ScheduleOptions): number {
  const left = remainder(options);
  return left >= MIN_BATCH_EXAMPLES ? 0 : left;
}

export function* batchSchedule(options: ScheduleOptions): Generator<BatchPlan> {
  validateSchedule(options);
  const { examples, batchSize, passes, seed } = options;
  const perPass = batchesPerPass(options);
  const bounds = (index: number) => {
    const start = index * batchSize;
    const end = Math.min(start + batchSize, examples);
    return { start, end, rows: end - start, weight: (end - start) / batchSize };
  };
  if (passes === 1) {
    for (let index = 0; index < perPass; index++) {
      const { start, end, rows, weight } = bounds(index);
      yield { pass: 0, index, examples: { start, end }, rows, weight };
    }
    return;
  }
  const random = seededRandom(seed);
  for (let pass = 0; pass < passes; pass++) {
    const order = shuffledIndices(examples, random);
    for (let index = 0; index < perPass; index++) {
      const { start, end, rows, weight } = bounds(index);
      yield { pass, index, examples: order.subarray(start, end), rows, weight };
    }
  }
}

/**
 * The examples a run uses (those in at least one batch) and, when some are left out, a warning
 * that says exactly how many. One pass leaves out the last `leftover` examples of the file; with
 * several passes each pass leaves out a different random `leftover`.
 */
export function scheduleCoverage(options: ScheduleOptions): { readonly used: number; readonly warning: string | null } {
  const left = leftoverExamples(options);
  const { examples, batchSize, passes } = options;
  if (left === 0) return { used: examples, warning: null };
  const why = `${examples} examples are ${Math.floor(examples / batchSize)} batch${examples >= 2 * batchSize ? 'es' : ''} of ${batchSize} and ${left} left over, too few for a batch (the unbiased HSIC estimator needs at least 4)`;
  if (passes === 1) {
    return { used: examples - left, warning: `${why}: the last ${left} example${left > 1 ? 's were' : ' was'} left out, ${examples - left} used; choose a batch size that leaves 0 or at least 4 over to use them all` };
  }
  const seen = new Uint8Array(examples);
  for (const plan of batchSchedule(options)) for (const i of plan.examples as Uint32Array) seen[i] = 1;
  const used = seen.reduce((sum, v) => sum + v, 0);
  return {
    used,
    warning: `${why}: each of the ${passes} passes left out ${left} randomly chosen example${left > 1 ? 's' : ''}${used < examples ? `; ${examples - used} were left out of every pass, ${used} used` : '; every example was used in some pass'}`,
  };
}

/** Indices of a batch as a list, whether the plan gave a range or explicit indices. */
export function exampleIndices(examples: BatchPlan['examples']): Uint32Array {
  if (examples instanceof Uint32Array) return examples;
  return Uint32Array.from({ length: examples.end - examples.start }, (_, i) => examples.start + i);
}

/** Each row's jackknife group: the block of batchSize consecutive examples its example is in. */
export function blockOfEachRow(examples: BatchPlan['examples'], batchSize: number): Int32Array {
  return Int32Array.from(exampleIndices(examples), (e) => Math.floor(e / batchSize));
}
