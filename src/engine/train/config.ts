/** Training configuration: defaults and checks, done once before anything runs. */
import { InputError } from '../errors.js';
import { validateSgdOptions } from './optimizer.js';
import { validateLearningRateSchedule } from './schedule.js';
import type { TrainConfig, TrainConfigInput } from './types.js';

/**
 * He et al.'s CIFAR recipe (SGD, momentum 0.9, decay 1e-4, batch 128, rate 0.1) with a cosine
 * schedule instead of their step decay, which needs no milestones fitted to the run's length.
 */
export const DEFAULT_TRAIN_CONFIG: Omit<TrainConfig, 'epochs'> = {
  batchSize: 128,
  schedule: { kind: 'cosine', learningRate: 0.1 },
  momentum: 0.9,
  nesterov: false,
  weightDecay: 1e-4,
  decayAllWeights: false,
  dataSeed: 0,
  augment: false,
  dropRemainder: true,
  evalBatchSize: 256,
  batchNormBatches: 16,
};

const isWholeNumber = (value: unknown, minimum: number): boolean => Number.isSafeInteger(value) && (value as number) >= minimum;

/** Fills in defaults and checks every field; InputError names the first bad one. */
export function resolveTrainConfig(input: TrainConfigInput): TrainConfig {
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...withoutUndefined(input) } as TrainConfig;
  if (!isWholeNumber(config.epochs, 1)) throw new InputError(`epochs ${config.epochs}: expected a whole number ≥ 1`, 'epochs');
  if (!isWholeNumber(config.batchSize, 1)) throw new InputError(`batch size ${config.batchSize}: expected a whole number ≥ 1`, 'batchSize');
  if (!isWholeNumber(config.evalBatchSize, 1)) throw new InputError(`evaluation batch size ${config.evalBatchSize}: expected a whole number ≥ 1`, 'evalBatchSize');
  if (!isWholeNumber(config.batchNormBatches, 0)) throw new InputError(`batch-norm batches ${config.batchNormBatches}: expected a whole number ≥ 0`, 'batchNormBatches');
  if (!isWholeNumber(config.dataSeed, 0)) throw new InputError(`data seed ${config.dataSeed}: expected a whole number ≥ 0`, 'dataSeed');
  validateSgdOptions(config);
  validateLearningRateSchedule(config.schedule);
  return config;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
