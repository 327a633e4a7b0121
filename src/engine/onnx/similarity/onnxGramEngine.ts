/**
 * The similarity engine on ONNX Runtime: each batch's centred grams (one session run per model
 * and batch, all layers at once) and the all-pairs HSIC (one run), sessions cached per shape
 * signature. The FLOP-heavy products run in float32 in the runtime; the row sums and the
 * scale factors are finished in float64 here.
 */
import type * as Ort from 'onnxruntime-node';
import { batchHsicByChunks, type BatchHsic } from '../../similarity/batchHsic.js';
import type { CenteredGram, Centering, LayerBatch } from '../../similarity/centeredGrams.js';
import { centerGramBiasedInPlace, centerGramUnbiasedInPlace } from '../../similarity/centering.js';
import { rbfGramInPlace } from '../../similarity/gram.js';
import type { GramEngine } from '../../similarity/gramEngine.js';
import { LINEAR, type KernelSpec } from '../../similarity/kernel.js';
import { kernelKey, type OnnxRuntime } from '../runtime.js';
import { buildGramGraph, layerInputName, type StackedGramOutputs } from './gramGraph.js';
import type { PermutationKernels, RolledProducts } from '../../similarity/permutedCross.js';
import { frequencies, shiftEvaluation, type ShiftCorrelation } from '../../similarity/shiftCorrelation.js';
import { buildShiftCorrelationGraph, SHIFT_INPUT_A, SHIFT_INPUT_B, SHIFT_INPUT_COS, SHIFT_INPUT_SIN, SHIFT_OUTPUT } from './shiftCorrelationGraph.js';
import { buildRolledProductsGraph, ROLLED_INPUT_A, ROLLED_INPUT_SHIFTS, ROLLED_INPUT_TILED, ROLLED_OUTPUT } from './rolledProductsGraph.js';
import { buildHsicGraph, HSIC_CROSS_ROWS, HSIC_INPUT_A, HSIC_INPUT_B, HSIC_SELF_A_ROWS, HSIC_SELF_B_ROWS } from './hsicGraph.js';
import { ZERO_BANDWIDTH_REASON, ZERO_VARIANCE_REASON } from '../../similarity/centeredGrams.js';

export { ZERO_BANDWIDTH_REASON, ZERO_VARIANCE_REASON };

export interface OnnxCenteredGrams {
  readonly grams: CenteredGram[];
  /** Xs·Xsᵀ per layer (views), when the graph was built to return them. */
  readonly linear?: Float32Array[];
  /** Per layer, s²: the centred features' own linear gram is s²·Xs·Xsᵀ (with `linear`). */
  readonly linearScales?: number[];
}


/** Splits a stacked [L, n, n] output into per-layer views, zeroing degenerate layers. */
export function centeredGramsFromOutputs(outputs: Ort.InferenceSession.OnnxValueMapType, names: StackedGramOutputs, layers: number, n: number, kernel: KernelSpec): OnnxCenteredGrams {
  const stacked = outputs[names.grams].data as Float32Array;
  const spreads = outputs[names.spreads].data as Float32Array;
  const margins = outputs[names.margins].data as Float32Array;
  const medians = names.medians ? (outputs[names.medians].data as Float32Array) : undefined;
  const linearStack = names.linear ? (outputs[names.linear].data as Float32Array) : undefined;
  const size = n * n;
  const grams = Array.from({ length: layers }, (_, k): CenteredGram => {
    const gram = stacked.subarray(k * size, (k + 1) * size);
    const degenerate = !(margins[k] > 0) ? ZERO_VARIANCE_REASON : medians && !(medians[k] > 0) ? ZERO_BANDWIDTH_REASON : null;
    if (degenerate) gram.fill(0);
    const spread = spreads[k];
    return { gram, degenerate, scale: kernel.kind === 'linear' && !degenerate ? spread * spread : 1 };
  });
  const linear = linearStack ? Array.from({ length: layers }, (_, k) => linearStack.subarray(k * size, (k + 1) * size)) : undefined;
  const linearScales = linearStack ? Array.from(spreads, (s) => s * s) : undefined;
  return { grams, linear, linearScales };
}

/** Above this many bytes of stacked grams, each layer's gram is computed in a run of its own. */
const STACKED_GRAMS_BYTES = 256 * 1024 ** 2;

/** Batches above this many examples (full-data grams) finish the kernel map and centering in place, outside the graph. */
export const IN_GRAPH_GRAMS_UP_TO = 2048;

