/**
 * The HSIC cross products under permutations of model B's examples, as one ONNX graph (see
 * similarity/permutedCross.ts for the formula): for each of K permutations π_k, V̄ⱼ[π_k, π_k] by
 * two Gathers (rows, then columns), all K·J permuted grams stacked as [K·J, n²], and their inner
 * products with every Ūᵢ in one Gemm (transB, no transpose materialised):
 *
 *   cross[i, k·J + j] = Σ_{r,c} Ūᵢ[r, c]·V̄ⱼ[π_k(r), π_k(c)]
 */
import { GraphBuilder } from '../graph.js';

export const PERMUTED_INPUT_A = 'grams_a';
export const PERMUTED_INPUT_B = 'grams_b';
export const PERMUTED_INPUT_PERMS = 'perms';
export const PERMUTED_OUTPUT = 'cross';

/** Inputs grams_a [I, n²], grams_b [J, n, n], perms [K, n] (int32); output cross [I, K·J]. */
export function buildPermutedCrossGraph(n: number, layersA: number, layersB: number, permutations: number): Uint8Array {
  const g = new GraphBuilder('repsim_permuted_cross');
  const a = g.input(PERMUTED_INPUT_A, 'float32', [layersA, n * n]);
  const b = g.input(PERMUTED_INPUT_B, 'float32', [layersB, n, n]);
  const perms = g.input(PERMUTED_INPUT_PERMS, 'int32', [permutations, n]);
  const flat = g.int64s([layersB, n * n]);
  const permuted = Array.from({ length: permutations }, (_, k) => {
    const order = g.op('Gather', [perms, g.scalar(k, 'int64')], { axis: 0 }); // [n]
    const rows = g.op('Gather', [b, order], { axis: 1 }); // [J, n, n]
    const both = g.op('Gather', [rows, order], { axis: 2 });
    return g.op('Reshape', [both, flat]); // [J, n²]
  });
  const stacked = permuted.length === 1 ? permuted[0] : g.op('Concat', permuted, { axis: 0 }); // [K·J, n²]
  g.output(g.op('Gemm', [a, stacked], { transB: 1 }, { outputNames: [PERMUTED_OUTPUT] }), 'float32', [layersA, permutations * layersB]);
  return g.encode();
}
