/**
 * Per-layer centred grams of one batch, as flat Float32Arrays: the unit of work that the
 * in-process engine and the worker threads share, and that cross products are built from.
 *
 * Only the product X·Xᵀ runs as a tensor op; the RBF map and the centering run in place on the
 * gram's values (sums in float64), so a layer costs one n × n array beyond its activations.
 */
import * as tf from '@tensorflow/tfjs-core';
import { centerGramBiasedInPlace, centerGramUnbiasedInPlace } from './centering.js';
import { flattenExamples, linearGram, rbfGramInPlace, scaledFeatures } from './gram.js';
import type { KernelSpec } from './kernel.js';
import { firstPcPartsFromGram, type FirstPcParts } from './principalComponent.js';

/** 'unbiased' gives HSIC₁ (debiased and minibatch CKA); 'biased' gives H·K·H (plain CKA). */
export type Centering = 'biased' | 'unbiased';

/** One layer's activations for one batch: row-major [rows, cols]. */
export interface LayerBatch {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

export interface CenteredGram {
  /** rows × rows, row-major; all zeros when degenerate. */
  readonly gram: Float32Array;
  readonly degenerate: string | null;
  /**
   * The true centred gram is `scale`·gram: features are scaled before the float32 products
   * (s² for the linear kernel, 1 for RBF); HSIC terms are multiplied back in float64.
   */
  readonly scale: number;
}

export const ZERO_VARIANCE_REASON = 'the layer has zero variance over these examples';
export const ZERO_BANDWIDTH_REASON = 'the RBF bandwidth is zero: at least half the pairs of examples have identical activations';

export function centeredGram(layer: LayerBatch, kernel: KernelSpec, centering: Centering): CenteredGram {
  const x = tf.tensor2d(layer.data, [layer.rows, layer.cols], 'float32');
  try {
    return layerBatchStatistics(x, kernel, centering, false).gram;
  } finally {
    x.dispose();
  }
}

export interface LayerBatchStatistics {
  readonly gram: CenteredGram;
  /** Fraction of the batch's variance on its first principal component, when asked for. */
  readonly firstPc?: number | null;
  /** λ₁ and Σλ of the batch's centred activations (in their own units), when asked for: sums of these pool over batches. */
  readonly firstPcParts?: FirstPcParts | null;
}

/**
 * One layer's activations for one batch ([n, ...], any rank) → its centred gram, and from the
 * same centred linear gram, if asked, its first-PC variance fraction.
 */
export function layerBatchStatistics(activations: tf.Tensor, kernel: KernelSpec, centering: Centering, firstPc: boolean): LayerBatchStatistics {
  const x = tf.tidy(() => flattenExamples(activations));
  const n = x.shape[0];
  const features = scaledFeatures(x);
  x.dispose();
  if (!features) {
    return { gram: { gram: new Float32Array(n * n), degenerate: ZERO_VARIANCE_REASON, scale: 1 }, ...(firstPc ? { firstPc: null, firstPcParts: null } : {}) };
  }
  const { scaled, spread } = features;
  const linear = linearGram(scaled);
  scaled.dispose();
  // A copy on wasm and native backends; the tensor's own store on cpu, which dies with it here.
  const values = linear.dataSync() as Float32Array;
  linear.dispose();
  const parts = firstPc ? firstPcPartsFromGram(values, n) : undefined;
  const pc = parts === undefined ? {} : { firstPc: parts ? parts.top / parts.trace : null, firstPcParts: parts ? { top: parts.top * spread * spread, trace: parts.trace * spread * spread } : null };
  if (kernel.kind === 'rbf' && !rbfGramInPlace(values, n, kernel.threshold)) {
    values.fill(0);
    return { gram: { gram: values, degenerate: ZERO_BANDWIDTH_REASON, scale: 1 }, ...pc };
  }
  if (centering === 'unbiased') centerGramUnbiasedInPlace(values, n);
  else centerGramBiasedInPlace(values, n);
  return { gram: { gram: values, degenerate: null, scale: kernel.kind === 'linear' ? spread * spread : 1 }, ...pc };
}

/** How heavy a layer's gram is to compute, for balancing work across threads (n²·features). */
export function gramCost(layer: LayerBatch): number {
  return layer.rows * layer.rows * Math.max(layer.cols, 1);
}
