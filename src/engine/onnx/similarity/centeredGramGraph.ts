/**
 * The centred gram of a layer as ONNX nodes, appended to any graph that has the layer's
 * activations (a graph of activation batches, or a model's own graph).
 *
 * For activations X (n × d, any [n, ...] value flattened):
 *   1. Xc = X − 1·μᵀ (feature means): invariant for every CKA/HSIC estimator, and keeps X·Xᵀ
 *      from cancelling in float32 (Kornblith et al. 2019's reference centres too).
 *   2. Scale: each feature's spread sⱼ = mean |Xc[:, j]| (mean absolute deviation: no square to
 *      overflow or underflow). Features at float32 noise of their own magnitude, sⱼ ≤ 1e-6·(sⱼ +
 *      |μⱼ|), are dropped (a float32 mean of a feature at 1e10 is off by thousands); the rest are
 *      divided by s = max sⱼ: Xs = Xc·kept/s, so the float32 products neither overflow nor
 *      underflow whatever the activations' range (CKA is scale-invariant; the caller multiplies
 *      HSIC terms by s² per layer in float64, so sums over batches stay consistent).
 *   3. Gram: linear K = Xs·Xsᵀ; RBF K = exp(−‖xᵢ−xⱼ‖² / (2σ²)), σ² = T²·median of the squared
 *      distances (`gram_rbf` in Kornblith et al.'s code; the median by TopK).
 *   4. Centering (Kornblith et al. 2019, `center_gram`): biased H·K·H, or unbiased U-centering
 *      (Székely & Rizzo; ⟨U(K), U(L)⟩/(n(n−3)) = HSIC₁ of Song et al. 2012):
 *        Ũᵢⱼ = Kᵢⱼ − mᵢ − mⱼ (i ≠ j, 0 on the diagonal), mᵢ = Σⱼ≠ᵢ Kᵢⱼ/(n−2) − Σₖ≠ₗ Kₖₗ/(2(n−1)(n−2)).
 *   5. Zero variance, feature by feature: the layer carries information when some feature is
 *      kept in step 2; `margin` > 0 says so.
 * Column means and spreads are (1/n)·1ᵀX matmuls: MLAS reduces over axis 0 far slower.
 */
import { onnxDataType, type GraphBuilder } from '../graph.js';
import type { Centering } from '../../similarity/centeredGrams.js';
import { ZERO_VARIANCE_RELATIVE, type KernelSpec } from '../../similarity/kernel.js';

/** Smallest normal float32: the divisor for a layer whose spread is zero (its gram is then zero). */
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

export interface CenteredGramValues {
  /** [n, n] centred gram of the scaled features. */
  readonly gram: string;
  /** Scalar s: the true linear gram is s²·gram (RBF: 1). */
  readonly spread: string;
  /** Scalar: > 0 when the layer has variance (see step 5). */
  readonly margin: string;
  /** Scalar median squared distance (RBF only): ≤ 0 means the bandwidth is zero. */
  readonly median?: string;
  /** [n, n] Xs·Xsᵀ (uncentred gram of the centred, scaled features), when asked for. */
  readonly linear?: string;
}

export interface CenteredGramSpec {
  /** Examples in the batch (the graph is built for one n). */
  readonly rows: number;
  readonly kernel: KernelSpec;
  readonly centering: Centering;
  /** Also return Xs·Xsᵀ (for the first principal component's share of variance). */
  readonly linear?: boolean;
  /**
   * Stop at the linear gram: `gram` is Xs·Xsᵀ, with no kernel map and no centering (the caller
   * finishes them in place: large full-data grams, where the graph's n × n intermediates and an
   * n²-element TopK would cost more than the gram itself).
   */
  readonly linearOnly?: boolean;
  /** A readable prefix for the nodes' names. */
  readonly prefix?: string;
}

/** Appends the nodes for one layer; `value` is its activations [n, ...]. */
export function appendCenteredGram(g: GraphBuilder, value: string, spec: CenteredGramSpec): CenteredGramValues {
  const p = spec.prefix ?? value;
  const name = (suffix: string) => ({ name: `${p}/${suffix}`, outputNames: [`${p}/${suffix}`] });
  const flat = g.op('Reshape', [value, g.int64s([0, -1])], {}, name('flat')); // [n, d]
  // Column means as (1/n)·1ᵀX: MLAS runs these matmuls far faster than reductions over axis 0.
  const averageRow = g.constant('float32', [1, spec.rows], new Array(spec.rows).fill(1 / spec.rows));
  const mean = g.op('MatMul', [averageRow, flat], {}, name('mean')); // [1, d]
  const centred = g.op('Sub', [flat, mean], {}, name('centred')); // [n, d]
  const spreadPerFeature = g.op('MatMul', [averageRow, g.op('Abs', [centred])], {}, name('feature_spread')); // [1, d] mean |Xc[:, j]|
  const magnitude = g.op('Add', [spreadPerFeature, g.op('Abs', [mean])], {}, name('feature_magnitude')); // [1, d]
  // Features whose spread is float32 noise of their own magnitude are dropped (a float32 mean of a
  // feature at 1e10 is off by thousands); the layer has variance when any feature is kept.
  const signal = g.op('Sub', [spreadPerFeature, g.op('Mul', [magnitude, g.scalar(ZERO_VARIANCE_RELATIVE)])]); // [1, d]
  const margin = g.op('ReduceMax', [signal], { keepdims: 0 }, name('variance_margin')); // []
  const kept = g.op('Cast', [g.op('Greater', [signal, g.scalar(0)])], { to: onnxDataType('float32') }); // [1, d] 0/1
  const spread = g.op('ReduceMax', [g.op('Mul', [spreadPerFeature, kept])], { keepdims: 0 }, name('spread')); // []
  const weights = g.op('Div', [kept, g.op('Max', [spread, g.scalar(FLOAT32_MIN_NORMAL)])]); // [1, d]
  const scaled = g.op('Mul', [centred, weights], {}, name('scaled')); // [n, d]
  const linear = g.op('Gemm', [scaled, scaled], { transB: 1 }, name('linear_gram')); // [n, n]
  if (spec.linearOnly) return { gram: linear, spread, margin };

  let kernelGram = linear;
  let median: string | undefined;
  if (spec.kernel.kind === 'rbf') {
    const rbfGram = appendRbfFromLinear(g, linear, spec.rows, spec.kernel.threshold, p);
    kernelGram = rbfGram.gram;
    median = rbfGram.median;
  }
  const gram = spec.centering === 'unbiased' ? appendUnbiasedCentering(g, kernelGram, spec.rows, p) : appendBiasedCentering(g, kernelGram, p);
  return { gram, spread, margin, median, linear: spec.linear ? linear : undefined };
}

