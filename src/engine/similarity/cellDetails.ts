/**
 * What a cell's drill-down shows, collected batch by batch beside the accumulator:
 *
 * - each batch's own CKA per cell, HSIC_b(Kᵢ, Lⱼ) / √(HSIC_b(Kᵢ, Kᵢ)·HSIC_b(Lⱼ, Lⱼ)): their spread
 *   is what the minibatch estimate averages over;
 * - each example's share of the cell's numerator, from its row of the batch's centred grams:
 *   share_e = Σ_b w_b·Σ_c Ūᵢ[r_e, c]·V̄ⱼ[r_e, c] / c_b over the batches b holding e (at row r_e).
 *   Σ_e share_e = Σ_b w_b·HSIC_b(Kᵢ, Lⱼ), the numerator, so share_e / √(Σ self terms) are the
 *   examples' parts of the CKA value itself, summing to it. Examples with large shares are those
 *   whose similarity structure in both models drives the cell (Davari et al. 2022 show CKA can be
 *   moved by a few); negative shares pull it down.
 *
 * The shares take 4 bytes per example and cell; above `maxShareValues` they are not kept and
 * `contributionsMethod` says why. A resumed run has no shares for the batches before it resumed,
 * so it keeps none.
 */
import type { BatchHsic } from './batchHsic.js';
import type { ObservedSums } from './permutationTest.js';

/** One example's share of a cell (the protocol's ExampleContribution). */
export interface ExampleShare {
  /** Index in the evaluation set. */
  readonly example: number;
  /** The example's id, when the inputs or activation files carry an `ids` array. */
  readonly id?: string;
  /** In CKA units: all examples' shares sum to the cell's CKA. */
  readonly share: number;
}

export interface CellDetailsResult {
  /** perBatch[i][j][b]: batch b's own CKA (null where undefined); empty lists when not kept (see perBatchMethod). */
  readonly perBatch: (number | null)[][][];
  /** Why the per-batch values were not kept, when they were not. */
  readonly perBatchMethod?: string;
  /** Per cell, the examples contributing most (largest share first) and least (smallest first); absent when not kept (see contributionsMethod). */
  readonly top?: ExampleShare[][][];
  readonly bottom?: ExampleShare[][][];
  /** How the shares are computed, or why they were not kept, in words. */
  readonly contributionsMethod: string;
}

export const CELL_DETAILS_STATE_VERSION = 1;

export interface CellDetailsState {
  readonly version: typeof CELL_DETAILS_STATE_VERSION;
  /** Per batch, its CKA per cell (null where undefined), LA·LB values each. */
  readonly perBatch: (number | null)[][];
}

export interface CellDetailsOptions {
  /** Examples in the evaluation set (indices run 0 … examples − 1). */
  readonly examples: number;
  /** The most example × cell shares to keep (default 32 Mi values, 128 MiB). */
  readonly maxShareValues?: number;
  /** Top and bottom examples reported per cell (default 8). */
  readonly topExamples?: number;
  /** Batches the run makes; with more than `maxPerBatchValues` cells × batches, per-batch values are not kept. */
  readonly batches?: number;
  /** The most per-batch values to keep (default 1 Mi: they go into the results JSON and the report). */
  readonly maxPerBatchValues?: number;
}

const DEFAULT_MAX_SHARE_VALUES = 32 * 1024 * 1024;
const DEFAULT_MAX_PER_BATCH_VALUES = 1024 * 1024;

export class CellDetailsCollector {
  private readonly perBatch: (number | null)[][];
  private readonly shares: Float32Array | null;
  private readonly unkeptReason: string | null;
  private readonly topExamples: number;
  private readonly perBatchUnkept: string | null;

  constructor(
    readonly layersA: number,
    readonly layersB: number,
    private readonly options: CellDetailsOptions,
    resumed?: CellDetailsState,
  ) {
    const cells = layersA * layersB;
    const maxValues = options.maxShareValues ?? DEFAULT_MAX_SHARE_VALUES;
    this.perBatch = resumed?.version === CELL_DETAILS_STATE_VERSION ? resumed.perBatch.map((b) => [...b]) : [];
    this.topExamples = options.topExamples ?? 8;
    const maxPerBatch = options.maxPerBatchValues ?? DEFAULT_MAX_PER_BATCH_VALUES;
    this.perBatchUnkept =
      options.batches !== undefined && options.batches * cells > maxPerBatch ? `not kept: ${options.batches} batches × ${cells} cells is more than ${maxPerBatch} values; compare fewer layers to see them` : null;
    if (this.perBatch.length > 0) {
      this.shares = null;
      this.unkeptReason = 'not kept: the comparison resumed from a saved state, which holds no per-example shares of the batches before it (run it again from the start to see them)';
    } else if (options.examples * cells > maxValues) {
      this.shares = null;
      this.unkeptReason = `not kept: ${options.examples} examples × ${cells} cells is more than ${maxValues} values; compare fewer layers to see them`;
    } else {
      this.shares = new Float32Array(options.examples * cells);
      this.unkeptReason = null;
    }
  }

