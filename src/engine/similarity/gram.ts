/**
 * Gram matrices of a layer's activations X (n examples × p features), Kornblith et al. 2019.
 *
 * Features are centred first (column means subtracted). Every CKA and HSIC estimator here is
 * invariant to that shift — the linear gram changes by a·1ᵀ + 1·aᵀ + c, which both centerings
 * remove, and RBF distances do not move — but in float32 it keeps X·Xᵀ from cancelling
 * catastrophically when activations sit far from zero (post-ReLU layers do).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ZERO_VARIANCE_RELATIVE, type KernelSpec } from './kernel.js';


export interface LayerGram {
  /** n × n gram matrix; an all-zero matrix when the layer has no variance. */
  readonly gram: tf.Tensor2D;
  /** Why the gram carries no information (zero variance, zero RBF bandwidth), else null. */
  readonly degenerate: string | null;
}

/** Flattens [n, ...] activations to [n, features]. */
export function flattenExamples(x: tf.Tensor): tf.Tensor2D {
  const n = x.shape[0];
  if (n === undefined) throw new Error('activations need an example axis');
  return tf.reshape(x, [n, x.size / Math.max(n, 1)]) as tf.Tensor2D;
}

/** X with each feature's mean over the examples subtracted. */
export function centerFeatures(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sub(x, columnMeans(x)));
}

/** Above this many features the gram is summed over column blocks (faster in tfjs-wasm). */
const BLOCKED_GRAM_ABOVE = 8192;
const GRAM_BLOCK_COLUMNS = 4096;

/**
 * X·Xᵀ. The transpose is explicit: tfjs-wasm 4.22 runs matMul with a transpose flag in a
 * scalar loop (≈5× slower) instead of XNNPACK. Wide layers are summed over 4,096-column blocks,
 * Σ_b X_b·X_bᵀ, which XNNPACK runs ~1.5× faster at 16,384 columns (slower at 8,192).
 */
export function linearGram(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, d] = x.shape;
    if (d <= BLOCKED_GRAM_ABOVE) return tf.matMul(x, tf.transpose(x));
    let gram: tf.Tensor2D | undefined;
    for (let start = 0; start < d; start += GRAM_BLOCK_COLUMNS) {
      const block = tf.slice(x, [0, start], [n, Math.min(GRAM_BLOCK_COLUMNS, d - start)]);
      const partial: tf.Tensor2D = tf.matMul(block, tf.transpose(block));
      gram = gram ? (tf.add(gram, partial) as tf.Tensor2D) : partial;
    }
    return gram!;
  });
}

/**
 * The k-th smallest (0-based) of `values`, reordering them in place (quickselect: Hoare
 * partition around a median-of-three pivot, expected O(length)). Afterwards every value before
 * index k is ≤ the result and every value after it is ≥.
 */
export function selectInPlace(values: Float32Array | Float64Array, k: number): number {
  if (!(k >= 0 && k < values.length)) throw new Error(`select: index ${k} outside 0…${values.length - 1}`);
  let low = 0;
  let high = values.length - 1;
  while (high > low) {
    const mid = (low + high) >>> 1;
    // Median of three to the middle, then Hoare partition.
    if (values[mid] < values[low]) swap(values, mid, low);
    if (values[high] < values[low]) swap(values, high, low);
    if (values[high] < values[mid]) swap(values, high, mid);
    const pivot = values[mid];
    let i = low;
    let j = high;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        swap(values, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) high = j;
    else if (k >= i) low = i;
    else return values[k];
  }
  return values[k];
}

function swap(values: Float32Array | Float64Array, i: number, j: number): void {
  const held = values[i];
  values[i] = values[j];
  values[j] = held;
}

/** The largest of values[0 … end). */
function maxBefore(values: Float32Array | Float64Array, end: number): number {
  let best = -Infinity;
  for (let i = 0; i < end; i++) if (values[i] > best) best = values[i];
  return best;
}

