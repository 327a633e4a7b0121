/** A layer's activations over all examples: row-major [examples, ...features]. */
import { InputError } from '../errors.js';
import type { LayerBatch } from './centeredGrams.js';
import type { BatchPlan } from './schedule.js';

export interface LayerActivations {
  readonly name: string;
  /** [examples, ...]; a neuron (channel) is the last axis. */
  readonly shape: readonly number[];
  /** Every row, row-major. A layer with `readRows` is not held in memory: reading `data` throws. */
  readonly data: Float32Array;
  /** For a layer too large to hold (read from its file batch by batch): the rows of one batch, row-major. */
  readonly readRows?: (examples: BatchPlan['examples']) => Float32Array;
}

export function exampleCount(layer: LayerActivations): number {
  return layer.shape[0] ?? 0;
}

export function featureCount(layer: LayerActivations): number {
  return layer.shape.slice(1).reduce((a, b) => a * b, 1);
}

/** One batch of a layer: a view for a contiguous range, a gathered copy for shuffled rows. */
export function sliceBatch(layer: LayerActivations, examples: BatchPlan['examples']): LayerBatch {
  const cols = featureCount(layer);
  if (layer.readRows) {
    return { rows: examples instanceof Uint32Array ? examples.length : examples.end - examples.start, cols, data: layer.readRows(examples) };
  }
  if (!(examples instanceof Uint32Array)) {
    return { rows: examples.end - examples.start, cols, data: layer.data.subarray(examples.start * cols, examples.end * cols) };
  }
  const data = new Float32Array(examples.length * cols);
  examples.forEach((row, r) => data.set(layer.data.subarray(row * cols, (row + 1) * cols), r * cols));
  return { rows: examples.length, cols, data };
}

/** All layers of both models must describe the same examples. */
export function assertSameExamples(layersA: readonly LayerActivations[], layersB: readonly LayerActivations[], labels = { a: 'model A', b: 'model B' }): number {
  const all = [...layersA.map((l) => ({ l, model: labels.a })), ...layersB.map((l) => ({ l, model: labels.b }))];
  if (all.length === 0) throw new InputError('no layers to compare');
  const first = all[0];
  const n = exampleCount(first.l);
  for (const { l, model } of all) {
    if (exampleCount(l) !== n) {
      throw new InputError(`${model} layer '${l.name}' has ${exampleCount(l)} examples but ${first.model} layer '${first.l.name}' has ${n}: both models must see the same examples`, l.name);
    }
  }
  return n;
}
