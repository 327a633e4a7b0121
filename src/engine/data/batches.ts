/**
 * One epoch of minibatches from a split: normalised float images, optionally shuffled and
 * augmented, reproducible from a seed.
 */
import { InputError } from '../errors.js';
import { seededRandom, shuffledIndices } from '../random.js';
import { AUGMENT_PADDING, randomTransform, transformImage } from './augment.js';
import { normalizationTable, normalizeInto } from './normalize.js';
import type { ImageSplit, Normalization } from './types.js';

export interface Batch {
  /** size·height·width·channels normalised values, image after image, HWC. */
  readonly x: Float32Array;
  readonly labels: Int32Array;
  /** The examples' indices in the split. */
  readonly indices: Uint32Array;
  readonly size: number;
}

export interface BatchOptions {
  readonly batchSize: number;
  /** A new random order (from `seed`) instead of the split's order. */
  readonly shuffle?: boolean;
  /**
   * Seeds the order and the augmentation (default 0). Pass a different seed per epoch (e.g.
   * seed + epoch) for a different order each epoch. The two use separate streams, so turning
   * augmentation on does not change the order.
   */
  readonly seed?: number;
  /** Random crop from zero padding of AUGMENT_PADDING pixels, and random horizontal flip. */
  readonly augment?: boolean;
  /** Leave out a last batch smaller than batchSize. */
  readonly dropRemainder?: boolean;
  /** Use only the split's first `limit` examples (a fixed subset; shuffled among themselves). */
  readonly limit?: number;
}

/** Mixed into the seed to give augmentation its own random stream. */
const AUGMENT_STREAM = 0x5bd1e995;

/** How many batches `batches(split, …, options)` yields. */
export function batchCount(split: ImageSplit, options: BatchOptions): number {
  const examples = exampleCount(split, options);
  return options.dropRemainder ? Math.floor(examples / options.batchSize) : Math.ceil(examples / options.batchSize);
}

function exampleCount(split: ImageSplit, options: BatchOptions): number {
  const { batchSize, limit, seed } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batch size ${batchSize}: expected a whole number ≥ 1`, 'batchSize');
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new InputError(`limit ${limit}: expected a whole number ≥ 0`, 'limit');
  if (seed !== undefined && !Number.isFinite(seed)) throw new InputError(`seed ${seed}: expected a finite number`, 'seed');
  return Math.min(split.count, limit ?? split.count);
}

/** Yields one epoch of batches; each batch owns its arrays. */
export function* batches(split: ImageSplit, normalization: Normalization, options: BatchOptions): Generator<Batch> {
  const examples = exampleCount(split, options);
  const { batchSize, shuffle = false, seed = 0, augment = false, dropRemainder = false } = options;
  const { height, width, channels, images, labels } = split;
  const imageSize = height * width * channels;
  const table = normalizationTable(normalization, channels);

  let order: Uint32Array;
  if (shuffle) order = shuffledIndices(examples, seededRandom(seed));
  else {
    order = new Uint32Array(examples);
    for (let i = 0; i < examples; i++) order[i] = i;
  }
  const augmentRandom = seededRandom(seed ^ AUGMENT_STREAM);
  const transformed = new Uint8Array(imageSize);

  for (let start = 0; start < examples; start += batchSize) {
    const size = Math.min(batchSize, examples - start);
    if (size < batchSize && dropRemainder) return;
    const x = new Float32Array(size * imageSize);
    const batchLabels = new Int32Array(size);
    const indices = order.slice(start, start + size);
    for (let i = 0; i < size; i++) {
      const index = indices[i];
      batchLabels[i] = labels[index];
      const offset = index * imageSize;
      if (augment) {
        transformImage(images, offset, height, width, channels, randomTransform(augmentRandom, AUGMENT_PADDING), transformed);
        normalizeInto(transformed, channels, table, x, i * imageSize);
      } else {
        normalizeInto(images.subarray(offset, offset + imageSize), channels, table, x, i * imageSize);
      }
    }
    yield { x, labels: batchLabels, indices, size };
  }
}
