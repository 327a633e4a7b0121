/**
 * The permutation test's cross terms for every cyclic shift, by Fourier transform, as one ONNX
 * graph (the formula is in similarity/shiftCorrelation.ts): the skewed grams' DFT along a as
 * products with the cosine and sine bases (initializers of the graph), S(f) for every pair as two
 * batched products over the frequencies, and the inverse transform at the shifts (inputs, so one
 * session serves every batch) as two more products.
 */
import { GraphBuilder } from '../graph.js';
import { fourierBasis, frequencies } from '../../similarity/shiftCorrelation.js';

export const SHIFT_INPUT_A = 'skewed_a';
export const SHIFT_INPUT_B = 'skewed_b';
export const SHIFT_INPUT_COS = 'shift_cos';
export const SHIFT_INPUT_SIN = 'shift_sin';
export const SHIFT_OUTPUT = 'cross';

/**
 * Inputs skewed_a [LA, n, n] (and skewed_b [LB, n, n] unless `same`), shift_cos and shift_sin
 * [F, K] (shiftEvaluation); output cross [LA·LB, K].
 */
export function buildShiftCorrelationGraph(n: number, layersA: number, layersB: number, same: boolean, shifts: number): Uint8Array {
  const F = frequencies(n);
  const basis = fourierBasis(n);
  const g = new GraphBuilder('repsim_shift_correlation');
  const cos = g.initializer('dft_cos', 'float32', [n, F], basis.cos);
  const sin = g.initializer('dft_sin', 'float32', [n, F], basis.sin);
  const spectra = (input: string, layers: number) => {
    const x = g.input(input, 'float32', [layers, n, n]);
    return { c: g.op('MatMul', [x, cos]), s: g.op('MatMul', [x, sin]) }; // [L, n_d, F]
  };
  const u = spectra(SHIFT_INPUT_A, layersA);
  const w = same ? u : spectra(SHIFT_INPUT_B, layersB);
  const right = g.op('Transpose', [g.op('Concat', [w.c, w.s], { axis: 1 })], { perm: [2, 1, 0] }); // [F, 2n, LB]
  const left = (first: string, second: string) => g.op('Transpose', [g.op('Concat', [first, second], { axis: 1 })], { perm: [2, 0, 1] }); // [F, LA, 2n]
  const flat = (x: string) => g.op('Reshape', [g.op('Transpose', [x], { perm: [1, 2, 0] }), g.int64s([layersA * layersB, F])]);
  const real = flat(g.op('MatMul', [left(u.c, u.s), right])); // Re S [LA·LB, F]
  const imag = flat(g.op('MatMul', [left(u.s, g.op('Neg', [u.c])), right])); // Im S
  const evalCos = g.input(SHIFT_INPUT_COS, 'float32', [F, shifts]);
  const evalSin = g.input(SHIFT_INPUT_SIN, 'float32', [F, shifts]);
  g.output(g.op('Sub', [g.op('MatMul', [real, evalCos]), g.op('MatMul', [imag, evalSin])], {}, { outputNames: [SHIFT_OUTPUT] }), 'float32', [layersA * layersB, shifts]);
  return g.encode();
}
