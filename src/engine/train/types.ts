/** The shapes shared by the training modules: configuration, progress events and position. */
import type { LearningRateSchedule } from './schedule.js';

export interface TrainConfig {
  readonly epochs: number;
  readonly batchSize: number;
  readonly schedule: LearningRateSchedule;
  /** SGD momentum μ (see optimizer.ts for the exact update). */
  readonly momentum: number;
  readonly nesterov: boolean;
  /** L2 coefficient λ, added as λ·w to the gradient of every kernel. */
  readonly weightDecay: number;
  /** Decay biases and batch-norm parameters too. */
  readonly decayAllWeights: boolean;
  /**
   * Seeds the order of the training examples (and their augmentation): epoch e draws from a
   * seed derived from (dataSeed, e). The initial weights are seeded where the model is built.
   */
  readonly dataSeed: number;
  /** Ask the data source for augmented training images. */
  readonly augment: boolean;
  /** Leave out each epoch's last batch when it is smaller than batchSize (batch norm dislikes tiny batches). */
  readonly dropRemainder: boolean;
  /** Batch size of the per-epoch test evaluation (inference only, so it can be larger). */
  readonly evalBatchSize: number;
  /**
   * At the end of every epoch, before its evaluation, set the batch-norm moving statistics to
   * the average over this many training batches (batchNorm.ts); 0 keeps the moving averages.
   * Inference only: the trained weights are the same either way.
   */
  readonly batchNormBatches: number;
}

/** What `trainModel` accepts: `epochs` and any other fields, the rest defaulted. */
export type TrainConfigInput = Partial<TrainConfig> & Pick<TrainConfig, 'epochs'>;

/** After each batch. */
export interface BatchProgress {
  /** 0-based. */
  readonly epoch: number;
  readonly epochs: number;
  /** 0-based index of the batch within its epoch. */
  readonly batch: number;
  readonly batchesPerEpoch: number;
  /** Optimizer steps taken so far, this one included. */
  readonly step: number;
  readonly learningRate: number;
  /** Mean cross-entropy of this batch (without the weight-decay term). */
  readonly loss: number;
  /** Fraction of this batch classified right. */
  readonly accuracy: number;
  /** Running means over the epoch so far. */
  readonly epochLoss: number;
  readonly epochAccuracy: number;
  /** This batch's examples per second of wall time, data preparation included. */
  readonly imagesPerSecond: number;
}

/** After each epoch (and its test evaluation). */
export interface EpochSummary {
  /** 0-based. */
  readonly epoch: number;
  /** Means over the epoch's batches, in training mode (batch statistics). */
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  /** On the test split, in inference mode (moving statistics); absent without test data. */
  readonly testLoss?: number;
  readonly testAccuracy?: number;
  /** Wall time spent training this epoch, evaluation excluded. */
  readonly seconds: number;
  readonly imagesPerSecond: number;
}

/** Running sums of the epoch in progress. */
export interface EpochTotals {
  readonly lossSum: number;
  readonly correct: number;
  readonly examples: number;
  readonly seconds: number;
}

/** Where a run stands: enough, with the weights and optimizer state, to continue it exactly. */
export interface TrainingPosition {
  /** The epoch in progress (0-based); equals `epochs` when training is complete. */
  readonly epoch: number;
  /** Batches of that epoch already trained. */
  readonly batchInEpoch: number;
  /** Optimizer steps taken since the start. */
  readonly step: number;
  readonly epochTotals: EpochTotals;
  /** Summaries of the completed epochs. */
  readonly history: readonly EpochSummary[];
}

export const NO_TOTALS: EpochTotals = { lossSum: 0, correct: 0, examples: 0, seconds: 0 };
export const START: TrainingPosition = { epoch: 0, batchInEpoch: 0, step: 0, epochTotals: NO_TOTALS, history: [] };
