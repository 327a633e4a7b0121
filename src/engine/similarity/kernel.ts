/** Which kernel turns a layer's activations into a gram matrix. */
export type KernelSpec = { readonly kind: 'linear' } | { readonly kind: 'rbf'; readonly threshold: number };

export const LINEAR: KernelSpec = { kind: 'linear' };

export function rbf(threshold = 1): KernelSpec {
  return { kind: 'rbf', threshold };
}
