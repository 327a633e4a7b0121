/**
 * The permutation test's cross terms for every cyclic shift at once, by Fourier transform
 * (permutedCross.ts has the permutations: π = σ⁻¹∘(+k)∘σ, grams relabelled by σ).
 *
 * With the relabelled grams Ũ (model A) and W̃ (model B) written along their diagonals,
 * Du[d, a] = Ũ[a, (a + d) mod n] and Dw[d, a] = W̃[a, (a + d) mod n], the cross term of shift k is
 *
 *   T(k) = Σ_{a,b} Ũ[a, b]·W̃[a + k, b + k] = Σ_d Σ_a Du[d, a]·Dw[d, a + k]
 *
 * a sum over d of circular cross-correlations along a. With the DFT along a,
 * X̂[d, f] = Σ_a X[d, a]·e^{−2πi·fa/n} (as real products with the n × F cosine and sine bases,
 * F = ⌊n/2⌋ + 1, for any n),
 *
 *   S(f) = Σ_d conj(Du^(f))·Dw^(f)     T(k) = (1/n)·Σ_f w_f·(Re S(f)·cos(2πfk/n) − Im S(f)·sin(2πfk/n))
 *
 * (w_f = 1 for f = 0 and f = n/2, else 2: the real inputs' spectra are Hermitian). For LA × LB
 * layer pairs that is (LA + LB)·n³ multiply-adds for the transforms, then 2·LA·LB·n² for S and
 * LA·LB·F per shift, instead of LA·LB·n² per shift: for 100 permutations of a 40 × 40 heatmap
 * of batches of 256, an eighth of the work, and all of it matrix products. Sums run in float32
 * over n, 2n and F terms; the error is of order 1e-6·‖Ū‖·‖V̄‖, far below the null's spread.
 *
 * Above a few thousand examples (full-data estimators) the n³ transforms cost more than the
 * shifts themselves; permutedCross then rolls the grams instead.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * One runtime's part: the skewed grams of A [LA, n, n] and of B [LB, n, n] (null: B is A) and
 * the shifts → T [LA·LB, K] (row i·LB + j), the raw cross sums of every pair for every shift.
 */
export interface ShiftCorrelationChunk {
  readonly n: number;
  readonly skewedA: Float32Array;
  readonly layersA: number;
  readonly skewedB: Float32Array | null;
  readonly layersB: number;
  readonly shifts: Int32Array;
}

export type ShiftCorrelation = (chunk: ShiftCorrelationChunk) => Float32Array | Promise<Float32Array>;

/** Frequencies of a real signal of length n: 0 … ⌊n/2⌋. */
export const frequencies = (n: number): number => Math.floor(n / 2) + 1;

/** The DFT bases: cos[a, f] = cos(2πfa/n), sin[a, f] = sin(2πfa/n), [n, F]. */
export function fourierBasis(n: number): { readonly cos: Float32Array; readonly sin: Float32Array } {
  const F = frequencies(n);
  const cos = new Float32Array(n * F);
  const sin = new Float32Array(n * F);
  for (let a = 0; a < n; a++) {
    for (let f = 0; f < F; f++) {
      const angle = (2 * Math.PI * ((f * a) % n)) / n;
      cos[a * F + f] = Math.cos(angle);
      sin[a * F + f] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** The inverse transform at the shifts: cos[f, p] = w_f·cos(2πf·k_p/n)/n, sin likewise; [F, K]. */
export function shiftEvaluation(n: number, shifts: Int32Array): { readonly cos: Float32Array; readonly sin: Float32Array } {
  const F = frequencies(n);
  const K = shifts.length;
  const cos = new Float32Array(F * K);
  const sin = new Float32Array(F * K);
  for (let f = 0; f < F; f++) {
    const weight = (f === 0 || 2 * f === n ? 1 : 2) / n;
    for (let p = 0; p < K; p++) {
      const angle = (2 * Math.PI * ((f * shifts[p]) % n)) / n;
      cos[f * K + p] = weight * Math.cos(angle);
      sin[f * K + p] = weight * Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** Each gram relabelled by `order` and written along its diagonals: out[l][d, a] = gram[order[a], order[(a + d) mod n]]; [layers, n, n]. */
export function skewedRelabelled(grams: readonly { readonly gram: Float32Array }[], layers: readonly number[], order: Int32Array, n: number): Float32Array {
  const size = n * n;
  const out = new Float32Array(layers.length * size);
  layers.forEach((l, k) => {
    const gram = grams[l].gram;
    for (let a = 0; a < n; a++) {
      const row = order[a] * n;
      for (let d = 0; d < n; d++) out[k * size + d * n + a] = gram[row + order[(a + d) % n]];
    }
  });
  return out;
}

/** Multiply-adds of the Fourier route for LA × LB layers and K shifts. */
export function shiftCorrelationCost(la: number, lb: number, n: number, shifts: number): number {
  const F = frequencies(n);
  return (la + lb) * n * n * 2 * F + 4 * la * lb * n * F + 2 * la * lb * F * shifts;
}

/** The route on TensorFlow.js (the fallback runtime): the same products as the ONNX graph. */
export const tfjsShiftCorrelation: ShiftCorrelation = ({ n, skewedA, layersA, skewedB, layersB, shifts }) =>
  tf.tidy(() => {
    const F = frequencies(n);
    const basis = fourierBasis(n);
    const cos = tf.tensor2d(basis.cos, [n, F]);
    const sin = tf.tensor2d(basis.sin, [n, F]);
    // [L, n_d, n_a] · [n_a, F] → [L, n_d, F], then [F, L, 2n_d]: cosine and sine parts side by side.
    const spectra = (skewed: Float32Array, layers: number) => {
      const x = tf.reshape(tf.tensor3d(skewed, [layers, n, n]), [layers * n, n]);
      const c = tf.reshape(tf.matMul(x, cos), [layers, n, F]);
      const s = tf.reshape(tf.matMul(x, sin), [layers, n, F]);
      return { c, s };
    };
    const u = spectra(skewedA, layersA);
    const w = skewedB ? spectra(skewedB, layersB) : u;
    const right = tf.transpose(tf.concat([w.c, w.s], 1), [2, 1, 0]) as tf.Tensor3D; // [F, 2n, LB]
    const toLeft = (x: tf.Tensor) => tf.transpose(x, [2, 0, 1]) as tf.Tensor3D; // [F, LA, 2n]
    const real = tf.matMul(toLeft(tf.concat([u.c, u.s], 1)), right); // [F, LA, LB]
    const imag = tf.matMul(toLeft(tf.concat([u.s, tf.neg(u.c)], 1)), right);
    const flat = (x: tf.Tensor) => tf.reshape(tf.transpose(x, [1, 2, 0]), [layersA * layersB, F]) as tf.Tensor2D;
    const evaluation = shiftEvaluation(n, shifts);
    const out = tf.sub(tf.matMul(flat(real), tf.tensor2d(evaluation.cos, [F, shifts.length])), tf.matMul(flat(imag), tf.tensor2d(evaluation.sin, [F, shifts.length])));
    return out.dataSync() as Float32Array;
  });
