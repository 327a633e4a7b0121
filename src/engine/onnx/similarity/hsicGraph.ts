/**
 * All-pairs HSIC of one batch from stacked centred grams, as one ONNX graph.
 *
 * With centred grams Ūᵢ (model A) and V̄ⱼ (model B), n × n each, HSIC(Kᵢ, Lⱼ) ∝ ⟨Ūᵢ, V̄ⱼ⟩ =
 * Σ_r Σ_c Ūᵢ[r, c]·V̄ⱼ[r, c]. The graph returns the per-row partial sums (one batched matmul,
 * [n, LA, n] · [n, n, LB] → [n, LA, LB]) and the per-row self terms Σ_c Ūᵢ[r, c]²; the caller
 * adds the n rows in float64, so no float32 sum runs over more than n terms.
 */
import { GraphBuilder } from '../graph.js';

export const HSIC_INPUT_A = 'grams_a';
export const HSIC_INPUT_B = 'grams_b';
export const HSIC_CROSS_ROWS = 'cross_rows';
export const HSIC_SELF_A_ROWS = 'self_a_rows';
export const HSIC_SELF_B_ROWS = 'self_b_rows';

/**
 * Inputs: grams_a [LA, n, n] (and grams_b [LB, n, n] unless `same`).
 * Outputs: cross_rows [n, LA, LB], self_a_rows [LA, n] (and self_b_rows [LB, n]).
 */
export function buildHsicGraph(n: number, layersA: number, layersB: number, same: boolean): Uint8Array {
  const g = new GraphBuilder('repsim_batch_hsic');
  const a = g.input(HSIC_INPUT_A, 'float32', [layersA, n, n]);
  const b = same ? a : g.input(HSIC_INPUT_B, 'float32', [layersB, n, n]);
  const left = g.op('Transpose', [a], { perm: [1, 0, 2] }); // [n, LA, n]
  const right = g.op('Transpose', [b], { perm: [1, 2, 0] }); // [n, n, LB]
  g.output(g.op('MatMul', [left, right], {}, { outputNames: [HSIC_CROSS_ROWS] }), 'float32', [n, layersA, layersB]);
  g.output(g.op('ReduceSumSquare', [a], { axes: [2], keepdims: 0 }, { outputNames: [HSIC_SELF_A_ROWS] }), 'float32', [layersA, n]);
  if (!same) g.output(g.op('ReduceSumSquare', [b], { axes: [2], keepdims: 0 }, { outputNames: [HSIC_SELF_B_ROWS] }), 'float32', [layersB, n]);
  return g.encode();
}
