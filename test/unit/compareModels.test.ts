import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { compareModels as compareModelsOn, type CompareModelsOptions, type CompareProgress, type CompareState, type ComparedModel, type EvaluationData } from '../../src/engine/activations/index.js';
import type { OnnxRuntime } from '../../src/engine/onnx/runtime.js';
import { ckaMatrix, firstPcVarianceFraction, LINEAR, type LayerActivations } from '../../src/engine/similarity/index.js';
import { seededRandom } from '../../src/engine/random.js';
import { testBackend } from '../helpers/backend.js';
import { testOnnxRuntime } from '../helpers/engines.js';
import { assertMatrixClose } from '../helpers/fixtures.js';

const LAYERS = ['c1', 'c1/relu', 'c2', 'c2/relu', 'pool'];

function smallConvNet(seed: number): tfl.LayersModel {
  const init = (k: number) => tfl.initializers.heNormal({ seed: seed * 100 + k });
  const input = tfl.input({ shape: [6, 6, 1] });
  let x = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'c1', kernelInitializer: init(1) }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu', name: 'c1/relu' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 'c2', kernelInitializer: init(2) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu', name: 'c2/relu' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'head', kernelInitializer: init(3) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

function syntheticData(count: number): EvaluationData {
  const random = seededRandom(42);
  const images = Float32Array.from({ length: count * 36 }, () => random() * 2 - 1);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  return {
    count,
    exampleShape: [6, 6, 1],
    labels,
    classNames: ['zero', 'one', 'two'],
    inputs(examples) {
      const indices = examples instanceof Uint32Array ? Array.from(examples) : Array.from({ length: examples.end - examples.start }, (_, i) => examples.start + i);
      const out = new Float32Array(indices.length * 36);
      indices.forEach((index, k) => out.set(images.subarray(index * 36, (index + 1) * 36), k * 36));
      return out;
    },
  };
}

/** Every selected layer's outputs over all examples, as the activation-file path would read them. */
function allActivations(model: tfl.LayersModel, data: EvaluationData): LayerActivations[] {
  const input = tf.tensor(data.inputs({ start: 0, end: data.count }), [data.count, 6, 6, 1]);
  const outputs = model.execute(input, LAYERS.map((n) => (model.getLayer(n).output as tfl.SymbolicTensor).name)) as tf.Tensor[];
  const layers = LAYERS.map((name, i) => ({ name, shape: outputs[i].shape, data: outputs[i].dataSync() as Float32Array }));
  tf.dispose([input, ...outputs]);
  return layers;
}

const ENGINES: readonly { name: string; runtime: () => Promise<OnnxRuntime | null>; description: string }[] = [
  { name: 'ONNX Runtime, grams fused into the exported models', runtime: testOnnxRuntime, description: 'ONNX Runtime' },
  { name: 'TensorFlow.js', runtime: async () => null, description: 'TensorFlow.js' },
];

