/**
 * Fraction of a layer's variance along its first principal component (Nguyen et al. 2021,
 * §5.1: wide and deep networks grow a "block structure" dominated by one component).
 *
 *   fraction = λ₁ / Σλ = σ₁(Xc)² / ‖Xc‖²_F,   Xc = activations with feature means removed.
 *
 * λ₁ comes from Lanczos iterations on Xcᵀ·Xc (or Xc·Xcᵀ, whichever is smaller), applied as
 * two tfjs matrix-vector products per step, so memory stays O(n·d): no d×d or n×n matrix is
 * formed. The small tridiagonal problem is solved in float64 by bisection.
 */
import * as tf from '@tensorflow/tfjs-core';
import { centerFeatures, flattenExamples } from './gram.js';
import { frobeniusDot } from './reduce.js';

export interface PrincipalComponentOptions {
  /** Most Lanczos steps (default 64); it stops earlier once λ₁ has converged. */
  readonly maxSteps?: number;
  /** Relative change of λ₁ between steps that counts as converged (default 1e-9). */
  readonly tolerance?: number;
}

/** λ₁/Σλ for a layer's activations [n, ...]; null when the layer has no variance. */
export function firstPcVarianceFraction(activations: tf.Tensor, options: PrincipalComponentOptions = {}): number | null {
  const centered = tf.tidy(() => centerFeatures(flattenExamples(activations)));
  try {
    const total = frobeniusDot(centered, centered);
    if (!(total > 0)) return null;
    return largestEigenvalue(covarianceOperator(centered), options) / total;
  } finally {
    centered.dispose();
  }
}

/** The first principal component's variance λ₁ and the total variance Σλ (the trace) of one batch. */
export interface FirstPcParts {
  readonly top: number;
  readonly trace: number;
}

/**
 * λ₁ and Σλ from the centred linear gram Xc·Xcᵀ of a batch (n × n, row-major): the gram shares
 * its non-zero eigenvalues with Xcᵀ·Xc. Null when the trace is zero.
 */
export function firstPcPartsFromGram(gram: ArrayLike<number>, n: number, options: PrincipalComponentOptions = {}): FirstPcParts | null {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += gram[i * n + i];
  if (!(trace > 0)) return null;
  const operator: SymmetricOperator = {
    size: n,
    apply(v) {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let sum = 0;
        const row = i * n;
        for (let j = 0; j < n; j++) sum += gram[row + j] * v[j];
        out[i] = sum;
      }
      return out;
    },
  };
  return { top: largestEigenvalue(operator, options), trace };
}

/** λ₁/Σλ from the centred linear gram of a batch (see `firstPcPartsFromGram`); null when the trace is zero. */
export function firstPcFractionFromGram(gram: ArrayLike<number>, n: number, options: PrincipalComponentOptions = {}): number | null {
  const parts = firstPcPartsFromGram(gram, n, options);
  return parts ? parts.top / parts.trace : null;
}

interface SymmetricOperator {
  readonly size: number;
  apply(v: Float64Array): Float64Array;
}

/** v ↦ Xcᵀ(Xc·v) on the feature side, or Xc(Xcᵀ·v) on the example side if that is smaller. */
function covarianceOperator(x: tf.Tensor2D): SymmetricOperator {
  const [n, d] = x.shape;
  const featureSide = d <= n;
  // The explicit transposes keep tfjs-wasm on its fast matmul path.
  const first = featureSide ? x : tf.transpose(x);
  const second = tf.transpose(first);
  const size = featureSide ? d : n;
  return {
    size,
    apply(v) {
      const out = tf.tidy(() => tf.matMul(second, tf.matMul(first, tf.tensor2d(Float32Array.from(v), [size, 1]))));
      const values = Float64Array.from(out.dataSync());
      out.dispose();
      return values;
    },
  };
}

/** Lanczos with full reorthogonalisation; returns the largest eigenvalue of a PSD operator. */
function largestEigenvalue(operator: SymmetricOperator, { maxSteps = 64, tolerance = 1e-9 }: PrincipalComponentOptions): number {
  const steps = Math.min(maxSteps, operator.size);
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let q = startVector(operator.size);
  let previous = 0;
  for (let k = 0; k < steps; k++) {
    basis.push(q);
    const w = operator.apply(q);
    alpha.push(dot(w, q));
    for (const b of basis) axpy(-dot(w, b), b, w); // full reorthogonalisation, twice is enough
    for (const b of basis) axpy(-dot(w, b), b, w);
    const estimate = largestTridiagonalEigenvalue(alpha, beta);
    const norm = Math.sqrt(dot(w, w));
    if (Math.abs(estimate - previous) <= tolerance * Math.abs(estimate) || norm <= 1e-12 * Math.abs(estimate)) return estimate;
    previous = estimate;
    beta.push(norm);
    q = w.map((value) => value / norm);
  }
  return previous;
}

/** A deterministic start vector with weight on every coordinate. */
function startVector(size: number): Float64Array {
  const v = Float64Array.from({ length: size }, (_, i) => 1 + ((i * 7919) % 101) / 101);
  const norm = Math.sqrt(dot(v, v));
  return v.map((value) => value / norm);
}

/** Largest eigenvalue of the symmetric tridiagonal (alpha on the diagonal, beta beside it). */
export function largestTridiagonalEigenvalue(alpha: readonly number[], beta: readonly number[]): number {
  const m = alpha.length;
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < m; i++) {
    const radius = (i > 0 ? Math.abs(beta[i - 1]) : 0) + (i < m - 1 ? Math.abs(beta[i]) : 0);
    low = Math.min(low, alpha[i] - radius);
    high = Math.max(high, alpha[i] + radius);
  }
  // Bisection on the Sturm count: the number of eigenvalues below x.
  for (let iteration = 0; iteration < 200 && high - low > 1e-15 * Math.max(Math.abs(high), Math.abs(low), 1e-300); iteration++) {
    const mid = (low + high) / 2;
    if (eigenvaluesBelow(alpha, beta, mid) === m) high = mid;
    else low = mid;
  }
  return (low + high) / 2;
}

function eigenvaluesBelow(alpha: readonly number[], beta: readonly number[], x: number): number {
  let count = 0;
  let d = 1;
  for (let i = 0; i < alpha.length; i++) {
    const offDiagonal = i > 0 ? beta[i - 1] : 0;
    d = alpha[i] - x - (offDiagonal * offDiagonal) / d;
    if (d === 0) d = -Number.EPSILON * Math.max(Math.abs(x), 1);
    if (d < 0) count++;
  }
  return count;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function axpy(scale: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += scale * x[i];
}
