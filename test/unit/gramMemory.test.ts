/**
 * The pieces that keep full-data grams within memory: the RBF median by selection (no float64
 * copy and sort of the n² distances), centering in place (no ones(n, n) / eye(n) masks), and a
 * layer's centred gram costing one n × n array beyond its activations.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { centerGramBiased, centerGramUnbiased, layerBatchStatistics, LINEAR, median, rbf } from '../../src/engine/similarity/index.js';
import { medianInPlace, medianSquaredDistance, selectInPlace } from '../../src/engine/similarity/gram.js';
import { seededRandom } from '../../src/engine/random.js';
import { testBackend } from '../helpers/backend.js';
import { gaussian } from '../helpers/random.js';

before(testBackend);

/** np.median: sort a float64 copy, the mean of the two middle values when even. */
function sortedMedian(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

test('selection gives the order statistics and np.median, ties and odd/even lengths included', () => {
  const random = seededRandom(3);
  for (const length of [1, 2, 3, 10, 101, 1000, 4096]) {
    for (const ties of [false, true]) {
      const values = Float32Array.from({ length }, () => (ties ? Math.floor(random() * 5) : gaussian(random)));
      const sorted = Float64Array.from(values).sort();
      for (const k of [0, length >> 1, length - 1]) assert.equal(selectInPlace(values.slice(), k), sorted[k], `length ${length} k ${k}`);
      assert.equal(medianInPlace(values.slice()), sortedMedian(values), `length ${length}`);
    }
  }
});

test('the median squared distance from a gram equals np.median of the full distance matrix, without forming it', () => {
  const random = seededRandom(4);
  for (const [n, d] of [[5, 3], [8, 2], [33, 4], [64, 40]]) {
    const x = Array.from({ length: n * d }, () => (random() < 0.3 ? 0 : gaussian(random)));
    const gram = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < d; k++) gram[i * n + j] += x[i * d + k] * x[j * d + k];
    const full: number[] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) full.push(i === j ? 0 : gram[i * n + i] + gram[j * n + j] - 2 * gram[i * n + j]);
    assert.ok(Math.abs(medianSquaredDistance(gram, n) - sortedMedian(full)) <= 1e-12 * sortedMedian(full), `n ${n}`);
  }
  // Not a gram (negative "distances" sort before the diagonal's zeros): the multiset logic still holds.
  const n = 9;
  const odd = Float64Array.from({ length: n * n }, (_, k) => Math.sin(k * 1.3) * (k % 4));
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) odd[i * n + j] = odd[j * n + i];
  const full: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) full.push(i === j ? 0 : odd[i * n + i] + odd[j * n + j] - 2 * odd[i * n + j]);
  assert.ok(Math.abs(medianSquaredDistance(odd, n) - sortedMedian(full)) < 1e-12);
});

test('the RBF gram and the tensor median neither copy the distances to float64 nor sort them', () => {
  const random = seededRandom(5);
  const x = tf.tensor2d(Float32Array.from({ length: 200 * 6 }, () => gaussian(random)), [200, 6]);
  const sort = Float64Array.prototype.sort;
  Float64Array.prototype.sort = function () {
    throw new Error('sorted a Float64Array');
  };
  try {
    const stats = layerBatchStatistics(x, rbf(1), 'unbiased', false);
    assert.equal(stats.gram.degenerate, null);
    assert.ok(Number.isFinite(median(x)));
  } finally {
    Float64Array.prototype.sort = sort;
    x.dispose();
  }
});

test('centering makes no n × n temporaries (no ones(n, n) or eye(n)): its peak is the input and the output', async () => {
  const n = 512;
  const random = seededRandom(6);
  const x = tf.tensor2d(Float32Array.from({ length: n * 8 }, () => gaussian(random)), [n, 8]);
  const gram = tf.tidy(() => tf.matMul(x, x, false, true)) as tf.Tensor2D;
  const gramBytes = n * n * 4;
  for (const center of [centerGramUnbiased, centerGramBiased]) {
    let out: tf.Tensor | undefined;
    const profile = await tf.profile(() => {
      out = center(gram);
      return out;
    });
    assert.ok(profile.peakBytes - profile.newBytes <= 2.01 * gramBytes + 1e5, `${center.name}: peak ${(profile.peakBytes / gramBytes).toFixed(2)} n², new ${(profile.newBytes / gramBytes).toFixed(2)} n²`);
    assert.ok(profile.peakBytes <= 2.01 * gramBytes + 1e5, `${center.name}: peak ${(profile.peakBytes / gramBytes).toFixed(2)} n² (input + output)`);
    out?.dispose();
  }
  // And the values: U-centering zeroes the diagonal and every row sums to 0; H·K·H too (rows and columns).
  const u = centerGramUnbiased(gram);
  const h = centerGramBiased(gram);
  const [uv, hv] = [u.dataSync(), h.dataSync()];
  for (let i = 0; i < n; i += 97) {
    let su = 0;
    let sh = 0;
    for (let j = 0; j < n; j++) {
      su += uv[i * n + j];
      sh += hv[i * n + j];
    }
    assert.equal(uv[i * n + i], 0);
    assert.ok(Math.abs(su) < 1e-3 && Math.abs(sh) < 1e-3, `row ${i}: ${su}, ${sh}`);
  }
  tf.dispose([x, gram, u, h]);
});

test("a layer's centred gram costs one n × n tensor beyond its activations' copies, on any kernel", async () => {
  const n = 512;
  const d = 16;
  const random = seededRandom(7);
  const x = tf.tensor2d(Float32Array.from({ length: n * d }, () => gaussian(random)), [n, d]);
  for (const kernel of [LINEAR, rbf(1)]) {
    for (const centering of ['unbiased', 'biased'] as const) {
      const profile = await tf.profile(() => void layerBatchStatistics(x, kernel, centering, true));
      const bound = n * n * 4 + 4 * n * d * 4 + 1e5;
      assert.ok(profile.peakBytes - x.size * 4 <= bound, `${kernel.kind} ${centering}: peak ${((profile.peakBytes - x.size * 4) / (n * n * 4)).toFixed(2)} n²`);
      assert.equal(profile.newTensors, 0);
    }
  }
  x.dispose();
});
