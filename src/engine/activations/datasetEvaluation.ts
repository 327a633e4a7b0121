/** A dataset's test split as evaluation data: normalised like training, no augmentation. */
import type { ImageDataset } from '../data/index.js';
import { normalizationTable, normalizeInto } from '../data/index.js';
import { exampleIndices, type EvaluationData } from './evaluationData.js';

/** The first `limit` (default: all) test examples of a dataset. */
export function testSetEvaluation(dataset: ImageDataset, limit?: number): EvaluationData {
  const split = dataset.test;
  const count = Math.min(limit ?? split.count, split.count);
  const pixels = split.height * split.width * split.channels;
  const table = normalizationTable(dataset.normalization, split.channels);
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
