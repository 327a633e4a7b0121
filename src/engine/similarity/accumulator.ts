/**
 * Minibatch CKA over all layer pairs at once (Nguyen, Raghu & Kornblith 2021, eq. 3):
 *
 *   CKA = Σ_b HSIC₁(K_b, L_b) / √( Σ_b HSIC₁(K_b, K_b) · Σ_b HSIC₁(L_b, L_b) )
 *
 * The accumulator keeps those sums per pair and per layer, so accumulators over different
 * batches, passes or shards merge by addition. The standard error of a cell is the spread of
 * the per-batch CKA values over the minibatches: sd / √m (null below two batches).
 */
import type { BatchHsic } from './batchHsic.js';

export interface CkaMatrixResult {
  readonly layersA: readonly string[];
  readonly layersB: readonly string[];
  /** Row i = layer i of model A; null where CKA is undefined. */
  readonly matrix: (number | null)[][];
  /** Standard error of each cell from the spread over minibatches; null below two batches. */
  readonly stderr: (number | null)[][];
  readonly batches: number;
  /** One line per layer whose CKA is undefined, naming it. */
  readonly warnings: readonly string[];
}

/** The accumulator's state as plain JSON, for caches and for sending between processes. */
export interface AccumulatorState {
  readonly layersA: readonly string[];
  readonly layersB: readonly string[];
  readonly batches: number;
  readonly crossSum: number[];
  readonly selfSumA: number[];
  readonly selfSumB: number[];
  readonly batchCkaSum: number[];
  readonly batchCkaSumSq: number[];
  readonly batchCkaCount: number[];
}

export class MinibatchCkaAccumulator {
  private batchCount = 0;
  private readonly crossSum: Float64Array;
  private readonly selfSumA: Float64Array;
  private readonly selfSumB: Float64Array;
  // Per-cell moments of the per-batch CKA, for the standard error.
  private readonly batchCkaSum: Float64Array;
  private readonly batchCkaSumSq: Float64Array;
  private readonly batchCkaCount: Float64Array;

  constructor(
    readonly layersA: readonly string[],
    readonly layersB: readonly string[],
  ) {
    const cells = layersA.length * layersB.length;
    this.crossSum = new Float64Array(cells);
    this.selfSumA = new Float64Array(layersA.length);
    this.selfSumB = new Float64Array(layersB.length);
    this.batchCkaSum = new Float64Array(cells);
    this.batchCkaSumSq = new Float64Array(cells);
    this.batchCkaCount = new Float64Array(cells);
  }

  get batches(): number {
    return this.batchCount;
  }

  add(batch: BatchHsic): void {
    const { layersA, layersB } = this;
    if (batch.layersA !== layersA.length || batch.layersB !== layersB.length) {
      throw new Error(`batch has ${batch.layersA} × ${batch.layersB} layers, accumulator ${layersA.length} × ${layersB.length}`);
    }
    for (let i = 0; i < layersA.length; i++) this.selfSumA[i] += batch.selfA[i];
    for (let j = 0; j < layersB.length; j++) this.selfSumB[j] += batch.selfB[j];
    for (let i = 0; i < layersA.length; i++) {
      for (let j = 0; j < layersB.length; j++) {
        const cell = i * layersB.length + j;
        this.crossSum[cell] += batch.cross[cell];
        const value = ckaOf(batch.cross[cell], batch.selfA[i], batch.selfB[j]);
        if (value === null) continue;
        this.batchCkaSum[cell] += value;
        this.batchCkaSumSq[cell] += value * value;
        this.batchCkaCount[cell] += 1;
      }
    }
    this.batchCount += 1;
  }

