/**
 * Training: SGD with momentum and weight decay over seeded batches, learning-rate schedules,
 * progress events, cancellation, checkpoints that resume exactly, and TensorFlow.js model files
 * without tfjs-node. Pure computation: no VS Code.
 *
 *   const result = await trainModel(model, datasetTrainingData(dataset), { epochs: 2, schedule: { kind: 'cosine', learningRate: 0.1 } }, {
 *     onBatch: (p) => log(p.loss), signal, checkpoint: { directory: 'runs/resnet-20' },
 *   });
 *   const { model: resumed } = await resumeTraining('runs/resnet-20', data); // after an interruption
 */
export { batchNormLayers, recalibrateBatchNorm } from './batchNorm.js';
export { DEFAULT_TRAIN_CONFIG, resolveTrainConfig } from './config.js';
export { hasTrainingCheckpoint, loadTrainingCheckpoint, saveTrainingCheckpoint, TRAINING_STATE_FILE, type TrainingCheckpoint } from './checkpoint.js';
export {
  arrayTrainingData,
  batchesPerEpoch,
  datasetTrainingData,
  epochSeed,
  type ArraySplit,
  type Batches,
  type DatasetTrainingOptions,
  type EpochRequest,
  type LabelledBatch,
  type TrainingData,
} from './data.js';
export { DEFAULT_WEIGHTS_FILE, fileSystemHandler, loadLayersModelFromPath, MODEL_FILE, resolveModelJsonPath, savedModelFingerprint, saveLayersModel, type FileHandlerOptions } from './modelFiles.js';
export { SgdMomentum, validateSgdOptions, type SgdOptions, type SgdState, type VelocityState } from './optimizer.js';
export { learningRateAt, validateLearningRateSchedule, type LearningRateSchedule, type SchedulePosition } from './schedule.js';
export { crossEntropyPerExample, evaluateModel, modelOutputKind, trainStep, type Evaluation, type OutputKind, type StepContext, type StepResult } from './step.js';
export { resumeTraining, trainModel, type CheckpointOptions, type TrainOptions, type TrainResult } from './trainer.js';
export type { BatchProgress, EpochSummary, EpochTotals, TrainConfig, TrainConfigInput, TrainingPosition } from './types.js';
