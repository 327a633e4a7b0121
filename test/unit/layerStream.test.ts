import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { planExecution, streamLayerOutputs } from '../../src/engine/activations/layerStream.js';
import { testBackend } from '../helpers/backend.js';

before(testBackend);

/** A small residual net: conv → bn → relu → (conv → add with the skip) → pool → dense. */
function residualNet(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 2] });
  const conv1 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'stem/conv', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: 'stem/bn' }).apply(conv1) as tfl.SymbolicTensor;
  const relu = tfl.layers.activation({ activation: 'relu', name: 'stem/relu' }).apply(bn) as tfl.SymbolicTensor;
  const conv2 = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'block/conv', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(relu) as tfl.SymbolicTensor;
  const added = tfl.layers.add({ name: 'block/add' }).apply([conv2, relu]) as tfl.SymbolicTensor;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(added) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'head', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }).apply(pooled) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits });
}

test('streams each selected layer output in forward order, equal to the model’s own execution', () => {
  const model = residualNet();
  const plan = planExecution(model);
  const x = tf.randomNormal([5, 8, 8, 2], 0, 1, 'float32', 7);
  const names = ['stem/conv', 'stem/bn', 'stem/relu', 'block/conv', 'block/add', 'pool'];
  const fetches = [...names.map((n) => (model.getLayer(n).output as tfl.SymbolicTensor).name), model.outputs[0].name];
  const expected = model.execute(x, fetches) as tf.Tensor[];
  const seen: string[] = [];
  const output = streamLayerOutputs(model, plan, x, new Set(names), (name, tensor) => {
    seen.push(name);
    const want = expected[names.indexOf(name)];
    assert.ok(tf.max(tf.abs(tf.sub(tensor, want))).dataSync()[0] < 1e-5, name);
  });
  assert.deepEqual(seen, names);
  assert.ok(tf.max(tf.abs(tf.sub(output, expected[names.length]))).dataSync()[0] < 1e-6);
  tf.dispose([x, output, ...expected]);
});

test('frees every intermediate tensor: nothing leaks per batch', () => {
  const model = residualNet();
  const plan = planExecution(model);
  const x = tf.randomNormal([4, 8, 8, 2], 0, 1, 'float32', 8);
  const run = () => streamLayerOutputs(model, plan, x, new Set(['stem/relu', 'block/add']), () => undefined).dispose();
  run(); // warm-up (lazy weight initialisation, kernels)
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) run();
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});