  toJSON(): CellDetailsState {
    return { version: CELL_DETAILS_STATE_VERSION, perBatch: this.perBatch.map((b) => [...b]) };
  }

  /** Adds a batch (its terms with rowCross/cellFactor) of the examples `examples` (row r is example examples[r]), weight w. */
  add(batch: BatchHsic, weight: number, examples: ArrayLike<number>): void {
    const { layersA: la, layersB: lb } = this;
    const cells = la * lb;
    const values: (number | null)[] = new Array(cells);
    for (let i = 0; i < la; i++) {
      for (let j = 0; j < lb; j++) {
        const product = batch.selfA[i] * batch.selfB[j];
        values[i * lb + j] = product > 0 ? batch.cross[i * lb + j] / Math.sqrt(product) : null;
      }
    }
    if (!this.perBatchUnkept) this.perBatch.push(values);
    const shares = this.shares;
    if (!shares) return;
    if (!batch.rowCross || !batch.cellFactor) throw new Error('cell details need each row\'s cross terms (rowCross) of the batch');
    const rows = examples.length;
    for (let r = 0; r < rows; r++) {
      const base = examples[r] * cells;
      const rowBase = r * cells;
      for (let k = 0; k < cells; k++) shares[base + k] += weight * batch.rowCross[rowBase + k] * batch.cellFactor[k];
    }
  }

  /** Per example, its share of cell (i, j)'s numerator (in HSIC units), or undefined when shares are not kept. */
  numeratorShares(i: number, j: number): Float64Array | undefined {
    if (!this.shares) return undefined;
    const cells = this.layersA * this.layersB;
    const cell = i * this.layersB + j;
    return Float64Array.from({ length: this.options.examples }, (_, e) => this.shares![e * cells + cell]);
  }

  result(observed: ObservedSums, ids?: readonly string[]): CellDetailsResult {
    const { layersA: la, layersB: lb } = this;
    const perBatch = Array.from({ length: la }, (_, i) => Array.from({ length: lb }, (_, j) => this.perBatch.map((b) => b[i * lb + j])));
    const perBatchMethod = this.perBatchUnkept ? { perBatchMethod: this.perBatchUnkept } : {};
    if (!this.shares) return { perBatch, ...perBatchMethod, contributionsMethod: this.unkeptReason! };
    const top: ExampleShare[][][] = [];
    const bottom: ExampleShare[][][] = [];
    for (let i = 0; i < la; i++) {
      top.push([]);
      bottom.push([]);
      for (let j = 0; j < lb; j++) {
        const denominator = Math.sqrt(observed.selfA[i] * observed.selfB[j]);
        if (!(denominator > 0)) {
          top[i].push([]);
          bottom[i].push([]);
          continue;
        }
        const { highest, lowest } = extremes(this.numeratorShares(i, j)!, this.topExamples);
        const entry = (e: number, share: number): ExampleShare => ({ example: e, ...(ids ? { id: ids[e] } : {}), share: share / denominator });
        top[i].push(highest.map(([e, s]) => entry(e, s)));
        bottom[i].push(lowest.map(([e, s]) => entry(e, s)));
      }
    }
    return {
      perBatch,
      ...perBatchMethod,
      top,
      bottom,
      contributionsMethod:
        `each example's share of the cell: its row of the batch's centred grams, Σ_c Ū[r, c]·V̄[r, c] / c, summed over the batches holding it ` +
        `and divided by the CKA denominator, so that all examples' shares sum to the cell's value; top: the ${this.topExamples} largest, bottom: the ${this.topExamples} smallest`,
    };
  }
}

/** The k largest (largest first) and k smallest (smallest first) values with their indices, skipping examples never seen (exactly 0). */
function extremes(values: Float64Array, k: number): { highest: [number, number][]; lowest: [number, number][] } {
  const order = Array.from(values.keys()).filter((e) => values[e] !== 0);
  order.sort((x, y) => values[y] - values[x]);
  return {
    highest: order.slice(0, k).map((e) => [e, values[e]]),
    lowest: order.slice(-k).reverse().map((e) => [e, values[e]]),
  };
}
