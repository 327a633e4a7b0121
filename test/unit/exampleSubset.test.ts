/**
 * Evaluation data and activations less some examples (a cell recomputed without the examples
 * that drive it): the kept examples in their original order, renumbered; bad indices refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleIndices, keptExamples, layerOfKept, withoutExamples, type EvaluationData } from '../../src/engine/activations/index.js';
import { InputError } from '../../src/engine/errors.js';
import { sliceBatch } from '../../src/engine/similarity/layers.js';

/** Ten examples of two values each: example i is [i, 10 + i]; label i % 3. */
function tenExamples(): EvaluationData & { readonly asked: number[][] } {
  const asked: number[][] = [];
  return {
    asked,
    count: 10,
    exampleShape: [1, 1, 2],
    labels: Uint8Array.from({ length: 10 }, (_, i) => i % 3),
    classNames: ['a', 'b', 'c'],
    inputs(examples) {
      const indices = [...exampleIndices(examples)];
      asked.push(indices);
      return Float32Array.from(indices.flatMap((i) => [i, 10 + i]));
    },
  };
}

test('withoutExamples: count reduced, batches read the kept originals in order, labels follow', () => {
  const data = tenExamples();
  const subset = withoutExamples(data, [7, 2, 2, 0]);
  assert.equal(subset.count, 7);
  assert.deepEqual(subset.exampleShape, [1, 1, 2]);
  assert.deepEqual(subset.classNames, ['a', 'b', 'c']);
  // Kept: 1 3 4 5 6 8 9.
  assert.deepEqual([...subset.inputs({ start: 0, end: 3 })], [1, 11, 3, 13, 4, 14]);
  assert.deepEqual([...subset.inputs(Uint32Array.from([6, 0, 4]))], [9, 19, 1, 11, 6, 16]);
  assert.deepEqual(data.asked, [
    [1, 3, 4],
    [9, 1, 6],
  ]);
  assert.deepEqual(Array.from(subset.labels!), [1, 0, 1, 2, 0, 2, 0]);
});

test('withoutExamples: nothing excluded is the data itself; no labels stay none', () => {
  const data = tenExamples();
  assert.equal(withoutExamples(data, []), data);
  const unlabelled = { ...data, labels: undefined };
  assert.equal(withoutExamples(unlabelled, [3]).labels, undefined);
  assert.equal(withoutExamples(data, Array.from({ length: 10 }, (_, i) => i)).count, 0);
});

test('an excluded index out of range or not a whole number is an InputError naming it', () => {
  const data = tenExamples();
  for (const bad of [10, -1, 2.5, Number.NaN]) {
    assert.throws(
      () => withoutExamples(data, [1, bad]),
      (error: unknown) => error instanceof InputError && error.input === 'exclude' && error.message.includes(`example ${bad} is out of range`) && error.message.includes('0‥9'),
    );
  }
  assert.deepEqual([...keptExamples(5, [4, 0])], [1, 2, 3]);
});

test('layerOfKept: rows copied for a layer in memory, read through for one read batch by batch', () => {
  const layer = { name: 'conv', shape: [5, 2, 1], data: Float32Array.from({ length: 10 }, (_, k) => k) };
  const kept = keptExamples(5, [1, 3]);
  const copied = layerOfKept(layer, kept);
  assert.deepEqual(copied.shape, [3, 2, 1]);
  assert.deepEqual([...copied.data], [0, 1, 4, 5, 8, 9]);
  const reads: number[][] = [];
  const streamed = {
    name: 'big',
    shape: [5, 2],
    get data(): Float32Array {
      throw new Error('not in memory');
    },
    readRows: (examples: Uint32Array | { start: number; end: number }) => {
      const rows = [...exampleIndices(examples)];
      reads.push(rows);
      return Float32Array.from(rows.flatMap((r) => [2 * r, 2 * r + 1]));
    },
  };
  const through = layerOfKept(streamed, kept);
  assert.deepEqual(through.shape, [3, 2]);
  assert.throws(() => through.data, /batch by batch/);
  assert.deepEqual([...sliceBatch(through, { start: 1, end: 3 }).data], [4, 5, 8, 9]);
  assert.deepEqual([...sliceBatch(through, Uint32Array.from([2, 0])).data], [8, 9, 0, 1]);
  assert.deepEqual(reads, [
    [2, 4],
    [4, 0],
  ]);
});
