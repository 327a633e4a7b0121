/**
 * Minibatch CKA over all layer pairs at once (Nguyen, Raghu & Kornblith 2021, eq. 3):
 *
 *   CKA = Σ_b w_b·HSIC₁(K_b, L_b) / √( Σ_b w_b·HSIC₁(K_b, K_b) · Σ_b w_b·HSIC₁(L_b, L_b) )
 *
 * (w_b = 1 for full batches, rows/batchSize for a trailing partial batch). The accumulator keeps
 * those sums per pair and per layer, so accumulators over different batches, passes or shards
 * merge by addition.
 *
 * The standard error is a delete-one-group jackknife of that ratio (the reported value itself,
 * not the spread of per-batch CKA). Groups are blocks of examples, fixed for the whole run (the
 * caller's choice; ckaMatrix and compareModels use blocks of batchSize consecutive examples, the
 * batches of a one-pass run). Each batch's HSIC terms are split among the groups of its rows:
 * a group's share is its first-order influence 2·Σ_{r∈g} Σ_c Ū_rc·V̄_rc − Σ_{r,c∈g} Ū_rc·V̄_rc
 * (its rows and columns of the centred-gram product; U- and H-centred grams have zero row sums,
 * so removing examples changes the rest only at second order). When a batch lies in one group
 * that share is the whole batch, so a one-pass run gets the exact delete-one-batch jackknife;
 * over several passes each group collects its own examples' contributions from every pass, so
 * reshuffling the same examples does not shrink the error bar (more examples do). Groups of
 * unequal size use the delete-m_j jackknife (Busing, Meijer & van der Leeden 1999).
 */
import type { BatchHsic, GroupHsic } from './batchHsic.js';

export interface CkaMatrixResult {
  readonly layersA: readonly string[];
  readonly layersB: readonly string[];
  /** Row i = layer i of model A; null where CKA is undefined. */
  readonly matrix: (number | null)[][];
  /**
   * Standard error of each cell's reported value: a delete-one-group jackknife over blocks of
   * examples (see `stderrMethod`); null with fewer than two groups or where CKA is undefined.
   */
  readonly stderr: (number | null)[][];
  /** How `stderr` was computed, in words (e.g. 'delete-one-block jackknife over 4 blocks of 256 consecutive examples'). */
  readonly stderrMethod: string;
  readonly batches: number;
  /** One line per layer whose CKA is undefined, naming it. */
  readonly warnings: readonly string[];
}

/** Saved states carry this version; states without it (from before the jackknife) cannot be resumed. */
export const ACCUMULATOR_STATE_VERSION = 2;

/** The accumulator's state as plain JSON, for caches and for sending between processes. */
export interface AccumulatorState {
  readonly version: typeof ACCUMULATOR_STATE_VERSION;
  readonly layersA: readonly string[];
  readonly layersB: readonly string[];
  readonly batches: number;
  readonly crossSum: number[];
  readonly selfSumA: number[];
  readonly selfSumB: number[];
  /** Per jackknife group (same order in every array): its key, rows seen, and its shares of the sums (flattened). */
  readonly groups: {
    readonly keys: number[];
    readonly rows: number[];
    readonly cross: number[];
    readonly selfA: number[];
    readonly selfB: number[];
  };
  /** Examples per group, when groups are blocks of consecutive examples (for `stderrMethod`). */
  readonly groupExamples?: number;
}

/** True for a state this version can resume; false for one saved by an older version (or not a state). */
export function isCurrentAccumulatorState(state: unknown): state is AccumulatorState {
  return typeof state === 'object' && state !== null && (state as { version?: unknown }).version === ACCUMULATOR_STATE_VERSION && typeof (state as { groups?: unknown }).groups === 'object';
}

interface GroupSums {
  rows: number;
  readonly cross: Float64Array;
  readonly selfA: Float64Array;
  readonly selfB: Float64Array;
}

export interface AccumulatorOptions {
  /** Examples per jackknife group, when groups are blocks of consecutive examples (describes `stderrMethod`). */
  readonly groupExamples?: number;
}

export class MinibatchCkaAccumulator {
  private batchCount = 0;
  private readonly crossSum: Float64Array;
  private readonly selfSumA: Float64Array;
  private readonly selfSumB: Float64Array;
  private readonly groups = new Map<number, GroupSums>();
  private groupExamples: number | undefined;

  constructor(
    readonly layersA: readonly string[],
    readonly layersB: readonly string[],
    options: AccumulatorOptions = {},
  ) {
    const cells = layersA.length * layersB.length;
    this.crossSum = new Float64Array(cells);
    this.selfSumA = new Float64Array(layersA.length);
    this.selfSumB = new Float64Array(layersB.length);
    this.groupExamples = options.groupExamples;
  }