export interface OnnxGramEngineOptions {
  /**
   * The largest batch whose RBF map and centering run in the graph (default 2048). Larger ones —
   * full-data grams — stop the graph at X·Xᵀ and finish in place with float64 sums, as TF.js
   * does: the graph's n × n intermediates and an n²-element TopK for the RBF median would cost
   * several times the gram itself (and a float32 sum over n² terms loses digits).
   */
  readonly inGraphUpTo?: number;
}

export class OnnxGramEngine implements GramEngine {
  readonly description: string;
  readonly memoryEngine: { readonly kind: 'onnx'; readonly inGraphUpTo: number };
  private readonly inGraphUpTo: number;

  constructor(
    private readonly runtime: OnnxRuntime,
    options: OnnxGramEngineOptions = {},
  ) {
    this.description = `ONNX Runtime ${runtime.report.provider} (${runtime.report.threads} threads)`;
    this.inGraphUpTo = options.inGraphUpTo ?? IN_GRAPH_GRAMS_UP_TO;
    this.memoryEngine = { kind: 'onnx', inGraphUpTo: this.inGraphUpTo };
  }

  async grams(layers: readonly LayerBatch[], kernel: KernelSpec, centering: Centering): Promise<CenteredGram[]> {
    return (await this.centeredGrams(layers, kernel, centering, false)).grams;
  }

  /** The centred grams of one batch's layers, and on request each layer's Xs·Xsᵀ. */
  async centeredGrams(layers: readonly LayerBatch[], kernel: KernelSpec, centering: Centering, linear: boolean): Promise<OnnxCenteredGrams> {
    if (layers.length === 0) return { grams: [] };
    const n = layers[0].rows;
    if (n > this.inGraphUpTo) return this.finishedInPlace(layers, kernel, centering, linear);
    if (layers.length > 1 && n * n * layers.length * 4 > STACKED_GRAMS_BYTES) {
      // Large grams one layer at a time: the graph's temporaries are then those of one layer.
      const parts: OnnxCenteredGrams[] = [];
      for (const layer of layers) parts.push(await this.centeredGrams([layer], kernel, centering, linear));
      return {
        grams: parts.flatMap((p) => p.grams),
        linear: linear ? parts.flatMap((p) => p.linear!) : undefined,
        linearScales: linear ? parts.flatMap((p) => p.linearScales!) : undefined,
      };
    }
    const cols = layers.map((l) => l.cols);
    const key = `grams|n=${n}|${kernelKey(kernel)}|${centering}|${linear}|${cols.join(',')}`;
    const { session, meta: names } = await this.runtime.sessionWith(key, () => {
      const built = buildGramGraph(n, cols, { kernel, centering, linear });
      return { bytes: built.bytes, meta: built.outputs };
    });
    const feeds: Record<string, Ort.Tensor> = {};
    layers.forEach((layer, k) => {
      if (layer.rows !== n) throw new Error(`layer ${k} has ${layer.rows} rows in a batch of ${n}`);
      feeds[layerInputName(k)] = this.runtime.tensor(layer.data, [n, layer.cols]);
    });
    return centeredGramsFromOutputs(await session.run(feeds), names, layers.length, n, kernel);
  }

  /** Large grams: X·Xᵀ per layer from the graph (one run each), the kernel map and centering in place. */
  private async finishedInPlace(layers: readonly LayerBatch[], kernel: KernelSpec, centering: Centering, linear: boolean): Promise<OnnxCenteredGrams> {
    const grams: CenteredGram[] = [];
    const linears: Float32Array[] = [];
    const linearScales: number[] = [];
    for (const layer of layers) {
      const n = layer.rows;
      const key = `grams|n=${n}|linear-only|${layer.cols}`;
      const { session, meta: names } = await this.runtime.sessionWith(key, () => {
        const built = buildGramGraph(n, [layer.cols], { kernel: LINEAR, centering, linearOnly: true });
        return { bytes: built.bytes, meta: built.outputs };
      });
      const outputs = await session.run({ [layerInputName(0)]: this.runtime.tensor(layer.data, [n, layer.cols]) });
      const values = outputs[names.grams].data as Float32Array; // [1, n, n], this layer's own buffer
      const spread = (outputs[names.spreads].data as Float32Array)[0];
      const margin = (outputs[names.margins].data as Float32Array)[0];
      if (linear) {
        linears.push(values.slice());
        linearScales.push(spread * spread);
      }
      let degenerate: string | null = !(margin > 0) ? ZERO_VARIANCE_REASON : null;
      if (!degenerate && kernel.kind === 'rbf' && !rbfGramInPlace(values, n, kernel.threshold)) degenerate = ZERO_BANDWIDTH_REASON;
      if (degenerate) values.fill(0);
      else if (centering === 'unbiased') centerGramUnbiasedInPlace(values, n);
      else centerGramBiasedInPlace(values, n);
      grams.push({ gram: values, degenerate, scale: kernel.kind === 'linear' && !degenerate ? spread * spread : 1 });
    }
    return linear ? { grams, linear: linears, linearScales } : { grams };
  }