/** dᵢⱼ = Gᵢᵢ + Gⱼⱼ − 2Gᵢⱼ (the diagonal taken from G, so dᵢᵢ = 0 exactly), then the RBF gram. */
function appendRbfFromLinear(g: GraphBuilder, linear: string, n: number, threshold: number, p: string): { gram: string; median: string } {
  const eye = g.op('EyeLike', [linear]); // [n, n]
  const diagonal = g.op('ReduceSum', [g.op('Mul', [linear, eye]), g.int64s([1])], { keepdims: 1 }); // [n, 1]
  const twice = g.op('Mul', [linear, g.scalar(2)]);
  const distances = g.op('Add', [g.op('Sub', [diagonal, twice]), g.op('Transpose', [diagonal])], {}, { name: `${p}/sq_distances` }); // [n, n]
  // np.median: the mean of the two middle values of the n² distances when n² is even.
  const count = n * n;
  const k = Math.floor(count / 2) + 1;
  const [smallest] = g.node('TopK', [g.op('Reshape', [distances, g.int64s([-1])]), g.int64s([k])], { largest: 0, sorted: 1 }, { outputs: 2 }); // [k] ascending
  const middle = count % 2 === 0 ? g.op('ReduceMean', [g.op('Slice', [smallest, g.int64s([k - 2]), g.int64s([k])])], { keepdims: 0 }) : g.op('ReduceMax', [smallest], { keepdims: 0 });
  const median = g.op('Identity', [middle], {}, { name: `${p}/median`, outputNames: [`${p}/median`] });
  const bandwidth = g.op('Mul', [median, g.scalar(-2 * threshold * threshold)]); // −2σ²
  const gram = g.op('Exp', [g.op('Div', [distances, bandwidth])], {}, { name: `${p}/rbf_gram` });
  return { gram, median };
}

/** H·K·H = K − row means − column means + grand mean (the mean of the row means: no float32 sum over n² terms). */
export function appendBiasedCentering(g: GraphBuilder, gram: string, p: string): string {
  const rowMeans = g.op('ReduceMean', [gram], { axes: [1], keepdims: 1 }); // [n, 1]
  const colMeans = g.op('ReduceMean', [gram], { axes: [0], keepdims: 1 }); // [1, n]
  const grand = g.op('ReduceMean', [rowMeans], { keepdims: 0 }); // []
  return g.op('Add', [g.op('Sub', [g.op('Sub', [gram, rowMeans]), colMeans]), grand], {}, { name: `${p}/centred_gram`, outputNames: [`${p}/centred_gram`] });
}

/** U-centering (see the module comment), for n ≥ 4. */
export function appendUnbiasedCentering(g: GraphBuilder, gram: string, n: number, p: string): string {
  const offDiagonal = g.op('Sub', [g.scalar(1), g.op('EyeLike', [gram])]); // [n, n]
  const hollow = g.op('Mul', [gram, offDiagonal]);
  const columnMeans = g.op('Mul', [g.op('ReduceSum', [hollow, g.int64s([0])], { keepdims: 0 }), g.scalar(1 / (n - 2))]); // [n]
  const grand = g.op('Mul', [g.op('ReduceSum', [columnMeans], { keepdims: 0 }), g.scalar(1 / (2 * (n - 1)))]); // []
  const means = g.op('Sub', [columnMeans, grand]); // [n]
  const rows = g.op('Unsqueeze', [means, g.int64s([1])]); // [n, 1]
  const cols = g.op('Unsqueeze', [means, g.int64s([0])]); // [1, n]
  const centred = g.op('Sub', [g.op('Sub', [hollow, rows]), cols]);
  return g.op('Mul', [centred, offDiagonal], {}, { name: `${p}/centred_gram`, outputNames: [`${p}/centred_gram`] });
}

/** Stacks scalars or matrices along a new leading axis: [k, ...]. */
export function appendStack(g: GraphBuilder, values: readonly string[], outputName: string): string {
  const expanded = values.map((v) => g.op('Unsqueeze', [v, g.int64s([0])]));
  return g.op('Concat', expanded, { axis: 0 }, { name: outputName, outputNames: [outputName] });
}
