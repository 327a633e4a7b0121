/**
 * Per-layer centred grams of one batch, as flat Float32Arrays: the unit of work that the
 * in-process engine and the worker threads share, and that cross products are built from.
 */
import * as tf from '@tensorflow/tfjs-core';
import { centerGramBiased, centerGramUnbiased } from './centering.js';
import { flattenExamples, layerGrams } from './gram.js';
import type { KernelSpec } from './kernel.js';
import { firstPcFractionFromGram } from './principalComponent.js';

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

export function centeredGram(layer: LayerBatch, kernel: KernelSpec, centering: Centering): CenteredGram {
  const x = tf.tensor2d(layer.data, [layer.rows, layer.cols], 'float32');
  const { gram } = layerBatchStatistics(x, kernel, centering, false);
  x.dispose();
  return gram;
}

export interface LayerBatchStatistics {
  readonly gram: CenteredGram;
  /** Fraction of the batch's variance on its first principal component, when asked for. */
  readonly firstPc?: number | null;
}

/**
 * One layer's activations for one batch ([n, ...], any rank) → its centred gram, and from the
 * same centred linear gram, if asked, its first-PC variance fraction.
 */
export function layerBatchStatistics(activations: tf.Tensor, kernel: KernelSpec, centering: Centering, firstPc: boolean): LayerBatchStatistics {
  const x = tf.tidy(() => flattenExamples(activations));
  const { gram, linear, degenerate, scale } = layerGrams(x, kernel);
  x.dispose();
  const n = gram.shape[0];
  const pc = firstPc && !degenerate ? firstPcFractionFromGram(linear.dataSync(), n) : firstPc ? null : undefined;
  if (linear !== gram) linear.dispose();
  const centered = centering === 'unbiased' ? centerGramUnbiased(gram) : centerGramBiased(gram);
  gram.dispose();
  const values = centered.dataSync() as Float32Array;
  centered.dispose();
  return { gram: { gram: values, degenerate, scale }, firstPc: pc };
}

/** How heavy a layer's gram is to compute, for balancing work across threads (n²·features). */
export function gramCost(layer: LayerBatch): number {
  return layer.rows * layer.rows * Math.max(layer.cols, 1);
}
