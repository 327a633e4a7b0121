/**
 * What the trainer reads: batches of normalised images with integer labels. Any source fits
 * (synthetic arrays in tests, the dataset module's splits); the trainer only asks for one epoch
 * at a time, by seed, so a resumed run sees the same batches as an uninterrupted one.
 */
import { batches, type ImageDataset } from '../data/index.js';
import { seededRandom, shuffledIndices } from '../random.js';

export interface LabelledBatch {
  /** size·(example size) values, example after example (HWC for images). */
  readonly x: Float32Array;
  /** size class indices. */
  readonly labels: ArrayLike<number>;
  readonly size: number;
}

export interface EpochRequest {
  readonly epoch: number;
  readonly batchSize: number;
  /** Seeds this epoch's order and augmentation; the same request must give the same batches. */
  readonly seed: number;
  readonly augment: boolean;
  readonly dropRemainder: boolean;
}

export type Batches = Iterable<LabelledBatch> | AsyncIterable<LabelledBatch>;

export interface TrainingData {
  /** The shape of one example, e.g. [height, width, channels]. */
  readonly exampleShape: readonly number[];
  readonly trainCount: number;
  /** 0 when there is no test split (epochs then report no test metrics). */
  readonly testCount: number;
  /** One epoch of training batches, shuffled from `request.seed`. */
  trainBatches(request: EpochRequest): Batches;
  /** The test split in a fixed order. */
  testBatches(batchSize: number): Batches;
}

/** How many batches one epoch has. */
export function batchesPerEpoch(examples: number, batchSize: number, dropRemainder: boolean): number {
  return dropRemainder ? Math.floor(examples / batchSize) : Math.ceil(examples / batchSize);
}

/**
 * The seed of one epoch's shuffle: a hash of (run seed, epoch), so that neighbouring seeds or
 * epochs give unrelated orders (seed + epoch would make run s's epoch 1 repeat run s+1's epoch 0).
 */
export function epochSeed(dataSeed: number, epoch: number): number {
  let hash = Math.imul((dataSeed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 13) ^ Math.imul(epoch + 1, 0xc2b2ae35), 0x27d4eb2f) >>> 0;
  return (hash ^ (hash >>> 16)) >>> 0;
}

export interface DatasetTrainingOptions {
  /** Use only the first examples of each split (a quick run on part of a dataset). */
  readonly trainLimit?: number;
  readonly testLimit?: number;
}

/** A dataset from the data module, normalised with its training-split statistics. */
export function datasetTrainingData(dataset: ImageDataset, options: DatasetTrainingOptions = {}): TrainingData {
  const { train, test, normalization } = dataset;
  const trainCount = Math.min(train.count, options.trainLimit ?? train.count);
  const testCount = Math.min(test.count, options.testLimit ?? test.count);
  return {
    exampleShape: [train.height, train.width, train.channels],
    trainCount,
    testCount,
    trainBatches: ({ batchSize, seed, augment, dropRemainder }) =>
      batches(train, normalization, { batchSize, shuffle: true, seed, augment, dropRemainder, limit: trainCount }),
    testBatches: (batchSize) => batches(test, normalization, { batchSize, limit: testCount }),
  };
}

/** Examples already in memory: `x` holds them one after another, `labels` one class each. */
export interface ArraySplit {
  readonly x: Float32Array;
  readonly labels: ArrayLike<number>;
}

/** Training data from arrays (synthetic data, activations read from files). No augmentation. */
export function arrayTrainingData(exampleShape: readonly number[], train: ArraySplit, test?: ArraySplit): TrainingData {
  const exampleSize = exampleShape.reduce((a, b) => a * b, 1);
  const batchesOf = function* (split: ArraySplit, order: ArrayLike<number>, batchSize: number, dropRemainder: boolean): Generator<LabelledBatch> {
    for (let start = 0; start < order.length; start += batchSize) {
      const size = Math.min(batchSize, order.length - start);
      if (size < batchSize && dropRemainder) return;
      const x = new Float32Array(size * exampleSize);
      const labels = new Int32Array(size);
      for (let i = 0; i < size; i++) {
        const index = order[start + i];
        x.set(split.x.subarray(index * exampleSize, (index + 1) * exampleSize), i * exampleSize);
        labels[i] = split.labels[index];
      }
      yield { x, labels, size };
    }
  };
  const inOrder = (count: number) => Uint32Array.from({ length: count }, (_, i) => i);
  return {
    exampleShape,
    trainCount: train.labels.length,
    testCount: test?.labels.length ?? 0,
    trainBatches: ({ batchSize, seed, dropRemainder }) => batchesOf(train, shuffledIndices(train.labels.length, seededRandom(seed)), batchSize, dropRemainder),
    testBatches: (batchSize) => (test ? batchesOf(test, inOrder(test.labels.length), batchSize, false) : []),
  };
}