/** np.median of `values` by selection, reordering them in place (no copy, no sort). */
export function medianInPlace(values: Float32Array | Float64Array): number {
  const count = values.length;
  if (count === 0) return NaN;
  const mid = count >> 1;
  const upper = selectInPlace(values, mid);
  return count % 2 ? upper : (maxBefore(values, mid) + upper) / 2;
}

/** Median of a tensor's values, as np.median (the mean of the two middle values when even), by selection on a float32 copy. */
export function median(values: tf.Tensor): number {
  return medianInPlace(Float32Array.from(values.dataSync() as Float32Array));
}

/**
 * np.median of the n² squared distances dᵢⱼ = Gᵢᵢ + Gⱼⱼ − 2Gᵢⱼ of a linear gram G (n × n,
 * row-major), with dᵢᵢ = 0 and dᵢⱼ = dⱼᵢ: selection on the n(n−1)/2 distances above the diagonal
 * (each counts twice) and the n zeros, without forming the matrix.
 */
export function medianSquaredDistance(gram: ArrayLike<number>, n: number): number {
  const pairs = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  let negative = 0;
  for (let i = 0; i < n; i++) {
    const gii = gram[i * n + i];
    for (let j = i + 1; j < n; j++) {
      const d = gii + gram[j * n + j] - 2 * gram[i * n + j];
      if (d < 0) negative++;
      pairs[k++] = d;
    }
  }
  // The full multiset, sorted: the negative pairs (twice each), the n zeros of the diagonal, then the rest (twice each).
  const nth = (index: number): number => {
    if (index < 2 * negative) return selectInPlace(pairs, index >> 1);
    if (index < 2 * negative + n) return 0;
    return selectInPlace(pairs, (index - n) >> 1);
  };
  const count = n * n;
  const mid = count >> 1;
  return count % 2 ? nth(mid) : (nth(mid - 1) + nth(mid)) / 2;
}

/**
 * The RBF gram exp(−dᵢⱼ / (2·T²·median d)) of a linear gram's rows, in place on its values
 * (see `medianSquaredDistance`); null when the median is not positive (zero bandwidth).
 */
export function rbfGramInPlace(gram: Float32Array, n: number, threshold: number): Float32Array | null {
  const medianDistance = medianSquaredDistance(gram, n);
  if (!(medianDistance > 0)) return null;
  const diagonal = new Float64Array(n);
  for (let i = 0; i < n; i++) diagonal[i] = gram[i * n + i];
  const factor = -1 / (2 * threshold * threshold * medianDistance);
  // From the upper triangle, mirrored (the rows read later are above the diagonal, not yet written).
  for (let i = 0; i < n; i++) {
    gram[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const value = Math.exp((diagonal[i] + diagonal[j] - 2 * gram[i * n + j]) * factor);
      gram[i * n + j] = value;
      gram[j * n + i] = value;
    }
  }
  return gram;
}

/**
 * RBF gram exp(−‖xᵢ−xⱼ‖² / (2σ²)) with σ² = threshold² · median of the squared distances,
 * exactly as Kornblith et al.'s reference code (`gram_rbf`).
 */
export function rbfGram(x: tf.Tensor2D, threshold: number): LayerGram {
  const dot = linearGram(x);
  const result = rbfGramFromLinear(dot, threshold);
  dot.dispose();
  return result;
}

/** The RBF gram from the rows' linear gram (which the caller keeps): `rbfGramInPlace` on a copy of its values. */
export function rbfGramFromLinear(dot: tf.Tensor2D, threshold: number): LayerGram {
  const n = dot.shape[0];
  const gram = rbfGramInPlace(Float32Array.from(dot.dataSync() as Float32Array), n, threshold);
  if (!gram) return { gram: tf.zeros([n, n]) as tf.Tensor2D, degenerate: 'the RBF bandwidth is zero: at least half the pairs of examples have identical activations' };
  return { gram: tf.tensor2d(gram, [n, n]), degenerate: null };
}