  get batches(): number {
    return this.batchCount;
  }

  /** The weighted sums Σ_b w_b·HSIC_b so far (views: read, do not change). */
  sums(): { readonly cross: Float64Array; readonly selfA: Float64Array; readonly selfB: Float64Array } {
    return { cross: this.crossSum, selfA: this.selfSumA, selfB: this.selfSumB };
  }

  /** The number of jackknife groups seen so far. */
  get groupCount(): number {
    return this.groups.size;
  }

  /**
   * Adds one batch's HSIC terms with weight `weight` (rows/batchSize for a partial batch). The
   * batch's `groups` split it among jackknife groups; without them the batch is its own group
   * (keyed by its index).
   */
  add(batch: BatchHsic, weight = 1): void {
    const { layersA, layersB } = this;
    if (batch.layersA !== layersA.length || batch.layersB !== layersB.length) {
      throw new Error(`batch has ${batch.layersA} × ${batch.layersB} layers, accumulator ${layersA.length} × ${layersB.length}`);
    }
    addScaled(this.crossSum, batch.cross, weight);
    addScaled(this.selfSumA, batch.selfA, weight);
    addScaled(this.selfSumB, batch.selfB, weight);
    const shares: readonly GroupHsic[] = batch.groups ?? [{ group: this.batchCount, rows: batch.rows ?? 1, cross: batch.cross, selfA: batch.selfA, selfB: batch.selfB }];
    for (const share of shares) {
      const sums = this.group(share.group);
      sums.rows += share.rows;
      addScaled(sums.cross, share.cross, weight);
      addScaled(sums.selfA, share.selfA, weight);
      addScaled(sums.selfB, share.selfB, weight);
    }
    this.batchCount += 1;
  }

  private group(key: number): GroupSums {
    let sums = this.groups.get(key);
    if (!sums) {
      sums = { rows: 0, cross: new Float64Array(this.crossSum.length), selfA: new Float64Array(this.selfSumA.length), selfB: new Float64Array(this.selfSumB.length) };
      this.groups.set(key, sums);
    }
    return sums;
  }

  /**
   * Adds another accumulator's batches (other passes, processes or resumed runs over the same
   * examples) into this one; groups with the same key are the same examples and add up.
   */
  merge(other: MinibatchCkaAccumulator): void {
    if (!sameNames(this.layersA, other.layersA) || !sameNames(this.layersB, other.layersB)) {
      throw new Error('cannot merge CKA accumulators over different layers');
    }
    addScaled(this.crossSum, other.crossSum, 1);
    addScaled(this.selfSumA, other.selfSumA, 1);
    addScaled(this.selfSumB, other.selfSumB, 1);
    for (const [key, theirs] of other.groups) {
      const mine = this.group(key);
      mine.rows += theirs.rows;
      addScaled(mine.cross, theirs.cross, 1);
      addScaled(mine.selfA, theirs.selfA, 1);
      addScaled(mine.selfB, theirs.selfB, 1);
    }
    if (this.groupExamples !== other.groupExamples) this.groupExamples = undefined;
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
    const groups = [...this.groups.values()];
    const stderr = layersA.map((_, i) =>
      layersB.map((_, j) => {
        const value = matrix[i][j];
        if (value === null) return null;
        const cell = i * layersB.length + j;
        return jackknifeStandardError(value, groups, (g) => ckaOf(this.crossSum[cell] - g.cross[cell], this.selfSumA[i] - g.selfA[i], this.selfSumB[j] - g.selfB[j]));
      }),
    );
    return { layersA: [...layersA], layersB: [...layersB], matrix, stderr, stderrMethod: this.stderrMethod(), batches: this.batchCount, warnings };
  }

  private stderrMethod(): string {
    const count = this.groups.size;
    if (this.groupExamples !== undefined) {
      return `delete-one-block jackknife over ${count} block${count === 1 ? '' : 's'} of ${this.groupExamples} consecutive examples (every pass's contributions of a block's examples count toward that block)`;
    }
    return `delete-one-group jackknife over ${count} group${count === 1 ? '' : 's'} of examples`;
  }

