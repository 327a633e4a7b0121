/**
 * All-pairs HSIC of one batch from the layers' centred grams.
 *
 * With centred grams Ūᵢ (n × n), HSIC(Kᵢ, Lⱼ) = ⟨Ūᵢ, V̄ⱼ⟩ / c, c = n(n−3) for U-centering
 * (HSIC₁) and (n−1)² for H·K·H. All pairs are one batched matmul: for every example row r,
 * [LA × n]·[n × LB] gives that row's contribution, and the n row contributions are added in
 * float64, so no float32 sum runs over more than n terms.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CenteredGram, Centering } from './centeredGrams.js';

export interface BatchHsic {
  readonly layersA: number;
  readonly layersB: number;
  /** HSIC(Kᵢ, Lⱼ), row-major LA × LB (row i = layer i of A). */
  readonly cross: Float64Array;
  /** HSIC(Kᵢ, Kᵢ) per layer of A. */
  readonly selfA: Float64Array;
  /** HSIC(Lⱼ, Lⱼ) per layer of B. */
  readonly selfB: Float64Array;
}

export function hsicNormalizer(n: number, centering: Centering): number {
  return centering === 'unbiased' ? n * (n - 3) : (n - 1) * (n - 1);
}

function stack(grams: readonly CenteredGram[], n: number): tf.Tensor3D {
  const flat = new Float32Array(grams.length * n * n);
  grams.forEach((g, i) => flat.set(g.gram, i * n * n));
  return tf.tensor3d(flat, [grams.length, n, n]);
}

/** Σ over the leading axis of a row-major [n, …] array, in float64. */
export function sumLeadingAxisFloat64(values: Float32Array, n: number): Float64Array {
  const width = values.length / n;
  const out = new Float64Array(width);
  for (let r = 0; r < n; r++) {
    const base = r * width;
    for (let k = 0; k < width; k++) out[k] += values[base + k];
  }
  return out;
}

function selfHsic(stacked: tf.Tensor3D, n: number): Float64Array {
  const perRow = tf.tidy(() => tf.transpose(tf.sum(tf.square(stacked), 2))); // [n, L]
  const sums = sumLeadingAxisFloat64(perRow.dataSync() as Float32Array, n);
  perRow.dispose();
  return sums;
}

/**
 * From the raw sums ⟨Ūᵢ, V̄ⱼ⟩ of scaled grams to HSIC: divides by the normalizer and multiplies
 * each term back by the grams' scales (in float64, where no activation range overflows).
 * `selfB` may be the same array as `selfA` (a model against itself).
 */
export function finishBatchHsic(
  cross: Float64Array,
  selfA: Float64Array,
  selfB: Float64Array,
  gramsA: readonly CenteredGram[],
  gramsB: readonly CenteredGram[],
  n: number,
  centering: Centering,
): BatchHsic {
  const c = hsicNormalizer(n, centering);
  const layersA = gramsA.length;
  const layersB = gramsB.length;
  for (let i = 0; i < layersA; i++) {
    for (let j = 0; j < layersB; j++) cross[i * layersB + j] *= (gramsA[i].scale * gramsB[j].scale) / c;
  }
  for (let i = 0; i < layersA; i++) selfA[i] *= (gramsA[i].scale * gramsA[i].scale) / c;
  if (selfB !== selfA) for (let j = 0; j < layersB; j++) selfB[j] *= (gramsB[j].scale * gramsB[j].scale) / c;
  return { layersA, layersB, cross, selfA, selfB };
}

export function batchHsic(
  gramsA: readonly CenteredGram[],
  gramsB: readonly CenteredGram[] | 'same',
  n: number,
  centering: Centering,
): BatchHsic {
  const a = stack(gramsA, n);
  const b = gramsB === 'same' ? a : stack(gramsB, n);
  try {
    const perRow = tf.tidy(() => {
      const left = tf.transpose(a, [1, 0, 2]); // [n, LA, n]
      const right = tf.transpose(b, [1, 2, 0]); // [n, n, LB]
      return tf.matMul(left, right); // [n, LA, LB]
    });
    const cross = sumLeadingAxisFloat64(perRow.dataSync() as Float32Array, n);
    perRow.dispose();
    const selfA = selfHsic(a, n);
    const selfB = gramsB === 'same' ? selfA : selfHsic(b, n);
    return finishBatchHsic(cross, selfA, selfB, gramsA, gramsB === 'same' ? gramsA : gramsB, n, centering);
  } finally {
    a.dispose();
    if (b !== a) b.dispose();
  }
}
