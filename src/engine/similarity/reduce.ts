/**
 * Float64 finishing of float32 reductions: each row is summed in float32 by tfjs (n terms),
 * the row sums are added in float64. Summing all n² terms of a gram product in float32 loses
 * digits that CKA's 1e-4 accuracy budget cannot spare once n reaches the thousands.
 */
import * as tf from '@tensorflow/tfjs-core';

export function sumFloat64(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

/** Σᵢⱼ Aᵢⱼ·Bᵢⱼ, row sums in float32, total in float64. */
export function frobeniusDot(a: tf.Tensor2D, b: tf.Tensor2D): number {
  const rowSums = tf.tidy(() => tf.sum(tf.mul(a, b), 1));
  const total = sumFloat64(rowSums.dataSync());
  rowSums.dispose();
  return total;
}
