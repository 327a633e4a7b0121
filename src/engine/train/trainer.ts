/**
 * The training loop: epochs of SGD steps over seeded batch orders, a test evaluation after each
 * epoch, progress events, cancellation between batches, checkpoints and exact resumption.
 *
 * Reproducibility: the same model weights, data and config on the same backend give the same
 * trained weights. Nothing random happens here except through the data source's per-epoch seed
 * (models with dropout would add tfjs's unseeded randomness; the zoo has none), and everything
 * a step depends on (weights, batch-norm statistics, velocities, position) is in a checkpoint,
 * so an interrupted and resumed run ends with the weights of an uninterrupted one.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../errors.js';
import { recalibrateBatchNorm } from './batchNorm.js';
import { resolveTrainConfig } from './config.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint, type TrainingCheckpoint } from './checkpoint.js';
import { batchesPerEpoch, epochSeed, type EpochRequest, type LabelledBatch, type TrainingData } from './data.js';
import { SgdMomentum } from './optimizer.js';
import { learningRateAt } from './schedule.js';
import { evaluateModel, modelOutputKind, trainStep, type StepContext } from './step.js';
import { NO_TOTALS, START, type BatchProgress, type EpochSummary, type EpochTotals, type TrainConfig, type TrainConfigInput, type TrainingPosition } from './types.js';

export interface CheckpointOptions {
  readonly directory: string;
  /** Save after every this many epochs (default 1); the last epoch is always saved. */
  readonly everyEpochs?: number;
  /** Also save every this many steps inside epochs (default: only at epoch ends). */
  readonly everySteps?: number;
  /** Saved with each checkpoint and handed back by loadTrainingCheckpoint. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface TrainOptions {
  readonly onBatch?: (progress: BatchProgress) => void | Promise<void>;
  readonly onEpoch?: (summary: EpochSummary) => void | Promise<void>;
  /**
   * Checked before every batch (and evaluation batch): aborting stops the run there with the
   * signal's reason. Checkpoints already written stay as they are.
   */
  readonly signal?: AbortSignal;
  readonly checkpoint?: CheckpointOptions;
  /** Continue from this checkpoint's position and optimizer state (the model must hold its weights). */
  readonly resumeFrom?: TrainingCheckpoint;
}

export interface TrainResult {
  readonly config: TrainConfig;
  readonly history: readonly EpochSummary[];
  readonly steps: number;
}

/**
 * Trains `model` in place. `config` takes defaults for what it leaves out (config.ts); when
 * resuming, pass the checkpoint's config (or the same one) for an exact continuation.
 */
export async function trainModel(model: tfl.LayersModel, data: TrainingData, configInput: TrainConfigInput, options: TrainOptions = {}): Promise<TrainResult> {
  const config = resolveTrainConfig(configInput);
  const { numClasses } = checkDataFitsModel(model, data);
  const stepsPerEpoch = batchesPerEpoch(data.trainCount, config.batchSize, config.dropRemainder);
  if (stepsPerEpoch === 0) throw new InputError(`${data.trainCount} training examples make no whole batch of ${config.batchSize}: lower the batch size`, 'batchSize');

  const resume = options.resumeFrom;
  if (resume) checkResumable(config, resume.config);
  const optimizer = new SgdMomentum(model.trainableWeights, config);
  try {
    if (resume) optimizer.restore(resume.optimizer, options.checkpoint?.directory ?? 'the checkpoint');
    const context: StepContext = { model, optimizer, exampleShape: data.exampleShape, numClasses, outputKind: modelOutputKind(model) };
    const run = new Run(context, data, config, stepsPerEpoch, options, resume?.position ?? START);
    await run.toEnd();
    return { config, history: run.position.history, steps: run.position.step };
  } finally {
    optimizer.dispose();
  }
}

/** Loads a checkpoint and trains on to its config's last epoch (or `epochs`, to extend the run). */
export async function resumeTraining(
  directory: string,
  data: TrainingData,
  options: Omit<TrainOptions, 'resumeFrom'> & { readonly epochs?: number } = {},
): Promise<{ model: tfl.LayersModel; result: TrainResult }> {
  const { model, checkpoint } = await loadTrainingCheckpoint(directory);
  const config = { ...checkpoint.config, epochs: options.epochs ?? checkpoint.config.epochs };
  const checkpointOptions = options.checkpoint ?? { directory, metadata: checkpoint.metadata };
  const result = await trainModel(model, data, config, { ...options, checkpoint: checkpointOptions, resumeFrom: checkpoint });
  return { model, result };
}

/** The fields that fix which batches have been trained: changing them would not continue the same run. */
const POSITION_FIELDS = ['batchSize', 'dataSeed', 'dropRemainder', 'augment'] as const;

function checkResumable(config: TrainConfig, saved: TrainConfig): void {
  for (const field of POSITION_FIELDS) {
    if (config[field] !== saved[field]) throw new InputError(`cannot resume with ${field} ${config[field]}: the checkpoint was trained with ${saved[field]}`, field);
  }
}

