/**
 * Centered Kernel Alignment (Kornblith et al. 2019):
 *   CKA(K, L) = ⟨K̄, L̄⟩ / (‖K̄‖ · ‖L̄‖)
 * with K̄ the biased (H·K·H) or, for debiased CKA, the unbiased (U-) centering of the gram.
 * A layer whose centred gram is zero has no defined CKA: the value is null, never NaN.
 */
import * as tf from '@tensorflow/tfjs-core';
import { centerGramBiased, centerGramUnbiased } from './centering.js';
import { flattenExamples, layerGram } from './gram.js';
import type { KernelSpec } from './kernel.js';
import { frobeniusDot } from './reduce.js';
import { InputError } from '../errors.js';

export interface CkaOptions {
  readonly kernel: KernelSpec;
  /** Unbiased centering (debiased CKA) instead of H·K·H. */
  readonly debiased: boolean;
}

export interface CkaValue {
  /** CKA, or null where it is undefined (a layer with zero variance). */
  readonly value: number | null;
  /** Names the layer and says why the value is undefined. */
  readonly warning?: string;
}

/** CKA between two gram matrices; null when either centred gram has zero norm. */
export function ckaFromGrams(gramK: tf.Tensor2D, gramL: tf.Tensor2D, debiased: boolean): number | null {
  const center = debiased ? centerGramUnbiased : centerGramBiased;
  const k = center(gramK);
  const l = center(gramL);
  try {
    const kl = frobeniusDot(k, l);
    const kk = frobeniusDot(k, k);
    const ll = frobeniusDot(l, l);
    // Debiased self-similarity estimates can fall to ≤ 0 on tiny samples; CKA is then undefined.
    if (!(kk > 0 && ll > 0)) return null;
    return kl / Math.sqrt(kk * ll);
  } finally {
    k.dispose();
    l.dispose();
  }
}

/** CKA between two layers' activations ([n, ...] each, the same n examples in the same order). */
export function cka(x: tf.Tensor, y: tf.Tensor, options: CkaOptions, names = { a: 'layer A', b: 'layer B' }): CkaValue {
  if (x.shape[0] !== y.shape[0]) {
    throw new InputError(`${names.a} has ${x.shape[0]} examples but ${names.b} has ${y.shape[0]}: CKA needs the same examples in both`, names.b);
  }
  const gx = tf.tidy(() => flattenExamples(x));
  const gy = tf.tidy(() => flattenExamples(y));
  const a = layerGram(gx, options.kernel);
  const b = layerGram(gy, options.kernel);
  gx.dispose();
  gy.dispose();
  try {
    const degenerate = a.degenerate ? `${names.a}: ${a.degenerate}` : b.degenerate ? `${names.b}: ${b.degenerate}` : null;
    if (degenerate) return { value: null, warning: `CKA undefined — ${degenerate}` };
    const value = ckaFromGrams(a.gram, b.gram, options.debiased);
    if (value === null) return { value: null, warning: `CKA undefined for ${names.a} × ${names.b}: a debiased self-similarity estimate is not positive` };
    return { value };
  } finally {
    a.gram.dispose();
    b.gram.dispose();
  }
}
