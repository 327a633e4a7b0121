/**
 * The CKA matrix of two zoo models computed on ONNX Runtime (grams fused into the exported
 * graphs) equals TensorFlow.js's within 1e-5, for every zoo family; a model with a layer the
 * exporter does not know runs on TensorFlow.js, and the log names the layer.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { compareModels, type EvaluationData } from '../../src/engine/activations/index.js';
import { buildModel, parseArchitecture, selectLayers } from '../../src/engine/models/index.js';
import type { OnnxRuntime } from '../../src/engine/onnx/runtime.js';
import { seededRandom } from '../../src/engine/random.js';
import { rbf } from '../../src/engine/similarity/index.js';
import { testBackend } from '../helpers/backend.js';
import { testOnnxRuntime } from '../helpers/engines.js';
import { assertMatrixClose } from '../helpers/fixtures.js';

function randomImages(count: number, shape: readonly number[], seed: number): EvaluationData {
  const size = shape.reduce((a, b) => a * b, 1);
  const random = seededRandom(seed);
  const images = Float32Array.from({ length: count * size }, () => random() * 2 - 1);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return {
    count,
    exampleShape: shape,
    labels,
    inputs(examples) {
      const indices = examples instanceof Uint32Array ? Array.from(examples) : Array.from({ length: examples.end - examples.start }, (_, i) => examples.start + i);
      const out = new Float32Array(indices.length * size);
      indices.forEach((index, k) => out.set(images.subarray(index * size, (index + 1) * size), k * size));
      return out;
    },
  };
}

/** Non-trivial batch-norm statistics, so that BN is really checked (fresh models have identity BN). */
function randomiseBatchNorm(model: tfl.LayersModel, seed: number): void {
  const random = seededRandom(seed);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const weights = layer.getWeights();
    const replaced = weights.map((w, k) => {
        const values = Float32Array.from({ length: w.size }, () => (k === 3 ? 0.5 + random() : k === 0 ? 0.5 + random() : random() - 0.5));
        return tf.tensor(values, w.shape);
      });
    layer.setWeights(replaced);
    tf.dispose(replaced);
  }
}

describe('CKA on ONNX Runtime equals TensorFlow.js for the model zoo', () => {
  let runtime: OnnxRuntime;
  before(async () => {
    await testBackend();
    runtime = await testOnnxRuntime();
  });

  for (const [architecture, selection] of [
    ['resnet-8', 'all'],
    ['resnet-14-w2', 'blocks'],
    ['plain-cnn-4', 'all'],
    ['resnet-50', 'blocks'],
  ] as const) {
    test(`${architecture}, layers '${selection}': all pairs within 1e-5, first-PC and agreement equal`, async () => {
      const build = (seed: number) => {
        const model = buildModel(parseArchitecture(architecture), { inputShape: [32, 32, 3], numClasses: 10, seed });
        randomiseBatchNorm(model, seed + 10);
        return model;
      };
      const a = build(1);
      const b = build(2);
      const data = randomImages(architecture === 'resnet-50' ? 32 : 64, [32, 32, 3], 7);
      const layersA = selectLayers(a, selection);
      const layersB = selectLayers(b, selection);
      const options = { batchSize: architecture === 'resnet-50' ? 16 : 32, passes: 1, firstPc: true, agreement: true };
      const onnx = await compareModels({ model: a, layers: layersA }, { model: b, layers: layersB }, data, { ...options, runtime });
      const tfjs = await compareModels({ model: a, layers: layersA }, { model: b, layers: layersB }, data, { ...options, runtime: null });
      assert.deepEqual(onnx.engines, { a: `ONNX Runtime ${runtime.provider}`, b: `ONNX Runtime ${runtime.provider}` });
      assert.deepEqual(tfjs.engines, { a: 'TensorFlow.js', b: 'TensorFlow.js' });
      assertMatrixClose(onnx.cka.matrix, tfjs.cka.matrix as number[][], 1e-5, `${architecture} CKA`);
      assertMatrixClose([onnx.firstPc!.a, onnx.firstPc!.b], [tfjs.firstPc!.a, tfjs.firstPc!.b] as number[][], 1e-5, `${architecture} first PC`);
      assert.deepEqual(onnx.agreement!.perExample, tfjs.agreement!.perExample);
      a.dispose();
      b.dispose();
    });
  }

  test('the RBF kernel too', async () => {
    const a = buildModel(parseArchitecture('resnet-8'), { inputShape: [32, 32, 3], numClasses: 10, seed: 3 });
    const data = randomImages(64, [32, 32, 3], 8);
    const layers = selectLayers(a, 'blocks');
    const options = { batchSize: 32, kernel: rbf(0.8) };
    const onnx = await compareModels({ model: a, layers }, { model: a, layers: layers.slice().reverse() }, data, { ...options, runtime });
    const tfjs = await compareModels({ model: a, layers }, { model: a, layers: layers.slice().reverse() }, data, { ...options, runtime: null });
    assertMatrixClose(onnx.cka.matrix, tfjs.cka.matrix as number[][], 1e-5, 'rbf');
    a.dispose();
  });

  test('a layer the exporter does not know: that model runs on TensorFlow.js, and the log names the layer', async () => {
    const input = tfl.input({ shape: [8, 8, 1] });
    let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv', kernelInitializer: tfl.initializers.heNormal({ seed: 1 }) }).apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.conv2dTranspose({ filters: 4, kernelSize: 3, name: 'deconv', kernelInitializer: tfl.initializers.heNormal({ seed: 2 }) }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
    const unusual = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 3, name: 'head' }).apply(x) as tfl.SymbolicTensor });
    const inputB = tfl.input({ shape: [8, 8, 1] });
    const y = tfl.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv', kernelInitializer: tfl.initializers.heNormal({ seed: 3 }) }).apply(inputB) as tfl.SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(y) as tfl.SymbolicTensor;
    const plain = tfl.model({ inputs: inputB, outputs: tfl.layers.dense({ units: 3, name: 'head' }).apply(pooled) as tfl.SymbolicTensor });
    const logs: string[] = [];
    const data = randomImages(32, [8, 8, 1], 9);
    const mixed = await compareModels({ model: unusual, layers: ['conv', 'deconv', 'pool'], label: "model 'odd'" }, { model: plain, layers: ['conv', 'pool'] }, data, { batchSize: 16, runtime, log: (m) => logs.push(m) });
    assert.deepEqual(mixed.engines, { a: 'TensorFlow.js', b: `ONNX Runtime ${runtime.provider}` });
    assert.equal(logs.length, 1);
    assert.match(logs[0], /^model 'odd': cannot export layer 'deconv' \(Conv2DTranspose\) to ONNX: .*; its forward pass and grams run on TensorFlow\.js$/);
    const reference = await compareModels({ model: unusual, layers: ['conv', 'deconv', 'pool'] }, { model: plain, layers: ['conv', 'pool'] }, data, { batchSize: 16, runtime: null });
    assertMatrixClose(mixed.cka.matrix, reference.cka.matrix as number[][], 1e-5, 'mixed engines');
  });
});