/** Column means of X as (1/n)·1ᵀX ([1, d]): tfjs-wasm runs this matmul ~20× faster than tf.mean over axis 0. */
function columnMeans(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(tf.matMul(tf.ones([1, x.shape[0]]), x), x.shape[0]);
}

/**
 * The centred features made ready for float32 products (the ONNX graph's step 2, the same rule):
 * each feature's spread is sⱼ = mean |Xc[:, j]| (the mean absolute deviation: no square to
 * overflow or underflow), its own magnitude sⱼ + |μⱼ|. Features at float32 noise of it,
 * sⱼ ≤ 1e-6 · (sⱼ + |μⱼ|), are zeroed (a float32 mean of a feature at 1e10 is off by thousands,
 * which would otherwise swamp features varying at 1e-30); the rest are divided by `spread`, the
 * largest sⱼ kept. Returns null when no feature is kept (zero variance).
 */
export function scaledFeatures(x: tf.Tensor2D): { scaled: tf.Tensor2D; spread: number } | null {
  const [centered, weights, spreadTensor] = tf.tidy(() => {
    const mean = columnMeans(x);
    const c = tf.sub(x, mean) as tf.Tensor2D;
    const perFeature = columnMeans(tf.abs(c) as tf.Tensor2D); // [1, d]
    const magnitude = tf.add(perFeature, tf.abs(mean));
    const kept = tf.cast(tf.greater(perFeature, tf.mul(magnitude, ZERO_VARIANCE_RELATIVE)), 'float32') as tf.Tensor2D;
    return [c, kept, tf.max(tf.mul(perFeature, kept))];
  });
  const spread = spreadTensor.dataSync()[0];
  spreadTensor.dispose();
  if (!(spread > 0)) {
    tf.dispose([centered, weights]);
    return null;
  }
  const scaled = tf.tidy(() => tf.mul(centered, tf.div(weights, spread)) as tf.Tensor2D);
  tf.dispose([centered, weights]);
  return { scaled, spread };
}

/** True when every feature's centred activations are zero to float32 resolution (or the layer is empty). */
export function hasZeroVariance(x: tf.Tensor2D): boolean {
  const features = scaledFeatures(x);
  features?.scaled.dispose();
  return features === null;
}

export interface LayerGrams extends LayerGram {
  /** Xs·Xsᵀ of the centred, scaled features (the same tensor as `gram` for the linear kernel). */
  readonly linear: tf.Tensor2D;
  /**
   * What the gram was divided by: the true linear gram is `scale`·gram (s² for features scaled
   * by 1/s; 1 for RBF, which is scale-free).
   */
  readonly scale: number;
}

/**
 * The gram of one layer (n × features) under a kernel, with the zero-variance check, and the
 * centred linear gram it was built from (for first-PC variance). Dispose both (once if equal).
 *
 * The centred features are divided by their largest magnitude s before any product, so that
 * float32 neither overflows (activations of 3e9 squared and summed) nor underflows (1e-30);
 * CKA is scale-invariant and callers that sum HSIC terms over batches multiply by `scale`.
 */
export function layerGrams(x: tf.Tensor2D, kernel: KernelSpec): LayerGrams {
  const features = scaledFeatures(x);
  if (!features) {
    const n = x.shape[0];
    const zeros = tf.zeros([n, n]) as tf.Tensor2D;
    return { gram: zeros, linear: zeros, scale: 1, degenerate: 'the layer has zero variance over these examples' };
  }
  const { scaled, spread } = features;
  const linear = linearGram(scaled);
  scaled.dispose();
  if (kernel.kind === 'linear') return { gram: linear, linear, scale: spread * spread, degenerate: null };
  return { ...rbfGramFromLinear(linear, kernel.threshold), linear, scale: 1 };
}

/** The gram of one layer (n × features) under a kernel, with the zero-variance check. */
export function layerGram(x: tf.Tensor2D, kernel: KernelSpec): LayerGram {
  const { gram, linear, degenerate } = layerGrams(x, kernel);
  if (linear !== gram) linear.dispose();
  return { gram, degenerate };
}
