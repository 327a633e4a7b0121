import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { firstPcVarianceFraction } from '../../src/engine/similarity/index.js';
import { largestTridiagonalEigenvalue } from '../../src/engine/similarity/principalComponent.js';
import { testBackend } from '../helpers/backend.js';
import { loadJson, loadLayers } from '../helpers/fixtures.js';

before(testBackend);

test('first-PC variance fraction matches the float64 NumPy SVD within 1e-4', () => {
  const expected = loadJson<{ firstPc: Record<string, number> }>('cka/reference.json').firstPc;
  const layers = [...loadLayers('cka/model_a.npz'), ...loadLayers('cka/model_b.npz')];
  for (const layer of layers) {
    const x = tf.tensor(layer.data, [...layer.shape]);
    const fraction = firstPcVarianceFraction(x);
    x.dispose();
    assert.ok(fraction !== null && Math.abs(fraction - expected[layer.name]) <= 1e-4, `${layer.name}: ${fraction} vs ${expected[layer.name]}`);
  }
});

test('one dominant direction gives a fraction near 1; isotropic data near 1/d; constant data null', () => {
  const n = 200;
  const direction = Array.from({ length: n }, (_, i) => Math.sin(i));
  const rankOne = tf.tensor2d(direction.flatMap((s) => [s, 2 * s, -s, 0.5 * s]), [n, 4]);
  assert.ok(Math.abs(firstPcVarianceFraction(rankOne)! - 1) < 1e-5);
  const identity = tf.eye(64); // 64 examples, 64 features, every direction equal after centring
  assert.ok(Math.abs(firstPcVarianceFraction(identity)! - 1 / 63) < 1e-5);
  const constant = tf.fill([10, 3], 4);
  assert.equal(firstPcVarianceFraction(constant), null);
  tf.dispose([rankOne, identity, constant]);
});

test('the tridiagonal solver finds the largest eigenvalue', () => {
  // [[2, 1, 0], [1, 2, 1], [0, 1, 2]] has eigenvalues 2 - √2, 2, 2 + √2.
  assert.ok(Math.abs(largestTridiagonalEigenvalue([2, 2, 2], [1, 1]) - (2 + Math.SQRT2)) < 1e-12);
  assert.equal(largestTridiagonalEigenvalue([5], []), 5);
});

test('the fraction from a batch’s centred linear gram equals the one from its activations', async () => {
  const { layerBatchStatistics, LINEAR } = await import('../../src/engine/similarity/index.js');
  for (const layer of loadLayers('cka/model_a.npz')) {
    const x = tf.tensor(layer.data, [...layer.shape]);
    const direct = firstPcVarianceFraction(x)!;
    const fromGram = layerBatchStatistics(x, LINEAR, 'unbiased', true).firstPc!;
    x.dispose();
    assert.ok(Math.abs(direct - fromGram) < 1e-5, `${layer.name}: ${direct} vs ${fromGram}`);
  }
});