  /**
   * All-pairs HSIC of a batch, its rows in chunks (hsicChunkRows) so that the graph's transposes
   * stay small for full-data grams; `rowGroups` adds each jackknife group's share.
   */
  async batchHsic(gramsA: readonly CenteredGram[], gramsB: readonly CenteredGram[] | 'same', n: number, centering: Centering, rowGroups?: ArrayLike<number>): Promise<BatchHsic> {
    const same = gramsB === 'same';
    const la = gramsA.length;
    const lb = same ? la : gramsB.length;
    return batchHsicByChunks(gramsA, gramsB, n, centering, rowGroups, async ({ rows, a, b }) => {
      const key = `hsic|n=${n}|rows=${rows}|${la}x${lb}|${same}`;
      const session = await this.runtime.session(key, () => buildHsicGraph(n, la, lb, same, rows));
      const feeds: Record<string, Ort.Tensor> = { [HSIC_INPUT_A]: this.runtime.tensor(a, [la, rows, n]) };
      if (b) feeds[HSIC_INPUT_B] = this.runtime.tensor(b, [lb, rows, n]);
      const out = await session.run(feeds);
      return { cross: out[HSIC_CROSS_ROWS].data as Float32Array, selfA: out[HSIC_SELF_A_ROWS].data as Float32Array, selfB: same ? undefined : (out[HSIC_SELF_B_ROWS].data as Float32Array) };
    });
  }

  /** The permutation test's rolls and inner products (rolledProductsGraph.ts), a session per chunk shape. */
  readonly rolledProducts: RolledProducts = async ({ n, a, rows, tiled, columnsOnly, layers, shifts }) => {
    const session = await this.runtime.session(`rolled-products|n=${n}|${rows}x${layers}|k=${shifts.length}|${columnsOnly ? 'columns' : 'both'}`, () =>
      buildRolledProductsGraph(n, rows, layers, shifts.length, columnsOnly),
    );
    const out = await session.run({
      [ROLLED_INPUT_A]: this.runtime.tensor(a, [rows, n * n]),
      [ROLLED_INPUT_TILED]: this.runtime.tensor(tiled, [layers, columnsOnly ? n : 2 * n, 2 * n]),
      [ROLLED_INPUT_SHIFTS]: new this.runtime.ort.Tensor('int64', BigInt64Array.from(shifts, (k) => BigInt(k)), [shifts.length]),
    });
    return out[ROLLED_OUTPUT].data as Float32Array;
  };

  /** The permutation test's cross terms of every shift by Fourier transform (shiftCorrelationGraph.ts), a session per shape. */
  readonly shiftCorrelation: ShiftCorrelation = async ({ n, skewedA, layersA, skewedB, layersB, shifts }) => {
    const same = skewedB === null;
    const session = await this.runtime.session(`shift-correlation|n=${n}|${layersA}x${layersB}|${same}|k=${shifts.length}`, () =>
      buildShiftCorrelationGraph(n, layersA, layersB, same, shifts.length),
    );
    const F = frequencies(n);
    const evaluation = shiftEvaluation(n, shifts);
    const feeds: Record<string, Ort.Tensor> = {
      [SHIFT_INPUT_A]: this.runtime.tensor(skewedA, [layersA, n, n]),
      [SHIFT_INPUT_COS]: this.runtime.tensor(evaluation.cos, [F, shifts.length]),
      [SHIFT_INPUT_SIN]: this.runtime.tensor(evaluation.sin, [F, shifts.length]),
    };
    if (skewedB) feeds[SHIFT_INPUT_B] = this.runtime.tensor(skewedB, [layersB, n, n]);
    const out = await session.run(feeds);
    return out[SHIFT_OUTPUT].data as Float32Array;
  };

  get permutationKernels(): PermutationKernels {
    return { rolledProducts: this.rolledProducts, shiftCorrelation: this.shiftCorrelation };
  }

  async close(): Promise<void> {}
}
