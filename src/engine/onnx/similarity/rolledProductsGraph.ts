/**
 * The permutation test's rolls and inner products as one ONNX graph (see
 * similarity/permutedCross.ts): for each of K shifts k (an input, so one session serves every
 * batch), model B's relabelled grams rolled by k along both axes — one Slice of the 2 × 2 tiled
 * grams (rows and columns k … k+n−1), or for column-tiled grams [W̃ W̃] two (rows k … n−1 and
 * 0 … k−1 of columns k … k+n−1): contiguous row copies — stacked as [K·J, n²], and their inner products with every relabelled gram Ũᵢ of model A in one Gemm (transB,
 * no transpose materialised):
 *
 *   products[i, k·J + j] = Σ_{a,b} Ũᵢ[a, b]·W̃ⱼ[(a + k) mod n, (b + k) mod n]
 */
import { GraphBuilder } from '../graph.js';

export const ROLLED_INPUT_A = 'a';
export const ROLLED_INPUT_TILED = 'tiled';
export const ROLLED_INPUT_SHIFTS = 'shifts';
export const ROLLED_OUTPUT = 'products';

/** Inputs a [rows, n²], tiled [J, 2n, 2n] (or [J, n, 2n] when `columnsOnly`), shifts [K] (int64, each 1 … n−1); output products [rows, K·J]. */
export function buildRolledProductsGraph(n: number, rows: number, layers: number, shifts: number, columnsOnly: boolean): Uint8Array {
  const g = new GraphBuilder('repsim_rolled_products');
  const a = g.input(ROLLED_INPUT_A, 'float32', [rows, n * n]);
  const tiled = g.input(ROLLED_INPUT_TILED, 'float32', [layers, columnsOnly ? n : 2 * n, 2 * n]);
  const ks = g.input(ROLLED_INPUT_SHIFTS, 'int64', [shifts]);
  const axes = g.int64s([1, 2]);
  const flat = g.int64s([layers, n * n]);
  const rolled = Array.from({ length: shifts }, (_, index) => {
    const k = g.op('Slice', [ks, g.int64s([index]), g.int64s([index + 1])]); // [1]
    const kPlusN = g.op('Add', [k, g.int64s([n])]);
    const starts = g.op('Concat', [k, k], { axis: 0 });
    if (!columnsOnly) return g.op('Reshape', [g.op('Slice', [tiled, starts, g.op('Concat', [kPlusN, kPlusN], { axis: 0 }), axes]), flat]); // [J, n²]
    // Rows k … n−1, then rows 0 … k−1; columns k … k+n−1 of [W̃ W̃].
    const lower = g.op('Slice', [tiled, starts, g.op('Concat', [g.int64s([n]), kPlusN], { axis: 0 }), axes]);
    const upper = g.op('Slice', [tiled, g.op('Concat', [g.int64s([0]), k], { axis: 0 }), g.op('Concat', [k, kPlusN], { axis: 0 }), axes]);
    return g.op('Reshape', [g.op('Concat', [lower, upper], { axis: 1 }), flat]); // [J, n²]
  });
  const stacked = rolled.length === 1 ? rolled[0] : g.op('Concat', rolled, { axis: 0 }); // [K·J, n²]
  g.output(g.op('Gemm', [a, stacked], { transB: 1 }, { outputNames: [ROLLED_OUTPUT] }), 'float32', [rows, shifts * layers]);
  return g.encode();
}
