/**
 * Centering of a gram matrix K (n × n), Kornblith et al. 2019 (`center_gram`).
 *
 * Biased: H·K·H with H = I − 11ᵀ/n.
 * Unbiased (Székely & Rizzo's U-centering, used for debiased CKA and equal to the HSIC₁ of
 * Song et al. 2012): zero the diagonal, then
 *   Ũᵢⱼ = Kᵢⱼ − mᵢ − mⱼ  (i ≠ j),   mᵢ = Σⱼ Kᵢⱼ/(n−2) − Σₖₗ Kₖₗ / (2(n−1)(n−2)),
 * and zero the diagonal again. ⟨U(K), U(L)⟩ / (n(n−3)) is then the unbiased HSIC estimate.
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

export function centerGramBiased(gram: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const rowMeans = tf.mean(gram, 1, true);
    const colMeans = tf.mean(gram, 0, true);
    return tf.add(tf.sub(tf.sub(gram, rowMeans), colMeans), tf.mean(gram)) as tf.Tensor2D;
  });
}

export function centerGramUnbiased(gram: tf.Tensor2D): tf.Tensor2D {
  const n = gram.shape[0];
  assertUnbiasedBatchSize(n);
  return tf.tidy(() => {
    const offDiagonal = tf.sub(tf.ones([n, n]), tf.eye(n));
    const hollow = tf.mul(gram, offDiagonal);
    const columnMeans = tf.div(tf.sum(hollow, 0), n - 2);
    const means = tf.sub(columnMeans, tf.div(tf.sum(columnMeans), 2 * (n - 1)));
    const centered = tf.sub(tf.sub(hollow, tf.reshape(means, [n, 1])), tf.reshape(means, [1, n]));
    return tf.mul(centered, offDiagonal) as tf.Tensor2D;
  });
}
