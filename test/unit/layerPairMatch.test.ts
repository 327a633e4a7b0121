/** Subspace match between layer pairs of models (`matchLayerPairs`). */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { matchLayerPairs } from '../../src/engine/activations/layerPairMatch.js';
import type { EvaluationData } from '../../src/engine/activations/index.js';
import { seededRandom } from '../../src/engine/random.js';
import { testBackend } from '../helpers/backend.js';
import { SMALL_NET_SIZE, smallConvNet } from '../helpers/smallConvNet.js';

function syntheticData(count: number): EvaluationData {
  const pixels = SMALL_NET_SIZE * SMALL_NET_SIZE;
  const random = seededRandom(7);
  const images = Float32Array.from({ length: count * pixels }, () => random() * 2 - 1);
  return {
    count,
    exampleShape: [SMALL_NET_SIZE, SMALL_NET_SIZE, 1],
    inputs(examples) {
      const indices = examples instanceof Uint32Array ? Array.from(examples) : Array.from({ length: examples.end - examples.start }, (_, i) => examples.start + i);
      const out = new Float32Array(indices.length * pixels);
      indices.forEach((index, k) => out.set(images.subarray(index * pixels, (index + 1) * pixels), k * pixels));
      return out;
    },
  };
}

describe('subspace match of layer pairs', () => {
  let model: tfl.LayersModel;
  let other: tfl.LayersModel;
  const data = syntheticData(48);

  before(async () => {
    await testBackend();
    model = smallConvNet(1);
    other = smallConvNet(2);
  });

  test('one model with itself on different layers (it crashed reading the other side’s activations)', async () => {
    const matches = await matchLayerPairs({ model, layers: ['conv1', 'bn1'] }, { model, layers: ['relu1', 'conv1'] }, data, { epsilons: [0.2], examples: 32 }, { batchSize: 16 });
    assert.deepEqual(
      matches.map((m) => [m.layerA, m.layerB]),
      [
        ['conv1', 'relu1'],
        ['bn1', 'conv1'],
      ],
    );
    for (const m of matches) assert.ok(m.results[0].similarity >= 0 && m.results[0].similarity <= 1);
    // Named pairs across the same model too.
    const named = await matchLayerPairs({ model, layers: [] }, { model, layers: [] }, data, { epsilons: [0.2], examples: 32, pairs: [['conv2', 'relu2']] }, { batchSize: 16 });
    assert.equal(named.length, 1);
  });

  test('the neurons’ Gram matrix is computed once per pair, whatever the number of ε', async () => {
    const matmuls = async (epsilons: number[]) => {
      const profile = await tf.profile(async () => {
        await matchLayerPairs({ model, layers: ['conv2'] }, { model: other, layers: ['conv2'] }, data, { epsilons, examples: 32 }, { batchSize: 16 });
      });
      return profile.kernels.filter((k) => /MatMul/.test(k.name)).length;
    };
    const one = await matmuls([0.3]);
    const three = await matmuls([0.1, 0.3, 0.5]);
    assert.ok(one > 0);
    assert.equal(three, one);
    // And the results per ε are those of separate runs.
    const together = await matchLayerPairs({ model, layers: ['conv2'] }, { model: other, layers: ['conv2'] }, data, { epsilons: [0.1, 0.5], examples: 32 }, { batchSize: 16 });
    const alone = await matchLayerPairs({ model, layers: ['conv2'] }, { model: other, layers: ['conv2'] }, data, { epsilons: [0.5], examples: 32 }, { batchSize: 16 });
    assert.deepEqual(together[0].results[1], alone[0].results[0]);
  });
});
