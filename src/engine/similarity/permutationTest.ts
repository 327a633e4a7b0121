/**
 * A permutation test for every cell of a CKA heatmap: is the cell distinguishable from chance?
 *
 * Shuffling model B's examples breaks their correspondence with model A's while keeping each
 * model's own representation (its grams, so its HSIC self terms) intact. For permutation p,
 * each batch b gets its own seeded permutation π_{p,b} of its rows, and the null CKA of cell (i, j) is
 *
 *   CKA_p = Σ_b w_b·HSIC(Kᵢ, Lⱼ[π_{p,b}, π_{p,b}]) / √( Σ_b w_b·HSIC(Kᵢ, Kᵢ) · Σ_b w_b·HSIC(Lⱼ, Lⱼ) )
 *
 * (the same estimator as the observed value: minibatch CKA over the same batches, or debiased /
 * biased CKA of one batch of all examples). Per cell:
 *   p-value     (1 + #{p : CKA_p ≥ CKA}) / (P + 1)  (Phipson & Smyth 2010: never 0, floor 1/(P + 1))
 *   null mean   (1/P)·Σ_p CKA_p, and its standard deviation
 *   calibrated  (CKA − null mean) / (1 − null mean): 0 at chance, and 1 stays 1
 *
 * Only cross products are recomputed (permutedCross.ts): the grams are those of the observed run.
 * The sums per permutation are kept over batches, so the test streams, merges and resumes like the
 * accumulator.
 */
import type { CenteredGram, Centering } from './centeredGrams.js';
import { permutedCross, type CyclicPermutations, type PermutationKernels } from './permutedCross.js';
import { seededRandom, shuffledIndices } from '../random.js';

/** Row i = layer i of model A; null where not tested (outside the cells asked for) or CKA is undefined. */
export type Matrix = (number | null)[][];

/** The test's outcome per cell (the protocol's PermutationTest). */
export interface PermutationTestResult {
  readonly permutations: number;
  readonly seed: number;
  /** What was permuted and how p is computed, in words. */
  readonly method: string;
  /** Mean CKA under the null. */
  readonly nullMean: Matrix;
  /** Standard deviation of CKA under the null. */
  readonly nullStd: Matrix;
  /** (1 + #{null CKA ≥ observed}) / (P + 1): never 0; its floor is 1/(P + 1). */
  readonly pValue: Matrix;
  /** (observed − null mean) / (1 − null mean): 0 at chance, 1 stays 1. */
  readonly calibrated: Matrix;
}

/** Which cells get the test: every cell, the diagonal (i with i), or the pairs named. */
export type PermutationCells = 'all' | 'diagonal' | readonly (readonly [string, string])[];

export interface PermutationTestOptions {
  /** Permutations (P ≥ 1). */
  readonly permutations: number;
  readonly seed: number;
  readonly cells?: PermutationCells;
}

export const PERMUTATION_STATE_VERSION = 1;

export interface PermutationTestState {
  readonly version: typeof PERMUTATION_STATE_VERSION;
  readonly permutations: number;
  readonly seed: number;
  /** Indices i·LB + j of the tested cells; absent: all. */
  readonly cells?: number[];
  /** Σ_b w_b·HSIC_π of every permutation and cell, [P, LA·LB]. */
  readonly nullCross: number[];
}

/** The cells a selection names, as a mask over i·LB + j (undefined: all); unknown layer names are an Error naming them. */
export function permutationCellMask(layersA: readonly string[], layersB: readonly string[], cells: PermutationCells | undefined): Uint8Array | undefined {
  if (cells === undefined || cells === 'all') return undefined;
  const lb = layersB.length;
  const mask = new Uint8Array(layersA.length * lb);
  if (cells === 'diagonal') {
    for (let i = 0; i < Math.min(layersA.length, lb); i++) mask[i * lb + i] = 1;
    return mask;
  }
  for (const [nameA, nameB] of cells) {
    const i = layersA.indexOf(nameA);
    const j = layersB.indexOf(nameB);
    if (i < 0) throw new Error(`permutationCells: model A has no compared layer '${nameA}' (it has ${layersA.map((l) => `'${l}'`).join(', ')})`);
    if (j < 0) throw new Error(`permutationCells: model B has no compared layer '${nameB}' (it has ${layersB.map((l) => `'${l}'`).join(', ')})`);
    mask[i * lb + j] = 1;
  }
  return mask;
}

/**
 * The seeded permutations of a batch of n rows, depending only on (seed, batch): a random
 * relabelling σ and P different cyclic shifts k ∈ 1 … n − 1 of it, π = σ⁻¹∘(+k)∘σ (permutedCross.ts);
 * a batch of fewer than P + 1 examples gets further relabellings, each with up to n − 1 shifts.
 * No draw is the identity, so a shared signal reaches the floor 1/(P + 1).
 */
export function batchPermutations(n: number, permutations: number, seed: number, batch: number): CyclicPermutations {
  const random = seededRandom((Math.imul(seed + 0x632be5ab, 0x85ebca6b) ^ Math.imul(batch + 1, 0x9e3779b1)) >>> 0);
  const groups: { order: Int32Array; shifts: Int32Array }[] = [];
  for (let left = permutations; left > 0; ) {
    const order = Int32Array.from(shuffledIndices(n, random));
    const count = Math.min(left, n - 1);
    // `count` different shifts out of 1 … n − 1: the first of a shuffle.
    const shifts = Int32Array.from(shuffledIndices(n - 1, random).subarray(0, count), (k) => k + 1);
    groups.push({ order, shifts });
    left -= count;
  }
  return { n, groups };
}

