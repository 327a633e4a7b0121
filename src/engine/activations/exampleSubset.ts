/**
 * Evaluation data (or activations) less some examples, for recomputing a cell without the
 * examples that drive it. The kept examples stay in their original order and are renumbered
 * 0‥kept−1, so a batch plan over the subset reads the originals through `kept`.
 */
import { InputError } from '../errors.js';
import type { LayerActivations } from '../similarity/layers.js';
import type { BatchPlan } from '../similarity/schedule.js';
import type { EvaluationData } from './evaluationData.js';

/**
 * The original indices of the examples kept when `exclude` is left out of `count`, in order.
 * Repeated indices count once; an index that is not a whole number in [0, count) is an InputError
 * naming `what`.
 */
export function keptExamples(count: number, exclude: Iterable<number>, what = 'exclude'): Uint32Array {
  const left = new Uint8Array(count);
  for (const index of exclude) {
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new InputError(`${what}: example ${index} is out of range: there are ${count} evaluation examples (0‥${count - 1})`, what);
    }
    left[index] = 1;
  }
  const kept = new Uint32Array(count - left.reduce((sum, v) => sum + v, 0));
  let k = 0;
  for (let i = 0; i < count; i++) if (!left[i]) kept[k++] = i;
  return kept;
}

/** The original indices of a batch of the subset (indices into `kept`). */
export function originalIndices(kept: Uint32Array, examples: BatchPlan['examples']): Uint32Array {
  if (!(examples instanceof Uint32Array)) return kept.subarray(examples.start, examples.end);
  return Uint32Array.from(examples, (i) => kept[i]);
}

/** Batch inputs of the kept examples, read from `inputs` of all examples. */
export function inputsOfKept(inputs: EvaluationData['inputs'], kept: Uint32Array): EvaluationData['inputs'] {
  return (examples) => inputs(originalIndices(kept, examples));
}

/**
 * `data` without the examples in `exclude` (evaluation indices): `count` less those, inputs and
 * labels of the kept examples in their original order. With nothing to exclude, `data` itself.
 */
export function withoutExamples(data: EvaluationData, exclude: Iterable<number>): EvaluationData {
  const kept = keptExamples(data.count, exclude);
  if (kept.length === data.count) return data;
  return withKeptExamples(data, kept);
}

/** `data` restricted to the examples `kept` (original indices, in order; see keptExamples). */
export function withKeptExamples(data: EvaluationData, kept: Uint32Array): EvaluationData {
  const labels = data.labels;
  return {
    count: kept.length,
    exampleShape: data.exampleShape,
    labels: labels === undefined ? undefined : Int32Array.from(kept, (i) => labels[i]),
    classNames: data.classNames,
    inputs: inputsOfKept(data.inputs, kept),
  };
}

/**
 * A layer's activations for the kept examples only (original indices, in order): the rows copied
 * for a layer held in memory, read through for one read from its file batch by batch.
 */
export function layerOfKept(layer: LayerActivations, kept: Uint32Array): LayerActivations {
  const shape = [kept.length, ...layer.shape.slice(1)];
  const readRows = layer.readRows;
  if (readRows) {
    return {
      name: layer.name,
      shape,
      get data(): Float32Array {
        throw new Error(`layer '${layer.name}' is read from its file batch by batch: use readRows`);
      },
      readRows: (examples) => readRows(originalIndices(kept, examples)),
    };
  }
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  const data = new Float32Array(kept.length * cols);
  kept.forEach((row, r) => data.set(layer.data.subarray(row * cols, (row + 1) * cols), r * cols));
  return { name: layer.name, shape, data };
}
