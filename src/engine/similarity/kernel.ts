/** Which kernel turns a layer's activations into a gram matrix. */
export type KernelSpec = { readonly kind: 'linear' } | { readonly kind: 'rbf'; readonly threshold: number };

export const LINEAR: KernelSpec = { kind: 'linear' };

export function rbf(threshold = 1): KernelSpec {
  return { kind: 'rbf', threshold };
}

/**
 * A feature whose centred values spread less than this fraction of its own magnitude is float32
 * noise, not variance; a layer where every feature is such noise has zero variance.
 */
export const ZERO_VARIANCE_RELATIVE = 1e-6;