function checkDataFitsModel(model: tfl.LayersModel, data: TrainingData): { numClasses: number } {
  const inputShape = model.inputs[0].shape.slice(1);
  const fits = inputShape.length === data.exampleShape.length && inputShape.every((size, i) => size === null || size === data.exampleShape[i]);
  if (!fits) throw new InputError(`the model takes inputs of shape [${inputShape.join(', ')}], the data has examples of shape [${data.exampleShape.join(', ')}]`, 'data');
  const outputShape = model.outputs[0].shape;
  const numClasses = outputShape[outputShape.length - 1];
  if (outputShape.length !== 2 || numClasses === null) throw new InputError(`the model's output has shape [${outputShape.join(', ')}]; training needs one score per class`, 'model');
  return { numClasses };
}

/** One training run's mutable progress. */
class Run {
  constructor(
    private readonly context: StepContext,
    private readonly data: TrainingData,
    private readonly config: TrainConfig,
    private readonly stepsPerEpoch: number,
    private readonly options: TrainOptions,
    public position: TrainingPosition,
  ) {}

  async toEnd(): Promise<void> {
    while (this.position.epoch < this.config.epochs) {
      const request = this.epochRequest(this.position.epoch);
      await this.trainEpoch(request);
      await this.finishEpoch(request);
    }
  }

  private epochRequest(epoch: number): EpochRequest {
    const { batchSize, dataSeed, augment, dropRemainder } = this.config;
    return { epoch, batchSize, seed: epochSeed(dataSeed, epoch), augment, dropRemainder };
  }

  /** The epoch's batches from the current position on (a resumed run skips those already trained). */
  private async trainEpoch(request: EpochRequest): Promise<void> {
    const skip = this.position.batchInEpoch;
    let index = 0;
    let started = performance.now();
    for await (const batch of this.data.trainBatches(request)) {
      if (index++ >= skip) {
        this.options.signal?.throwIfAborted();
        await this.trainBatch(batch, (performance.now() - started) / 1000);
      }
      started = performance.now();
    }
    if (index < skip) throw new InputError(`the data gave ${index} batches in epoch ${request.epoch}, fewer than the ${skip} the checkpoint had trained`, 'data');
  }

  /** One step; `waited` is the time spent getting the batch, counted in its images per second. */
  private async trainBatch(batch: LabelledBatch, waited: number): Promise<void> {
    const { config, options, stepsPerEpoch } = this;
    const started = performance.now();
    const { epoch, step, batchInEpoch, epochTotals: before } = this.position;
    const learningRate = learningRateAt(config.schedule, { step, stepsPerEpoch, totalEpochs: config.epochs });
    const { loss, correct } = await trainStep(this.context, batch, learningRate);
    const seconds = waited + (performance.now() - started) / 1000;
    const totals: EpochTotals = {
      lossSum: before.lossSum + loss * batch.size,
      correct: before.correct + correct,
      examples: before.examples + batch.size,
      seconds: before.seconds + seconds,
    };
    this.position = { ...this.position, batchInEpoch: batchInEpoch + 1, step: step + 1, epochTotals: totals };
    await options.onBatch?.({
      epoch,
      epochs: config.epochs,
      batch: batchInEpoch,
      batchesPerEpoch: stepsPerEpoch,
      step: step + 1,
      learningRate,
      loss,
      accuracy: correct / batch.size,
      epochLoss: totals.lossSum / totals.examples,
      epochAccuracy: totals.correct / totals.examples,
      imagesPerSecond: batch.size / seconds,
    });
    const everySteps = options.checkpoint?.everySteps;
    if (everySteps && (step + 1) % everySteps === 0) await this.save();
  }

  /** Batch-norm recalibration, test evaluation, checkpoint, then the epoch event. */
  private async finishEpoch(request: EpochRequest): Promise<void> {
    const { config, data, options } = this;
    options.signal?.throwIfAborted();
    // The epoch's own first batches: deterministic, so a resumed run recalibrates identically.
    await recalibrateBatchNorm(this.context.model, data.trainBatches(request), data.exampleShape, config.batchNormBatches, options.signal);
    const summary = await this.summarize(request.epoch, this.position.epochTotals);
    const epochsDone = request.epoch + 1;
    this.position = { epoch: epochsDone, batchInEpoch: 0, step: this.position.step, epochTotals: NO_TOTALS, history: [...this.position.history, summary] };
    const everyEpochs = options.checkpoint?.everyEpochs ?? 1;
    if (epochsDone % everyEpochs === 0 || epochsDone === config.epochs) await this.save();
    await options.onEpoch?.(summary);
  }

  private async summarize(epoch: number, totals: EpochTotals): Promise<EpochSummary> {
    const { data, config, context, options } = this;
    const train = {
      epoch,
      trainLoss: totals.lossSum / totals.examples,
      trainAccuracy: totals.correct / totals.examples,
      seconds: totals.seconds,
      imagesPerSecond: totals.examples / totals.seconds,
    };
    if (data.testCount === 0) return train;
    const test = await evaluateModel(context, data.testBatches(config.evalBatchSize), options.signal);
    return { ...train, testLoss: test.loss, testAccuracy: test.accuracy };
  }

  private async save(): Promise<void> {
    const { checkpoint } = this.options;
    if (!checkpoint) return;
    await saveTrainingCheckpoint(checkpoint.directory, this.context.model, {
      config: this.config,
      position: this.position,
      optimizer: await this.context.optimizer.state(),
      ...(checkpoint.metadata ? { metadata: checkpoint.metadata } : {}),
    });
  }
}
