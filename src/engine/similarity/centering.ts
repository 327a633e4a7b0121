/**
 * Centering of a gram matrix K (n × n), Kornblith et al. 2019 (`center_gram`).
 *
 * Biased: H·K·H with H = I − 11ᵀ/n.
 * Unbiased (Székely & Rizzo's U-centering, used for debiased CKA and equal to the HSIC₁ of
 * Song et al. 2012): zero the diagonal, then
 *   Ũᵢⱼ = Kᵢⱼ − mᵢ − mⱼ  (i ≠ j),   mᵢ = Σⱼ Kᵢⱼ/(n−2) − Σₖₗ Kₖₗ / (2(n−1)(n−2)),
 * and zero the diagonal again. ⟨U(K), U(L)⟩ / (n(n−3)) is then the unbiased HSIC estimate.
 *
 * Both run in place on the gram's values, with the sums in float64: no n × n temporaries (the
 * earlier ones(n, n) and eye(n) masks and the chain of elementwise results cost several n² floats
 * per layer, which full-data CKA over 10,000 examples could not afford).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../errors.js';

/** HSIC₁ and debiased CKA divide by n(n−3): they need at least 4 examples. */
export const MIN_UNBIASED_EXAMPLES = 4;

export function assertUnbiasedBatchSize(n: number, what = 'batch'): void {
  if (n < MIN_UNBIASED_EXAMPLES) {
    throw new InputError(
      `${what} has ${n} examples: the unbiased HSIC estimator (debiased and minibatch CKA) needs at least ${MIN_UNBIASED_EXAMPLES}`,
      what,
    );
  }
}

/** Column sums of an n × n row-major matrix in float64, leaving out the diagonal when asked. */
function columnSums(values: Float32Array, n: number, hollow: boolean): Float64Array {
  const sums = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const base = r * n;
    for (let c = 0; c < n; c++) sums[c] += values[base + c];
    if (hollow) sums[r] -= values[base + r];
  }
  return sums;
}

/** H·K·H in place: K − row means − column means + grand mean (means in float64). */
export function centerGramBiasedInPlace(values: Float32Array, n: number): Float32Array {
  const colMeans = columnSums(values, n, false);
  const rowMeans = new Float64Array(n);
  let grand = 0;
  for (let r = 0; r < n; r++) {
    let sum = 0;
    const base = r * n;
    for (let c = 0; c < n; c++) sum += values[base + c];
    rowMeans[r] = sum / n;
    grand += sum;
  }
  grand /= n * n;
  for (let c = 0; c < n; c++) colMeans[c] /= n;
  for (let r = 0; r < n; r++) {
    const base = r * n;
    const shift = grand - rowMeans[r];
    for (let c = 0; c < n; c++) values[base + c] = values[base + c] + shift - colMeans[c];
  }
  return values;
}

/** U-centering in place (see the module comment); the diagonal ends up 0. */
export function centerGramUnbiasedInPlace(values: Float32Array, n: number): Float32Array {
  assertUnbiasedBatchSize(n);
  const means = columnSums(values, n, true);
  let total = 0;
  for (let c = 0; c < n; c++) total += means[c];
  const grand = total / (2 * (n - 1) * (n - 2));
  for (let c = 0; c < n; c++) means[c] = means[c] / (n - 2) - grand;
  for (let r = 0; r < n; r++) {
    const base = r * n;
    const row = means[r];
    for (let c = 0; c < n; c++) values[base + c] = values[base + c] - row - means[c];
    values[base + r] = 0;
  }
  return values;
}

function centerTensor(gram: tf.Tensor2D, center: (values: Float32Array, n: number) => Float32Array): tf.Tensor2D {
  const n = gram.shape[0];
  const values = Float32Array.from(gram.dataSync() as Float32Array);
  return tf.tensor2d(center(values, n), [n, n]);
}

export function centerGramBiased(gram: tf.Tensor2D): tf.Tensor2D {
  return centerTensor(gram, centerGramBiasedInPlace);
}

export function centerGramUnbiased(gram: tf.Tensor2D): tf.Tensor2D {
  assertUnbiasedBatchSize(gram.shape[0]);
  return centerTensor(gram, centerGramUnbiasedInPlace);
}