  /** Adds another accumulator's batches (other shards, passes or processes) into this one. */
  merge(other: MinibatchCkaAccumulator): void {
    if (!sameNames(this.layersA, other.layersA) || !sameNames(this.layersB, other.layersB)) {
      throw new Error('cannot merge CKA accumulators over different layers');
    }
    addInto(this.crossSum, other.crossSum);
    addInto(this.selfSumA, other.selfSumA);
    addInto(this.selfSumB, other.selfSumB);
    addInto(this.batchCkaSum, other.batchCkaSum);
    addInto(this.batchCkaSumSq, other.batchCkaSumSq);
    addInto(this.batchCkaCount, other.batchCkaCount);
    this.batchCount += other.batchCount;
  }

  result(): CkaMatrixResult {
    const { layersA, layersB } = this;
    const warnings = [
      ...undefinedLayerWarnings('model A', layersA, this.selfSumA),
      ...undefinedLayerWarnings('model B', layersB, this.selfSumB),
    ];
    const matrix = layersA.map((_, i) =>
      layersB.map((_, j) => ckaOf(this.crossSum[i * layersB.length + j], this.selfSumA[i], this.selfSumB[j])),
    );
    const stderr = layersA.map((_, i) =>
      layersB.map((_, j) => {
        if (matrix[i][j] === null) return null;
        return standardError(this.batchCkaSum, this.batchCkaSumSq, this.batchCkaCount, i * layersB.length + j);
      }),
    );
    return { layersA: [...layersA], layersB: [...layersB], matrix, stderr, batches: this.batchCount, warnings };
  }

  toJSON(): AccumulatorState {
    return {
      layersA: [...this.layersA],
      layersB: [...this.layersB],
      batches: this.batchCount,
      crossSum: Array.from(this.crossSum),
      selfSumA: Array.from(this.selfSumA),
      selfSumB: Array.from(this.selfSumB),
      batchCkaSum: Array.from(this.batchCkaSum),
      batchCkaSumSq: Array.from(this.batchCkaSumSq),
      batchCkaCount: Array.from(this.batchCkaCount),
    };
  }

  static fromJSON(state: AccumulatorState): MinibatchCkaAccumulator {
    const acc = new MinibatchCkaAccumulator(state.layersA, state.layersB);
    acc.crossSum.set(state.crossSum);
    acc.selfSumA.set(state.selfSumA);
    acc.selfSumB.set(state.selfSumB);
    acc.batchCkaSum.set(state.batchCkaSum);
    acc.batchCkaSumSq.set(state.batchCkaSumSq);
    acc.batchCkaCount.set(state.batchCkaCount);
    acc.batchCount = state.batches;
    return acc;
  }
}

/** HSIC(K,L)/√(HSIC(K,K)·HSIC(L,L)); null unless both self terms are positive. Not clamped. */
function ckaOf(cross: number, selfK: number, selfL: number): number | null {
  if (!(selfK > 0 && selfL > 0)) return null;
  return cross / Math.sqrt(selfK * selfL);
}

function standardError(sum: Float64Array, sumSq: Float64Array, count: Float64Array, cell: number): number | null {
  const m = count[cell];
  if (m < 2) return null;
  const mean = sum[cell] / m;
  const variance = Math.max(0, (sumSq[cell] - m * mean * mean) / (m - 1)); // guards float round-off only
  return Math.sqrt(variance / m);
}

function undefinedLayerWarnings(model: string, names: readonly string[], selfSums: Float64Array): string[] {
  const warnings: string[] = [];
  names.forEach((name, i) => {
    if (selfSums[i] === 0) warnings.push(`${model} layer '${name}' has zero variance over the evaluated examples: its CKA is undefined (null)`);
    else if (!(selfSums[i] > 0)) warnings.push(`${model} layer '${name}': its HSIC self-similarity estimate is not positive (${selfSums[i]}), so its CKA is undefined (null); use more or larger batches`);
  });
  return warnings;
}

function addInto(target: Float64Array, source: Float64Array): void {
  for (let i = 0; i < target.length; i++) target[i] += source[i];
}

/** The same layer names in the same order. */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}
