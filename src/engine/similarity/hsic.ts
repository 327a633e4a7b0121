/**
 * HSIC estimators between two gram matrices K, L (n × n) over the same examples.
 *
 * HSIC₁, the unbiased estimator of Song et al. 2012 (used for minibatch CKA by Nguyen et al.
 * 2021), with K̃, L̃ the grams with zeroed diagonals:
 *   HSIC₁(K, L) = 1/(n(n−3)) · [ tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1)/((n−1)(n−2)) − 2/(n−2) · 1ᵀK̃L̃1 ]
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertUnbiasedBatchSize } from './centering.js';

function scalar(t: tf.Tensor): number {
  const value = t.dataSync()[0];
  t.dispose();
  return value;
}

/** HSIC₁ by the formula above, term by term. */
export function hsic1(gramK: tf.Tensor2D, gramL: tf.Tensor2D): number {
  const n = gramK.shape[0];
  assertUnbiasedBatchSize(n);
  return scalar(
    tf.tidy(() => {
      const offDiagonal = tf.sub(tf.ones([n, n]), tf.eye(n));
      const k = tf.mul(gramK, offDiagonal);
      const l = tf.mul(gramL, offDiagonal);
      const traceKL = tf.sum(tf.mul(k, l)); // tr(K̃L̃) = Σᵢⱼ K̃ᵢⱼL̃ⱼᵢ and L̃ is symmetric
      const sumK = tf.sum(k);
      const sumL = tf.sum(l);
      const rowSumsK = tf.sum(k, 1);
      const rowSumsL = tf.sum(l, 0);
      const oneKL1 = tf.sum(tf.mul(rowSumsK, rowSumsL)); // 1ᵀK̃L̃1 = (K̃1)·(L̃1)
      const middle = tf.div(tf.mul(sumK, sumL), (n - 1) * (n - 2));
      const last = tf.mul(oneKL1, 2 / (n - 2));
      return tf.div(tf.sub(tf.add(traceKL, middle), last), n * (n - 3));
    }),
  );
}
