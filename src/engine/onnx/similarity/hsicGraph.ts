/**
 * All-pairs HSIC of one batch from stacked centred grams, as one ONNX graph.
 *
 * With centred grams Ūᵢ (model A) and V̄ⱼ (model B), n × n each, HSIC(Kᵢ, Lⱼ) ∝ ⟨Ūᵢ, V̄ⱼ⟩ =
 * Σ_r Σ_c Ūᵢ[r, c]·V̄ⱼ[r, c]. The graph takes a chunk of R rows of every gram and returns their
 * per-row partial sums (one batched matmul, [R, LA, n] · [R, n, LB] → [R, LA, LB]) and the per-row
 * self terms Σ_c Ūᵢ[r, c]²; the caller adds the rows in float64, so no float32 sum runs over more
 * than n terms, and feeds large grams chunk by chunk so that the transposes stay small.
 */
import { GraphBuilder } from '../graph.js';

export const HSIC_INPUT_A = 'grams_a';
export const HSIC_INPUT_B = 'grams_b';
export const HSIC_CROSS_ROWS = 'cross_rows';
export const HSIC_SELF_A_ROWS = 'self_a_rows';
export const HSIC_SELF_B_ROWS = 'self_b_rows';

/**
 * Inputs: grams_a [LA, R, n] (rows of each gram; and grams_b [LB, R, n] unless `same`).
 * Outputs: cross_rows [R, LA, LB], self_a_rows [LA, R] (and self_b_rows [LB, R]).
 * `rows` defaults to n (whole grams).
 */
export function buildHsicGraph(n: number, layersA: number, layersB: number, same: boolean, rows = n): Uint8Array {
  const g = new GraphBuilder('repsim_batch_hsic');
  const a = g.input(HSIC_INPUT_A, 'float32', [layersA, rows, n]);
  const b = same ? a : g.input(HSIC_INPUT_B, 'float32', [layersB, rows, n]);
  const left = g.op('Transpose', [a], { perm: [1, 0, 2] }); // [R, LA, n]
  const right = g.op('Transpose', [b], { perm: [1, 2, 0] }); // [R, n, LB]
  g.output(g.op('MatMul', [left, right], {}, { outputNames: [HSIC_CROSS_ROWS] }), 'float32', [rows, layersA, layersB]);
  g.output(g.op('ReduceSumSquare', [a], { axes: [2], keepdims: 0 }, { outputNames: [HSIC_SELF_A_ROWS] }), 'float32', [layersA, rows]);
  if (!same) g.output(g.op('ReduceSumSquare', [b], { axes: [2], keepdims: 0 }, { outputNames: [HSIC_SELF_B_ROWS] }), 'float32', [layersB, rows]);
  return g.encode();
}
