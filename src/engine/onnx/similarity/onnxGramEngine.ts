/**
 * The similarity engine on ONNX Runtime: each batch's centred grams (one session run per model
 * and batch, all layers at once) and the all-pairs HSIC (one run), sessions cached per shape
 * signature. The FLOP-heavy products run in float32 in the runtime; the row sums and the
 * scale factors are finished in float64 here.
 */
import type * as Ort from 'onnxruntime-node';
import { finishBatchHsic, sumLeadingAxisFloat64, type BatchHsic } from '../../similarity/batchHsic.js';
import type { CenteredGram, Centering, LayerBatch } from '../../similarity/centeredGrams.js';
import type { GramEngine } from '../../similarity/gramEngine.js';
import type { KernelSpec } from '../../similarity/kernel.js';
import type { OnnxRuntime } from '../runtime.js';
import { buildGramGraph, layerInputName, type StackedGramOutputs } from './gramGraph.js';
import { buildHsicGraph, HSIC_CROSS_ROWS, HSIC_INPUT_A, HSIC_INPUT_B, HSIC_SELF_A_ROWS, HSIC_SELF_B_ROWS } from './hsicGraph.js';

export const ZERO_VARIANCE_REASON = 'the layer has zero variance over these examples';
export const ZERO_BANDWIDTH_REASON = 'the RBF bandwidth is zero: at least half the pairs of examples have identical activations';

export interface OnnxCenteredGrams {
  readonly grams: CenteredGram[];
  /** Xs·Xsᵀ per layer (views), when the graph was built to return them. */
  readonly linear?: Float32Array[];
}

function kernelKey(kernel: KernelSpec): string {
  return kernel.kind === 'rbf' ? `rbf(${kernel.threshold})` : 'linear';
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
  return { grams, linear };
}

/** The grams as one [L, n, n] array: the stacked output itself when they are its consecutive views. */
export function stackGrams(grams: readonly CenteredGram[], n: number): Float32Array {
  const size = n * n;
  const first = grams[0]?.gram;
  const contiguous = first && grams.every((g, k) => g.gram.buffer === first.buffer && g.gram.byteOffset === first.byteOffset + k * size * 4 && g.gram.length === size);
  if (contiguous) return new Float32Array(first.buffer, first.byteOffset, grams.length * size);
  const out = new Float32Array(grams.length * size);
  grams.forEach((g, k) => out.set(g.gram, k * size));
  return out;
}

/** Σ over the last axis of a row-major [L, n] array, in float64. */
function sumColumns(values: Float32Array, layers: number): Float64Array {
  const n = values.length / layers;
  const out = new Float64Array(layers);
  for (let k = 0; k < layers; k++) {
    let total = 0;
    for (let r = 0; r < n; r++) total += values[k * n + r];
    out[k] = total;
  }
  return out;
}

export class OnnxGramEngine implements GramEngine {
  readonly description: string;

  constructor(private readonly runtime: OnnxRuntime) {
    this.description = `ONNX Runtime ${runtime.report.provider} (${runtime.report.threads} threads)`;
  }

  async grams(layers: readonly LayerBatch[], kernel: KernelSpec, centering: Centering): Promise<CenteredGram[]> {
    return (await this.centeredGrams(layers, kernel, centering, false)).grams;
  }

  /** The centred grams of one batch's layers, and on request each layer's Xs·Xsᵀ. */
  async centeredGrams(layers: readonly LayerBatch[], kernel: KernelSpec, centering: Centering, linear: boolean): Promise<OnnxCenteredGrams> {
    if (layers.length === 0) return { grams: [] };
    const n = layers[0].rows;
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

  async batchHsic(gramsA: readonly CenteredGram[], gramsB: readonly CenteredGram[] | 'same', n: number, centering: Centering): Promise<BatchHsic> {
    const same = gramsB === 'same';
    const b = same ? gramsA : gramsB;
    const key = `hsic|n=${n}|${gramsA.length}x${b.length}|${same}`;
    const session = await this.runtime.session(key, () => buildHsicGraph(n, gramsA.length, b.length, same));
    const feeds: Record<string, Ort.Tensor> = { [HSIC_INPUT_A]: this.runtime.tensor(stackGrams(gramsA, n), [gramsA.length, n, n]) };
    if (!same) feeds[HSIC_INPUT_B] = this.runtime.tensor(stackGrams(b, n), [b.length, n, n]);
    const out = await session.run(feeds);
    const cross = sumLeadingAxisFloat64(out[HSIC_CROSS_ROWS].data as Float32Array, n);
    const selfA = sumColumns(out[HSIC_SELF_A_ROWS].data as Float32Array, gramsA.length);
    const selfB = same ? selfA : sumColumns(out[HSIC_SELF_B_ROWS].data as Float32Array, b.length);
    return finishBatchHsic(cross, selfA, selfB, gramsA, b, n, centering);
  }

  async close(): Promise<void> {}
}
