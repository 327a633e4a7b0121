import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { layerOutputs, planExecution, streamLayerOutputs } from '../../src/engine/activations/layerStream.js';
import { compareModels } from '../../src/engine/activations/compareModels.js';
import { selectLayers } from '../../src/engine/models/index.js';
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

/**
 * input → backbone (a Sequential: c1 → r1) → block (a functional model: fc → fr) → shared → shared
 * (one layer applied twice) → pool → head.
 */
function nestedNet(): { model: tfl.LayersModel; reference: (x: tf.Tensor) => Map<string, tf.Tensor> } {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const backbone = tfl.sequential({
    name: 'backbone',
    layers: [
      tfl.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3, padding: 'same', name: 'c1', kernelInitializer: init(1) }),
      tfl.layers.activation({ activation: 'relu', name: 'r1' }),
    ],
  });
  const blockInput = tfl.input({ shape: [6, 6, 3] });
  const fc = tfl.layers.conv2d({ filters: 4, kernelSize: 1, name: 'fc', kernelInitializer: init(2) });
  const fr = tfl.layers.activation({ activation: 'tanh', name: 'fr' });
  const block = tfl.model({ inputs: blockInput, outputs: fr.apply(fc.apply(blockInput)) as tfl.SymbolicTensor, name: 'block' });
  const shared = tfl.layers.conv2d({ filters: 4, kernelSize: 1, name: 'shared', kernelInitializer: init(3) });
  const input = tfl.input({ shape: [6, 6, 1] });
  let x = block.apply(backbone.apply(input)) as tfl.SymbolicTensor;
  x = shared.apply(shared.apply(x)) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const head = tfl.layers.dense({ units: 2, activation: 'softmax', name: 'head', kernelInitializer: init(4) });
  const model = tfl.model({ inputs: input, outputs: head.apply(x) as tfl.SymbolicTensor });
  const apply = (layer: tfl.layers.Layer, t: tf.Tensor) => layer.apply(t) as tf.Tensor;
  const reference = (x: tf.Tensor) => {
    const out = new Map<string, tf.Tensor>();
    out.set('backbone/c1', apply(backbone.layers[0], x));
    out.set('backbone/r1', apply(backbone.layers[1], out.get('backbone/c1')!));
    out.set('block/fc', apply(fc, out.get('backbone/r1')!));
    out.set('block/fr', apply(fr, out.get('block/fc')!));
    out.set('shared', apply(shared, out.get('block/fr')!));
    out.set('shared#2', apply(shared, out.get('shared')!));
    out.set('pool', tf.mean(out.get('shared#2')!, [1, 2]));
    return out;
  };
  return { model, reference };
}

test('nested models contribute their own layers; a shared layer each of its applications', () => {
  const { model, reference } = nestedNet();
  const expectedNames = ['backbone/c1', 'backbone/r1', 'block/fc', 'block/fr', 'shared', 'shared#2', 'pool'];
  assert.deepEqual(selectLayers(model, 'all'), expectedNames);
  assert.deepEqual(layerOutputs(model).map((o) => o.name), [...expectedNames, 'head']);
  const x = tf.randomNormal([5, 6, 6, 1], 0, 1, 'float32', 9);
  const want = reference(x);
  const seen: string[] = [];
  const plan = planExecution(model);
  const output = streamLayerOutputs(model, plan, x, new Set(expectedNames), (name, tensor) => {
    seen.push(name);
    assert.ok(tf.max(tf.abs(tf.sub(tensor, want.get(name)!))).dataSync()[0] < 1e-5, name);
  });
  assert.deepEqual(seen, expectedNames, 'each output visited once, in forward order');
  const before = tf.memory().numTensors;
  streamLayerOutputs(model, plan, x, new Set(expectedNames), () => undefined).dispose();
  assert.equal(tf.memory().numTensors, before, 'nothing leaks through nested models');
  tf.dispose([x, output, ...want.values()]);
});

test('compareModels over a nested, shared-layer model: each application its own row (TF.js, and ONNX Runtime falling back to it)', async () => {
  const { model } = nestedNet();
  const data = {
    count: 32,
    exampleShape: [6, 6, 1],
    inputs: (examples: { start: number; end: number } | Uint32Array) => {
      const rows = examples instanceof Uint32Array ? examples.length : examples.end - examples.start;
      return Float32Array.from({ length: rows * 36 }, (_, i) => Math.sin(i * 0.37 + (examples instanceof Uint32Array ? examples[0] : examples.start)));
    },
  };
  const layers = ['backbone/r1', 'shared', 'shared#2'];
  for (const runtime of [null, undefined]) {
    const comparison = await compareModels({ model, layers }, { model, layers }, data, { batchSize: 16, runtime });
    assert.deepEqual(comparison.cka.layersA, layers);
    const matrix = comparison.cka.matrix as number[][];
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(matrix[i][i] - 1) < 1e-4, `diagonal ${i}`);
    assert.ok(Math.abs(matrix[0][1] - matrix[0][2]) > 1e-6, "the second application is not the first one's copy");
  }
});

test('a Sequential model not yet built (as one loaded from disk is): its layers listed and streamed', () => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3, name: 'c1', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.dense({ units: 2, activation: 'softmax', name: 'out', kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }),
    ],
  });
  assert.deepEqual(selectLayers(model, 'all'), ['c1', 'flat']);
  const x = tf.randomNormal([3, 6, 6, 1], 0, 1, 'float32', 10);
  const seen: string[] = [];
  const output = streamLayerOutputs(model, planExecution(model), x, new Set(['c1', 'flat']), (name) => seen.push(name));
  assert.deepEqual(seen, ['c1', 'flat']);
  const expected = model.predict(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(output, expected))).dataSync()[0] < 1e-6);
  tf.dispose([x, output, expected]);
});