  toJSON(): AccumulatorState {
    const entries = [...this.groups.entries()];
    const flat = (pick: (g: GroupSums) => Float64Array) => entries.flatMap(([, g]) => Array.from(pick(g)));
    return {
      version: ACCUMULATOR_STATE_VERSION,
      layersA: [...this.layersA],
      layersB: [...this.layersB],
      batches: this.batchCount,
      crossSum: Array.from(this.crossSum),
      selfSumA: Array.from(this.selfSumA),
      selfSumB: Array.from(this.selfSumB),
      groups: {
        keys: entries.map(([key]) => key),
        rows: entries.map(([, g]) => g.rows),
        cross: flat((g) => g.cross),
        selfA: flat((g) => g.selfA),
        selfB: flat((g) => g.selfB),
      },
      ...(this.groupExamples !== undefined ? { groupExamples: this.groupExamples } : {}),
    };
  }

  /** Restores a saved state; throws for a state saved by an older version (see `isCurrentAccumulatorState`). */
  static fromJSON(state: AccumulatorState): MinibatchCkaAccumulator {
    if (!isCurrentAccumulatorState(state)) {
      throw new Error(`this CKA accumulator state was saved by an older version of RepSim (state version ${(state as { version?: unknown })?.version ?? 1}, expected ${ACCUMULATOR_STATE_VERSION}) and cannot be resumed: start the comparison again`);
    }
    const acc = new MinibatchCkaAccumulator(state.layersA, state.layersB, { groupExamples: state.groupExamples });
    acc.crossSum.set(state.crossSum);
    acc.selfSumA.set(state.selfSumA);
    acc.selfSumB.set(state.selfSumB);
    const cells = acc.crossSum.length;
    const la = acc.selfSumA.length;
    const lb = acc.selfSumB.length;
    state.groups.keys.forEach((key, k) => {
      const g = acc.group(key);
      g.rows = state.groups.rows[k];
      g.cross.set(state.groups.cross.slice(k * cells, (k + 1) * cells));
      g.selfA.set(state.groups.selfA.slice(k * la, (k + 1) * la));
      g.selfB.set(state.groups.selfB.slice(k * lb, (k + 1) * lb));
    });
    acc.batchCount = state.batches;
    return acc;
  }
}

/** HSIC(K,L)/√(HSIC(K,K)·HSIC(L,L)); null unless both self terms are positive. Not clamped. */
function ckaOf(cross: number, selfK: number, selfL: number): number | null {
  if (!(selfK > 0 && selfL > 0)) return null;
  return cross / Math.sqrt(selfK * selfL);
}

/**
 * Delete-m_j jackknife (Busing, Meijer & van der Leeden 1999) of an estimate over groups of
 * m_j rows: h_j = M/m_j, pseudo-values θ̃_j = h_j·θ − (h_j − 1)·θ₋ⱼ,
 * θ_J = Gθ − Σ_j (1 − m_j/M)·θ₋ⱼ, variance (1/G)·Σ_j (θ̃_j − θ_J)²/(h_j − 1). Equal groups give
 * the usual (G−1)/G·Σ(θ₋ⱼ − θ̄)². Null below two groups or where a θ₋ⱼ is undefined.
 */
export function jackknifeStandardError<G extends { rows: number }>(estimate: number, groups: readonly G[], without: (group: G) => number | null): number | null {
  const count = groups.length;
  if (count < 2) return null;
  const total = groups.reduce((sum, g) => sum + g.rows, 0);
  if (!(total > 0) || groups.some((g) => !(g.rows > 0) || g.rows >= total)) return null;
  const left: number[] = [];
  for (const g of groups) {
    const value = without(g);
    if (value === null || !Number.isFinite(value)) return null;
    left.push(value);
  }
  let jackknifed = count * estimate;
  groups.forEach((g, k) => (jackknifed -= (1 - g.rows / total) * left[k]));
  let variance = 0;
  groups.forEach((g, k) => {
    const h = total / g.rows;
    const pseudo = h * estimate - (h - 1) * left[k];
    variance += (pseudo - jackknifed) ** 2 / (h - 1);
  });
  return Math.sqrt(variance / count);
}

function undefinedLayerWarnings(model: string, names: readonly string[], selfSums: Float64Array): string[] {
  const warnings: string[] = [];
  names.forEach((name, i) => {
    if (selfSums[i] === 0) warnings.push(`${model} layer '${name}' has zero variance over the evaluated examples: its CKA is undefined (null)`);
    else if (!(selfSums[i] > 0)) warnings.push(`${model} layer '${name}': its HSIC self-similarity estimate is not positive (${selfSums[i]}), so its CKA is undefined (null); use more or larger batches`);
  });
  return warnings;
}

function addScaled(target: Float64Array, source: ArrayLike<number>, weight: number): void {
  for (let i = 0; i < target.length; i++) target[i] += weight * source[i];
}

/** The same layer names in the same order. */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}
