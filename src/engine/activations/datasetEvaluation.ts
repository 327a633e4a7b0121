/** A dataset's test split as evaluation data: normalised like training, no augmentation. */
import type { ImageDataset, Normalization } from '../data/index.js';
import { InputError } from '../errors.js';
import { normalizationTable, normalizeInto } from '../data/index.js';
import { exampleIndices, type EvaluationData } from './evaluationData.js';

/**
 * How a model wants its input pixels: 'dataset' (RepSim's per-channel normalisation, measured on
 * the training split: how RepSim's own models are trained), 'none' (the raw values 0‥255), or a
 * mean and standard deviation per channel on the [0, 1] scale (one number for every channel, or
 * one per channel): (pixel / 255 − mean) / std.
 */
export type InputNormalization = 'dataset' | 'none' | { readonly mean: number | readonly number[]; readonly std: number | readonly number[] };

/** The per-channel mean and std that `normalization` means for `dataset`. */
export function resolveNormalization(dataset: ImageDataset, normalization: InputNormalization = 'dataset'): Normalization {
  const channels = dataset.test.channels;
  if (normalization === 'dataset') return dataset.normalization;
  // Raw bytes: (v / 255 − 0) / (1 / 255) = v.
  if (normalization === 'none') return { mean: new Array(channels).fill(0), std: new Array(channels).fill(1 / 255) };
  const perChannel = (value: number | readonly number[], what: string): number[] => {
    const values = typeof value === 'number' ? new Array<number>(channels).fill(value) : [...value];
    if (values.length !== channels) throw new InputError(`input normalisation: ${values.length} ${what} values for the ${channels} channel${channels === 1 ? '' : 's'} of ${dataset.name}`, 'normalize');
    return values;
  };
  const std = perChannel(normalization.std, 'std');
  if (!std.every((s) => s > 0)) throw new InputError('input normalisation: every std must be > 0', 'normalize');
  return { mean: perChannel(normalization.mean, 'mean'), std };
}

/** The first `limit` (default: all) test examples of a dataset, normalised as `normalization` says (default: the dataset's own). */
export function testSetEvaluation(dataset: ImageDataset, limit?: number, normalization?: InputNormalization): EvaluationData {
  const split = dataset.test;
  const count = Math.min(limit ?? split.count, split.count);
  const pixels = split.height * split.width * split.channels;
  const table = normalizationTable(resolveNormalization(dataset, normalization), split.channels);
  return {
    count,
    exampleShape: [split.height, split.width, split.channels],
    labels: split.labels,
    classNames: dataset.classNames,
    inputs(examples) {
      const indices = exampleIndices(examples);
      const out = new Float32Array(indices.length * pixels);
      indices.forEach((index, k) => normalizeInto(split.images.subarray(index * pixels, (index + 1) * pixels), split.channels, table, out, k * pixels));
      return out;
    },
  };
}
