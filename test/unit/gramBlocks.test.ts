import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { centerFeatures, linearGram } from '../../src/engine/similarity/index.js';
import { testBackend } from '../helpers/backend.js';

before(testBackend);

test('wide layers: the blocked gram equals the float64 X·Xᵀ; centring removes the column means', () => {
  const n = 12;
  const d = 9000; // above the blocking threshold, with a partial last block
  const values = Float32Array.from({ length: n * d }, (_, k) => Math.sin(k * 0.37) + (k % 7) * 0.1);
  const x = tf.tensor2d(values, [n, d]);
  const gram = linearGram(x).arraySync();
  for (const [i, j] of [[0, 0], [3, 7], [11, 2]]) {
    let exact = 0;
    for (let k = 0; k < d; k++) exact += values[i * d + k] * values[j * d + k];
    assert.ok(Math.abs(gram[i][j] - exact) / Math.abs(exact) < 1e-5, `(${i}, ${j}): ${gram[i][j]} vs ${exact}`);
  }
  const means = tf.tidy(() => tf.mean(centerFeatures(x), 0).arraySync() as number[]);
  assert.ok(Math.max(...means.map(Math.abs)) < 1e-5);
  x.dispose();
});