/** The observed sums the test compares against (the accumulator's). */
export interface ObservedSums {
  readonly cross: ArrayLike<number>;
  readonly selfA: ArrayLike<number>;
  readonly selfB: ArrayLike<number>;
}

export class PermutationTest {
  private readonly nullCross: Float64Array;
  private readonly mask: Uint8Array | undefined;

  private constructor(
    readonly layersA: readonly string[],
    readonly layersB: readonly string[],
    readonly permutations: number,
    readonly seed: number,
    mask: Uint8Array | undefined,
    nullCross?: ArrayLike<number>,
  ) {
    if (!Number.isInteger(permutations) || permutations < 1) throw new Error(`permutations: expected a whole number ≥ 1, got ${permutations}`);
    this.mask = mask;
    this.nullCross = new Float64Array(permutations * layersA.length * layersB.length);
    if (nullCross) this.nullCross.set(nullCross);
  }

  static create(layersA: readonly string[], layersB: readonly string[], options: PermutationTestOptions): PermutationTest {
    return new PermutationTest(layersA, layersB, options.permutations, options.seed, permutationCellMask(layersA, layersB, options.cells));
  }

  /** Restores a saved state; undefined when it does not fit these layers and options (the caller starts again). */
  static fromJSON(state: PermutationTestState | undefined, layersA: readonly string[], layersB: readonly string[], options: PermutationTestOptions): PermutationTest | undefined {
    if (!state || state.version !== PERMUTATION_STATE_VERSION || state.permutations !== options.permutations || state.seed !== options.seed) return undefined;
    const mask = permutationCellMask(layersA, layersB, options.cells);
    const cells = mask ? indicesOf(mask) : undefined;
    if (JSON.stringify(cells) !== JSON.stringify(state.cells) || state.nullCross.length !== options.permutations * layersA.length * layersB.length) return undefined;
    return new PermutationTest(layersA, layersB, options.permutations, options.seed, mask, state.nullCross);
  }

  toJSON(): PermutationTestState {
    return {
      version: PERMUTATION_STATE_VERSION,
      permutations: this.permutations,
      seed: this.seed,
      ...(this.mask ? { cells: indicesOf(this.mask) } : {}),
      nullCross: Array.from(this.nullCross),
    };
  }

  /** Adds batch `batch` (its index in the run's schedule, which seeds its permutations) with weight `weight`. */
  async add(gramsA: readonly CenteredGram[], gramsB: readonly CenteredGram[] | 'same', n: number, centering: Centering, weight: number, batch: number, kernels: PermutationKernels): Promise<void> {
    const perms = batchPermutations(n, this.permutations, this.seed, batch);
    const cross = await permutedCross(gramsA, gramsB, n, centering, perms, this.mask, kernels);
    for (let k = 0; k < cross.length; k++) this.nullCross[k] += weight * cross[k];
  }

  result(observed: ObservedSums): PermutationTestResult {
    const la = this.layersA.length;
    const lb = this.layersB.length;
    const cells = la * lb;
    const P = this.permutations;
    const blank = (): Matrix => Array.from({ length: la }, () => new Array<number | null>(lb).fill(null));
    const nullMean = blank();
    const nullStd = blank();
    const pValue = blank();
    const calibrated = blank();
    for (let i = 0; i < la; i++) {
      for (let j = 0; j < lb; j++) {
        const cell = i * lb + j;
        const denominator = Math.sqrt(observed.selfA[i] * observed.selfB[j]);
        if ((this.mask && !this.mask[cell]) || !(observed.selfA[i] > 0 && observed.selfB[j] > 0)) continue;
        const value = observed.cross[cell] / denominator;
        let sum = 0;
        let sumSquares = 0;
        let atLeast = 0;
        for (let p = 0; p < P; p++) {
          const v = this.nullCross[p * cells + cell] / denominator;
          sum += v;
          sumSquares += v * v;
          if (v >= value) atLeast += 1;
        }
        const mean = sum / P;
        nullMean[i][j] = mean;
        nullStd[i][j] = P > 1 ? Math.sqrt(Math.max(0, (sumSquares - P * mean * mean) / (P - 1))) : null;
        pValue[i][j] = (1 + atLeast) / (P + 1);
        calibrated[i][j] = mean < 1 ? (value - mean) / (1 - mean) : null;
      }
    }
    return { permutations: P, seed: this.seed, method: this.method(), nullMean, nullStd, pValue, calibrated };
  }

  private method(): string {
    const P = this.permutations;
    return (
      `${P} permutation${P === 1 ? '' : 's'} of model B's examples within each batch (seed ${this.seed}; random cyclic relabellings π = σ⁻¹∘(+k)∘σ, never the identity), which break the examples' correspondence and keep each model's grams; ` +
      `p = (1 + #{null CKA ≥ CKA}) / (${P} + 1), at least ${formatFloor(P)}; calibrated CKA = (CKA − null mean) / (1 − null mean)` +
      (this.mask ? `; tested cells: ${indicesOf(this.mask).length} of ${this.mask.length}` : '')
    );
  }
}

function formatFloor(permutations: number): string {
  return `1/${permutations + 1}`;
}

function indicesOf(mask: Uint8Array): number[] {
  const out: number[] = [];
  mask.forEach((v, k) => v && out.push(k));
  return out;
}