for (const engine of ENGINES) describe(`compareModels on ${engine.name}`, () => {
  let modelA: tfl.LayersModel;
  let modelB: tfl.LayersModel;
  let runtime: OnnxRuntime | null;
  const data = syntheticData(96);
  const compareModels = async (a: ComparedModel, b: ComparedModel, d: EvaluationData, options: CompareModelsOptions = {}, onProgress?: (p: CompareProgress) => void) => {
    const result = await compareModelsOn(a, b, d, { ...options, runtime }, onProgress);
    assert.ok(result.engines.a.startsWith(engine.description) && result.engines.b.startsWith(engine.description), JSON.stringify(result.engines));
    return result;
  };

  before(async () => {
    await testBackend();
    runtime = await engine.runtime();
    modelA = smallConvNet(1);
    modelB = smallConvNet(2);
  });

  test('the permutation test and cell details equal the activation-file path\'s, and resume after an interruption', async () => {
    const options = { batchSize: 32, passes: 2, seed: 5, permutations: { permutations: 20, seed: 5 }, details: true } as const;
    const comparison = await compareModels({ model: modelA, layers: LAYERS }, { model: modelB, layers: LAYERS }, data, options);
    const reference = await ckaMatrix(allActivations(modelA, data), allActivations(modelB, data), { kernel: LINEAR, estimator: 'minibatch', ...options });
    const significance = comparison.significance!;
    assert.equal(significance.permutations, 20);
    assertMatrixClose(significance.nullMean as number[][], reference.significance!.nullMean as number[][], 1e-4, 'null mean');
    assertMatrixClose(significance.calibrated as number[][], reference.significance!.calibrated as number[][], 1e-4, 'calibrated');
    const details = comparison.details!;
    assert.equal(details.perBatch[0][0].length, comparison.cka.batches);
    assertMatrixClose(details.perBatch.map((row) => row.map((cell) => cell[0]!)), reference.details!.perBatch.map((row) => row.map((cell) => cell[0]!)), 1e-4, 'first batch');
    assert.deepEqual(details.top![1][2].map((e) => e.example).slice(0, 3), reference.details!.top![1][2].map((e) => e.example).slice(0, 3));

    // Interrupted after 3 batches, resumed from the saved state: the same test.
    const controller = new AbortController();
    let saved: CompareState | undefined;
    await assert.rejects(
      compareModels({ model: modelA, layers: LAYERS }, { model: modelB, layers: LAYERS }, data, { ...options, signal: controller.signal }, (p) => {
        if (p.step === 3) {
          saved = JSON.parse(JSON.stringify(p.state!()));
          controller.abort();
        }
      }),
    );
    const resumed = await compareModels({ model: modelA, layers: LAYERS }, { model: modelB, layers: LAYERS }, data, { ...options, resumeFrom: saved });
    assert.deepEqual(resumed.significance!.pValue, significance.pValue);
    assertMatrixClose(resumed.significance!.nullMean as number[][], significance.nullMean as number[][], 1e-9, 'resumed null mean');
    assert.equal(resumed.details!.top, undefined, 'no per-example shares after a resume');
    assert.match(resumed.details!.contributionsMethod, /resumed/);
  });

  test('streams the same minibatch CKA as the activation-file path, batch by batch', async () => {
    const updates: number[] = [];
    const comparison = await compareModels({ model: modelA, layers: LAYERS }, { model: modelB, layers: LAYERS }, data, { batchSize: 32, passes: 2, seed: 5 }, (p) => {
      assert.equal(p.phase, 'cka');
      assert.equal(p.result!.batches, p.step);
      updates.push(p.step);
    });
    assert.deepEqual(updates, [1, 2, 3, 4, 5, 6]);
    const reference = await ckaMatrix(allActivations(modelA, data), allActivations(modelB, data), { kernel: LINEAR, estimator: 'minibatch', batchSize: 32, passes: 2, seed: 5 });
    assertMatrixClose(comparison.cka.matrix, reference.matrix as number[][], 1e-5, 'streamed vs files');
    assertMatrixClose(comparison.cka.stderr, reference.stderr as number[][], 1e-5, 'stderr');
    assert.deepEqual(comparison.cka.layersA, LAYERS);
  });

  test('self-comparison has a diagonal of 1; agreement is total; first-PC matches the direct value', async () => {
    const comparison = await compareModels({ model: modelA, layers: LAYERS }, { model: modelA, layers: LAYERS }, data, { batchSize: 96, firstPc: true, agreement: true });
    comparison.cka.matrix.forEach((row, i) => assert.ok(Math.abs(row[i]! - 1) < 1e-6));
    assert.equal(comparison.agreement!.agreement, 1);
    assert.equal(comparison.agreement!.perClass.length, 3);
    assert.equal(comparison.agreement!.perClass[1].name, 'one');
    const [activations] = [allActivations(modelA, data)];
    activations.forEach((layer, i) => {
      const x = tf.tensor(layer.data, [...layer.shape]);
      assert.ok(Math.abs(comparison.firstPc!.a[i]! - firstPcVarianceFraction(x)!) < 1e-5, layer.name);
      x.dispose();
    });
  });

  test('per-class agreement of two different models is counted per example', async () => {
    const comparison = await compareModels({ model: modelA, layers: ['pool'] }, { model: modelB, layers: ['pool'] }, data, { batchSize: 32, agreement: true });
    const { perExample, agreement, perClass } = comparison.agreement!;
    assert.equal(perExample.index.length, 96);
    const same = perExample.predictedA.filter((p, k) => p === perExample.predictedB[k]).length;
    assert.equal(agreement, same / 96);
    assert.equal(perClass.reduce((s, c) => s + c.examples, 0), 96);
  });

  test('leftover examples: 100 in batches of 32 use a last batch of 4 (the CKA of the activation-file path); agreement counts all 100', async () => {
    const data100 = syntheticData(100);
    const options = { batchSize: 32, passes: 2, seed: 5 };
    const comparison = await compareModels({ model: modelA, layers: LAYERS }, { model: modelB, layers: LAYERS }, data100, { ...options, agreement: true });
    assert.equal(comparison.cka.batches, 8);
    assert.equal(comparison.cka.examples, 100);
    assert.deepEqual(comparison.cka.warnings, []);
    const reference = await ckaMatrix(allActivations(modelA, data100), allActivations(modelB, data100), { kernel: LINEAR, estimator: 'minibatch', ...options });
    assertMatrixClose(comparison.cka.matrix, reference.matrix as number[][], 1e-5, 'with a partial batch');
    assertMatrixClose(comparison.cka.stderr, reference.stderr as number[][], 1e-5, 'stderr with a partial batch');
    assert.equal(comparison.cka.stderrMethod, reference.stderrMethod);
    assert.equal(comparison.agreement!.perExample.index.length, 100);
    assert.deepEqual([...comparison.agreement!.perExample.index].sort((x, y) => x - y), [...Array(100).keys()]);
  });

  test('fewer than 4 left over: 98 in batches of 32 leave out 2, and say so', async () => {
    const data98 = syntheticData(98);
    const comparison = await compareModels({ model: modelA, layers: ['pool'] }, { model: modelB, layers: ['pool'] }, data98, { batchSize: 32, agreement: true });
    assert.equal(comparison.cka.batches, 3);
    assert.equal(comparison.cka.examples, 96);
    assert.equal(comparison.agreement!.examples, 96);
    assert.match(comparison.cka.warnings.join('\n'), /98 examples are 3 batches of 32 and 2 left over.*the last 2 examples were left out, 96 used/);
  });

  test('first-PC share is pooled over batches (Σλ₁ / Σ trace) and says what it is', async () => {
    const comparison = await compareModels({ model: modelA, layers: LAYERS }, { model: modelA, layers: LAYERS }, data, { batchSize: 32, firstPc: true });
    const activations = allActivations(modelA, data);
    activations.forEach((layer, i) => {
      let top = 0;
      let trace = 0;
      for (let start = 0; start < 96; start += 32) {
        const cols = layer.data.length / 96;
        const x = tf.tensor(layer.data.slice(start * cols, (start + 32) * cols), [32, cols]);
        const centred = tf.tidy(() => tf.sub(x, tf.mean(x, 0, true)));
        const total = tf.tidy(() => tf.sum(tf.square(centred)).dataSync()[0]);
        top += firstPcVarianceFraction(x)! * total;
        trace += total;
        tf.dispose([x, centred]);
      }
      assert.ok(Math.abs(comparison.firstPc!.a[i]! - top / trace) < 1e-4, `${layer.name}: ${comparison.firstPc!.a[i]} vs ${top / trace}`);
    });
    assert.match(comparison.firstPcMethod!, /pooled over 3 batches of up to 32 examples.*biased upward/);
  });

  test('a saved state from before the jackknife is not resumed: the comparison starts again and says so', async () => {
    const options = { batchSize: 32, firstPc: true, agreement: true };
    const whole = await compareModels({ model: modelA, layers: LAYERS }, { model: modelB, layers: LAYERS }, data, options);
    const cells = LAYERS.length * LAYERS.length;
    const old = {
      batchesDone: 2,
      accumulator: { layersA: LAYERS, layersB: LAYERS, batches: 2, crossSum: new Array(cells).fill(1), selfSumA: new Array(5).fill(1), selfSumB: new Array(5).fill(1), batchCkaSum: [], batchCkaSumSq: [], batchCkaCount: [] },
      firstPc: { a: { sums: [], counts: [] }, b: { sums: [], counts: [] } },
      agreement: { index: [], label: [], predictedA: [], predictedB: [] },
    };
    const resumed = await compareModels({ model: modelA, layers: LAYERS }, { model: modelB, layers: LAYERS }, data, { ...options, resumeFrom: old as never });
    assertMatrixClose(resumed.cka.matrix, whole.cka.matrix as number[][], 1e-12, 'started again');
    assert.deepEqual(resumed.firstPc, whole.firstPc);
    assert.match(resumed.cka.warnings.join('\n'), /older version of RepSim: the comparison started again/);
  });

  test('subspace match of corresponding layers: a model matches itself fully', async () => {
    const comparison = await compareModels({ model: modelA, layers: ['c1', 'c2'] }, { model: modelA, layers: ['c1', 'c2'] }, data, {
      batchSize: 32,
      subspaceMatch: { epsilons: [0.1, 0.3], examples: 64 },
    });
    assert.equal(comparison.subspaceMatch!.length, 2);
    for (const pair of comparison.subspaceMatch!) for (const r of pair.results) assert.equal(r.similarity, 1);
  });

  test('an interrupted comparison resumes from its saved state to the same result', async () => {
    const options = { batchSize: 16, passes: 2, seed: 3, firstPc: true, agreement: true };
    const whole = await compareModels({ model: modelA, layers: LAYERS }, { model: modelB, layers: LAYERS }, data, options);
    const controller = new AbortController();
    let saved: unknown;
    await assert.rejects(
      compareModels({ model: modelA, layers: LAYERS }, { model: modelB, layers: LAYERS }, data, { ...options, signal: controller.signal }, (p) => {
        saved = JSON.parse(JSON.stringify(p.state!()));
        if (p.step === 5) controller.abort();
      }),
      { name: 'AbortError' },
    );
    const resumed = await compareModels({ model: modelA, layers: LAYERS }, { model: modelB, layers: LAYERS }, data, { ...options, resumeFrom: saved as never });
    assertMatrixClose(resumed.cka.matrix, whole.cka.matrix as number[][], 1e-12, 'resumed');
    assertMatrixClose(resumed.cka.stderr, whole.cka.stderr as number[][], 1e-12, 'resumed stderr');
    assert.deepEqual(resumed.firstPc, whole.firstPc);
    assert.deepEqual(resumed.agreement, whole.agreement);
  });

  test('cancel stops between batches; unknown layers are named', async () => {
    const controller = new AbortController();
    let steps = 0;
    await assert.rejects(
      compareModels({ model: modelA, layers: LAYERS }, { model: modelB, layers: LAYERS }, data, { batchSize: 16, signal: controller.signal }, () => {
        if (++steps === 2) controller.abort();
      }),
      { name: 'AbortError' },
    );
    assert.equal(steps, 2);
    await assert.rejects(compareModels({ model: modelA, layers: ['nope'] }, { model: modelB, layers: LAYERS }, data), /model A has no layer named 'nope'/);
  });
});
