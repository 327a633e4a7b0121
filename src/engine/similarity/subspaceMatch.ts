/**
 * Neuron-activation subspace match (Wang et al. 2018, "Towards Understanding Learning
 * Representations: To What Extent Do Different Neural Networks Learn the Same Representation",
 * NeurIPS 2018).
 *
 * A neuron is one channel (last axis) of a layer; its activation vector holds that channel's
 * values at every example and position, so [N, H, W, C] gives C vectors of length N·H·W.
 * (X', Y') is an ε-approximate match when every x ∈ X' lies within ε‖x‖ of span(Y') and every
 * y ∈ Y' within ε‖y‖ of span(X'). The maximum match (X*, Y*) is the union of all matches and
 * s(ε) = (|X*| + |Y*|) / (|X| + |Y|) is the maximum matching similarity. Simple matches are the
 * finest matches: for each neuron v of the maximum match we find one v-minimal match (a match
 * containing v with no smaller match inside it that still contains v).
 *
 * Numerics. Every distance to a span depends only on inner products between neurons, so the
 * heavy work is Gram matrices of all C_A + C_B neurons, computed with TensorFlow.js in float32
 * over blocks of rows and summed in float64. When that matrix is ill-conditioned (nearly
 * dependent neurons), a second TensorFlow.js pass recomputes it from better-conditioned columns
 * (`refineCosines`), so directions down to ~1e-5 of a neuron's norm are kept. Everything after
 * that (pivoted Cholesky with a rank tolerance, residuals as Schur complements, Algorithms 1
 * and 2) runs in float64 on the (C_A + C_B)² matrix; a neuron that duplicates another, or is a
 * combination of others, is simply not taken as a new direction. Distances agree with a float64
 * least-squares reference (test/fixtures/subspace) to ~1e-7 on well-separated data.
 *
 * Dead neurons (all activations exactly zero). A zero vector lies in every span, so by the
 * definition it would join every match and make two layers with many dead units look alike.
 * Like the authors' code we leave dead neurons out of every match, count them as unmatched in
 * s(ε), list them in the result and warn.
 *
 * Activations are used as they are (no centering), as in the paper.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../errors.js';
import { sampleSorted, seededRandom, shuffleInPlace } from '../random.js';

export type LayerSide = 'a' | 'b';

/** One neuron: a channel of layer A or of layer B. */
export interface NeuronRef {
  readonly layer: LayerSide;
  readonly index: number;
}

/** Channel indices of layer A and of layer B, each sorted ascending. */
export interface NeuronSets {
  readonly a: number[];
  readonly b: number[];
}

export interface LayerNames {
  readonly a: string;
  readonly b: string;
}

export interface SubspaceMatchOptions {
  /** ε in [0, 1): a neuron matches when its distance to the other side's span is ≤ ε‖x‖. */
  readonly epsilon: number;
  /** Seeds the row sampling and the random order of the simple-match search (default 0). */
  readonly seed?: number;
  /** When the layers have more rows (examples × positions) than this, use this many, drawn at random. */
  readonly maxRows?: number;
  /** Also find simple matches (default true). Costs far more than the maximum match. */
  readonly simpleMatches?: boolean;
  /** Skip the simple-match search, with a warning, when the maximum match has more neurons (default 256). */
  readonly maxSimpleMatchNeurons?: number;
}

export interface MaximumMatchResult extends NeuronSets {
  readonly epsilon: number;
  /** s(ε) = (|X*| + |Y*|) / (|X| + |Y|); dead neurons count in the denominator. */
  readonly similarity: number;
  /** Channels per layer (|X| and |Y|). */
  readonly neurons: { readonly a: number; readonly b: number };
  /** Channels whose activations are all zero; never part of a match. */
  readonly dead: NeuronSets;
  /** dist(x, span(all live neurons of the other layer)) / ‖x‖ for every channel; 0 for dead ones. */
  readonly distanceToOtherLayer: { readonly a: number[]; readonly b: number[] };
  /** Rows (activation-vector entries) used, and how many the layers had. */
  readonly rowsUsed: number;
  readonly rowsTotal: number;
  readonly warnings: string[];
}

export interface SimpleMatch extends NeuronSets {
  /** |X'| + |Y'|. */
  readonly size: number;
  /** The neurons v whose v-minimal match this was. */
  readonly foundFrom: NeuronRef[];
}

export interface SubspaceMatchResult extends MaximumMatchResult {
  /** Distinct simple matches, smallest first (ties in order of discovery). */
  readonly simpleMatches: SimpleMatch[];
  /** For each neuron of the maximum match: the index in `simpleMatches` of its v-minimal match. */
  readonly perNeuron: { readonly neuron: NeuronRef; readonly simpleMatch: number }[];
}

const DEFAULT_NAMES: LayerNames = { a: 'layer A', b: 'layer B' };
const DEFAULT_MAX_SIMPLE_MATCH_NEURONS = 256;

/**
 * Squared relative distances below this count as zero: float32 rounding of the activations and
 * of the Gram blocks (dist/‖x‖ ≲ 3e-4), so ε is effectively at least ~3e-4.
 */
const RESIDUAL_FLOOR = 1e-7;
/** A basis neuron whose squared relative distance to the directions already taken is below this adds no new direction (dist/‖x‖ < 1e-5). */
const RANK_TOLERANCE = 1e-10;
/** Pivot tolerance on the first, float32 Gram matrix: weaker directions go to the refinement pass. */
const LEVEL1_TOLERANCE = 1e-4;
/** When every pivot of the first Gram matrix is at least this, its float32 errors stay small and it is used as is. */
const WELL_CONDITIONED = 1e-2;
/** Rows per float32 Gram block; blocks are summed in float64 so rounding does not grow with the row count. */
const GRAM_CHUNK_ROWS = 4096;
/** Salt that makes the search-order stream independent of the row-sampling stream. */
const SEARCH_ORDER_SALT = 0x5bd1e995;

// ---------------------------------------------------------------------------------------------
// Public entry points

/** Maximum match (Algorithm 1) and s(ε) between two layers' channels. */
export async function maximumMatch(
  layerA: tf.Tensor,
  layerB: tf.Tensor,
  options: SubspaceMatchOptions,
  names: LayerNames = DEFAULT_NAMES,
): Promise<MaximumMatchResult> {
  const epsilon = validateEpsilon(options.epsilon);
  const geometry = await neuronGeometry(layerA, layerB, options, names);
  return describeMaximumMatch(geometry, epsilon, findMaximumMatch(geometry, epsilon), names);
}

/** Maximum match, s(ε) and (unless turned off) the distinct simple matches. */
export async function subspaceMatch(
  layerA: tf.Tensor,
  layerB: tf.Tensor,
  options: SubspaceMatchOptions,
  names: LayerNames = DEFAULT_NAMES,
): Promise<SubspaceMatchResult> {
  validateEpsilon(options.epsilon);
  validateSimpleMatchLimit(options.maxSimpleMatchNeurons);
  const geometry = await neuronGeometry(layerA, layerB, options, names);
  return subspaceMatchOf(geometry, options, names);
}

/**
 * `subspaceMatch` on neurons whose geometry is already computed: matching at several ε needs
 * the (costly) Gram matrix of the neurons only once. `options.maxRows` and `seed` must be the
 * ones the geometry was computed with (the seed also orders the simple-match search).
 */
export function subspaceMatchOf(geometry: NeuronGeometry, options: SubspaceMatchOptions, names: LayerNames = DEFAULT_NAMES): SubspaceMatchResult {
  const epsilon = validateEpsilon(options.epsilon);
  const limit = validateSimpleMatchLimit(options.maxSimpleMatchNeurons);
  const maximum = findMaximumMatch(geometry, epsilon);
  const result = describeMaximumMatch(geometry, epsilon, maximum, names);
  const matched = maximum.a.length + maximum.b.length;
  if (options.simpleMatches === false || matched === 0) return { ...result, simpleMatches: [], perNeuron: [] };
  if (matched > limit) {
    const warning = `simple matches skipped: the maximum match has ${matched} neurons, more than maxSimpleMatchNeurons (${limit})`;
    return { ...result, simpleMatches: [], perNeuron: [], warnings: [...result.warnings, warning] };
  }
  const searchRandom = seededRandom((options.seed ?? 0) ^ SEARCH_ORDER_SALT);
  return { ...result, ...findSimpleMatches(geometry, epsilon, maximum, searchRandom) };
}

// ---------------------------------------------------------------------------------------------
// Geometry: the neurons' cosine matrix and distances to spans

/**
 * All neurons of both layers, as their Gram matrix normalised to unit diagonal (cosines), float64.
 * Joint index j < countA is channel j of A; j ≥ countA is channel j − countA of B. A dead neuron
 * has a zero row and column.
 */
export class NeuronGeometry {
  readonly size: number;

  constructor(
    readonly countA: number,
    readonly countB: number,
    /** size × size, row-major, unit diagonal for live neurons (see `normaliseGram`). */
    private readonly cosines: Float64Array,
    readonly rowsUsed: number,
    readonly rowsTotal: number,
  ) {
    this.size = countA + countB;
    if (cosines.length !== this.size * this.size) throw new Error(`cosine matrix has ${cosines.length} entries, expected ${this.size}²`);
  }

  isDead(layer: LayerSide, index: number): boolean {
    const j = this.jointIndex(layer, index);
    return this.cosines[j * this.size + j] === 0;
  }

  /** Channels with non-zero activations. */
  liveNeurons(): NeuronSets {
    return { a: range(this.countA).filter((i) => !this.isDead('a', i)), b: range(this.countB).filter((i) => !this.isDead('b', i)) };
  }

  /**
   * dist(t, span(basis))² / ‖t‖² for each target channel of `side`, the basis being channels of
   * the other layer. An empty basis spans {0}: every ratio is 1.
   */
  squaredDistanceRatios(side: LayerSide, targets: readonly number[], basis: readonly number[]): Float64Array {
    const other: LayerSide = side === 'a' ? 'b' : 'a';
    const targetIds = targets.map((i) => this.jointIndex(side, i));
    const basisIds = basis.map((i) => this.jointIndex(other, i));
    const maxRank = Math.min(basisIds.length, this.rowsUsed);
    const { remaining } = pivotedCholesky(this.cosines, this.size, [...basisIds, ...targetIds], basisIds.length, RANK_TOLERANCE, maxRank, false);
    const residuals = remaining.slice(basisIds.length);
    for (let t = 0; t < residuals.length; t++) residuals[t] = Math.min(1, Math.max(0, residuals[t]));
    return residuals;
  }

  private jointIndex(layer: LayerSide, index: number): number {
    return layer === 'a' ? index : this.countA + index;
  }
}

/** Cosines from a Gram matrix (symmetrised); rows and columns of zero vectors stay zero. */
export function normaliseGram(gram: Float64Array, size: number): Float64Array {
  const inverseNorms = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const squared = gram[i * size + i];
    inverseNorms[i] = squared > 0 ? 1 / Math.sqrt(squared) : 0;
  }
  const cosines = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const inner = 0.5 * (gram[i * size + j] + gram[j * size + i]);
      cosines[i * size + j] = inner * inverseNorms[i] * inverseNorms[j];
    }
    if (inverseNorms[i] > 0) cosines[i * size + i] = 1;
  }
  return cosines;
}

interface PivotedCholesky {
  /** Positions (in `ids`) of the pivots, in the order taken. */
  readonly pivots: number[];
  /** Row i (stride `stride`): coefficients of ids[i] on the orthonormalised pivots q₁, q₂, … */
  readonly factor: Float64Array;
  readonly stride: number;
  /** Squared distance of each ids[i] to the span of the pivots (a Schur complement). */
  readonly remaining: Float64Array;
  /** The smallest squared distance a pivot had when it was taken. */
  readonly smallestPivot: number;
}

const CANDIDATE = 0;
const TRACKED = 1;
const SETTLED = 2;

/**
 * Pivoted Cholesky of a Gram matrix restricted to `ids`: the first `candidateCount` ids may
 * become pivots, the others are only carried along. After pivots q₁…q_k each row's `remaining`
 * is its squared distance to span(q₁…q_k). Pivots go largest-remaining-first and stop below
 * `tolerance`, so linearly dependent neurons never blow up the factorisation. A candidate that
 * falls below the tolerance is dropped, or, with `trackAll`, carried along like a target.
 * O(|ids|·rank²).
 */
function pivotedCholesky(
  gram: Float64Array,
  size: number,
  ids: number[],
  candidateCount: number,
  tolerance: number,
  maxRank: number,
  trackAll: boolean,
): PivotedCholesky {
  const stride = Math.max(1, maxRank);
  const factor = new Float64Array(ids.length * stride);
  const remaining = Float64Array.from(ids, (id) => gram[id * size + id]);
  const state = Uint8Array.from(ids, (_, i) => (i < candidateCount ? CANDIDATE : TRACKED));
  const pivots: number[] = [];
  let smallestPivot = Infinity;
  for (let k = 0; k < maxRank; k++) {
    const pivot = largestCandidate(remaining, state, tolerance);
    if (pivot < 0) break;
    pivots.push(pivot);
    smallestPivot = Math.min(smallestPivot, remaining[pivot]);
    state[pivot] = SETTLED;
    const scale = Math.sqrt(remaining[pivot]);
    const pivotRow = pivot * stride;
    const pivotGram = ids[pivot] * size;
    factor[pivotRow + k] = scale;
    remaining[pivot] = 0;
    for (let i = 0; i < ids.length; i++) {
      if (state[i] === SETTLED) continue;
      const row = i * stride;
      let value = gram[pivotGram + ids[i]];
      for (let l = 0; l < k; l++) value -= factor[row + l] * factor[pivotRow + l];
      value /= scale;
      factor[row + k] = value;
      remaining[i] -= value * value;
      if (state[i] === CANDIDATE && remaining[i] < tolerance) state[i] = trackAll ? TRACKED : SETTLED;
    }
  }
  return { pivots, factor, stride, remaining, smallestPivot };
}

function largestCandidate(remaining: Float64Array, state: Uint8Array, tolerance: number): number {
  let best = -1;
  let bestValue = tolerance;
  for (let i = 0; i < state.length; i++) {
    if (state[i] === CANDIDATE && remaining[i] >= bestValue) {
      best = i;
      bestValue = remaining[i];
    }
  }
  return best;
}

/** dist ≤ ε‖x‖, on squared ratios, with float32 noise counted as zero distance. */
function withinEpsilon(squaredRatio: number, epsilon: number): boolean {
  return squaredRatio <= Math.max(epsilon * epsilon, RESIDUAL_FLOOR);
}

// ---------------------------------------------------------------------------------------------
// Algorithm 1: maximum match

/**
 * Algorithm 1 of the paper, restricted to `within` (default: all live neurons). Starting from
 * X* = X, Y* = Y, each round removes every x with dist(x, span Y*) > ε‖x‖, then every y with
 * dist(y, span X*) > ε‖y‖. Unlike the paper's pseudo-code, which stops as soon as a round
 * removes no x (leaving Y* unchecked), we stop only when a round changes neither side; then
 * (X*, Y*) is a match. No neuron of any match inside `within` is ever removed (its distance to
 * the current span is at most its distance to its match's span), so the result is their union.
 */
export function findMaximumMatch(geometry: NeuronGeometry, epsilon: number, within: NeuronSets = geometry.liveNeurons()): NeuronSets {
  let a = [...within.a];
  let b = [...within.b];
  for (;;) {
    const keptA = keepMatched(geometry, 'a', a, b, epsilon);
    const keptB = keepMatched(geometry, 'b', b, keptA, epsilon);
    const changed = keptA.length !== a.length || keptB.length !== b.length;
    a = keptA;
    b = keptB;
    if (!changed) return { a, b };
  }
}

/** The targets of `side` that lie within ε of span(basis). */
function keepMatched(geometry: NeuronGeometry, side: LayerSide, targets: number[], basis: number[], epsilon: number): number[] {
  if (targets.length === 0) return targets;
  const ratios = geometry.squaredDistanceRatios(side, targets, basis);
  return targets.filter((_, t) => withinEpsilon(ratios[t], epsilon));
}

// ---------------------------------------------------------------------------------------------
// Algorithm 2: v-minimal (simple) matches

/** The maximum match inside a set of neurons (Algorithm 1), possibly memoised. */
export type MaximumMatchOf = (within: NeuronSets) => NeuronSets;

/**
 * A v-minimal match inside `within`, following Algorithm 2 (minimum match) of the paper:
 * start from the maximum match inside `within`; go through its other neurons u in a random
 * order; tentatively delete u and recompute the maximum match of what is left (Algorithm 1); if
 * v is still in it, keep that smaller match (it drops u and everything that only matched through
 * u), otherwise put u back. The result is a match containing v, and deleting any other neuron of
 * it leaves no match containing v (the maximum match only shrinks with its input), so it is
 * v-minimal, hence a simple match. Under the paper's strong linear independence condition the
 * v-minimum match is unique and every order finds it; otherwise different orders (seeds) can find
 * different v-minimal matches. (The authors' code keeps the reduced sets rather than their
 * maximum match; both end at a v-minimal match, ours drops dependants sooner.)
 *
 * Evaluation: the sequential pass is evaluated block by block, with exactly the same result.
 * If deleting a whole block of consecutive candidates keeps v, deleting them one at a time keeps
 * v at every step too and ends at the same sets, so the block costs one maximum-match call;
 * otherwise the block is halved. Most neurons are usually removable, so this needs about
 * |result|·log|within| calls instead of |within|.
 *
 * Returns null when v is in no match inside `within`.
 */
export function findMinimalMatch(
  geometry: NeuronGeometry,
  epsilon: number,
  v: NeuronRef,
  within: NeuronSets,
  random: () => number,
  maximumMatchOf: MaximumMatchOf = (sets) => findMaximumMatch(geometry, epsilon, sets),
): NeuronSets | null {
  let current = maximumMatchOf(within);
  if (!contains(current, v)) return null;
  const tryDeleting = (block: NeuronRef[]): void => {
    const present = block.filter((u) => contains(current, u)); // earlier deletions may have dropped some
    if (present.length === 0) return;
    const reduced = maximumMatchOf(withoutAll(current, present));
    if (contains(reduced, v)) {
      current = reduced;
    } else if (present.length > 1) {
      const half = Math.ceil(present.length / 2);
      tryDeleting(present.slice(0, half));
      tryDeleting(present.slice(half));
    } // else: this u is needed for v, keep it
  };
  tryDeleting(shuffleInPlace(neuronsOf(current).filter((u) => !sameNeuron(u, v)), random));
  return current;
}

/**
 * One v-minimal match for every neuron v of the maximum match, and the distinct ones among them.
 *
 * Every search is Algorithm 2 with an order that tries some neurons first, which the paper's
 * algorithm allows (any order gives a v-minimal match); the choice only saves work:
 * - v already in a simple match M found earlier (the smallest such): neurons outside M go first,
 *   so the search starts from M; when deleting any single other neuron of M loses v (checked
 *   with memoised calls that all of M's neurons share), M is v's match.
 * - otherwise the neurons of the simple matches found so far go first, so the search starts
 *   from the maximum match of the rest, when that still contains v.
 * The rest of the order is a seeded shuffle.
 */
export function findSimpleMatches(
  geometry: NeuronGeometry,
  epsilon: number,
  maximum: NeuronSets,
  random: () => number,
): Pick<SubspaceMatchResult, 'simpleMatches' | 'perNeuron'> {
  const search: SimpleMatchSearch = { geometry, epsilon, maximum, random, maximumMatchOf: memoisedMaximumMatch(geometry, epsilon) };
  const found: { sets: NeuronSets; foundFrom: NeuronRef[] }[] = [];
  const byKey = new Map<string, number>();
  const perNeuron: { neuron: NeuronRef; foundIndex: number }[] = [];
  let covered: NeuronSets = { a: [], b: [] };
  for (const v of neuronsOf(maximum)) {
    const match = simpleMatchFor(v, found.map((f) => f.sets), covered, search);
    const key = setKey(match);
    let index = byKey.get(key);
    if (index === undefined) {
      index = found.push({ sets: match, foundFrom: [] }) - 1;
      byKey.set(key, index);
      covered = union(covered, match);
    }
    found[index].foundFrom.push(v);
    perNeuron.push({ neuron: v, foundIndex: index });
  }
  // smallest first; a stable sort keeps discovery order among equal sizes
  const order = range(found.length).sort((i, j) => sizeOf(found[i].sets) - sizeOf(found[j].sets));
  const rank = new Map(order.map((foundIndex, position) => [foundIndex, position]));
  return {
    simpleMatches: order.map((i) => ({ a: found[i].sets.a, b: found[i].sets.b, size: sizeOf(found[i].sets), foundFrom: found[i].foundFrom })),
    perNeuron: perNeuron.map(({ neuron, foundIndex }) => ({ neuron, simpleMatch: rank.get(foundIndex)! })),
  };
}

interface SimpleMatchSearch {
  readonly geometry: NeuronGeometry;
  readonly epsilon: number;
  readonly maximum: NeuronSets;
  readonly random: () => number;
  readonly maximumMatchOf: MaximumMatchOf;
}

/** v's simple match, given the distinct ones found so far and the neurons they cover. */
function simpleMatchFor(v: NeuronRef, found: NeuronSets[], covered: NeuronSets, search: SimpleMatchSearch): NeuronSets {
  const { geometry, epsilon, maximum, random, maximumMatchOf } = search;
  const enclosing = smallestContaining(found, v);
  if (enclosing && isMinimalFor(enclosing, v, maximumMatchOf)) return enclosing;
  let start = enclosing ?? maximum;
  if (!enclosing) {
    const rest = maximumMatchOf(difference(maximum, covered));
    if (contains(rest, v)) start = rest;
  }
  const match = findMinimalMatch(geometry, epsilon, v, start, random, maximumMatchOf);
  if (!match) throw new Error(`internal: neuron ${v.layer}${v.index} of the maximum match is in no match`);
  return match;
}

/** Whether the match loses v as soon as any one of its other neurons is deleted. */
function isMinimalFor(match: NeuronSets, v: NeuronRef, maximumMatchOf: MaximumMatchOf): boolean {
  return neuronsOf(match).every((u) => sameNeuron(u, v) || !contains(maximumMatchOf(without(match, u)), v));
}

function smallestContaining(matches: NeuronSets[], v: NeuronRef): NeuronSets | undefined {
  let best: NeuronSets | undefined;
  for (const match of matches) {
    if (contains(match, v) && (!best || sizeOf(match) < sizeOf(best))) best = match;
  }
  return best;
}

/** Algorithm 1 with a cache keyed by its input: the searches for different v repeat many inputs. */
function memoisedMaximumMatch(geometry: NeuronGeometry, epsilon: number, capacity = 20000): MaximumMatchOf {
  const cache = new Map<string, NeuronSets>();
  return (within) => {
    const key = setKey(within);
    let result = cache.get(key);
    if (!result) {
      if (cache.size >= capacity) cache.clear();
      result = findMaximumMatch(geometry, epsilon, within);
      cache.set(key, result);
    }
    return result;
  };
}

// ---------------------------------------------------------------------------------------------
// Set helpers (NeuronSets keep each side sorted)

function neuronsOf(sets: NeuronSets): NeuronRef[] {
  return [...sets.a.map((index) => ({ layer: 'a' as const, index })), ...sets.b.map((index) => ({ layer: 'b' as const, index }))];
}

function contains(sets: NeuronSets, neuron: NeuronRef): boolean {
  return sets[neuron.layer].includes(neuron.index);
}

function without(sets: NeuronSets, neuron: NeuronRef): NeuronSets {
  return withoutAll(sets, [neuron]);
}

function withoutAll(sets: NeuronSets, neurons: NeuronRef[]): NeuronSets {
  const dropped = (side: LayerSide) => new Set(neurons.filter((u) => u.layer === side).map((u) => u.index));
  const [dropA, dropB] = [dropped('a'), dropped('b')];
  return { a: sets.a.filter((i) => !dropA.has(i)), b: sets.b.filter((i) => !dropB.has(i)) };
}

function difference(sets: NeuronSets, removed: NeuronSets): NeuronSets {
  return withoutAll(sets, neuronsOf(removed));
}

function union(x: NeuronSets, y: NeuronSets): NeuronSets {
  const merged = (p: number[], q: number[]) => [...new Set([...p, ...q])].sort((i, j) => i - j);
  return { a: merged(x.a, y.a), b: merged(x.b, y.b) };
}

function setKey(sets: NeuronSets): string {
  return `${sets.a.join(',')}|${sets.b.join(',')}`;
}

function sameNeuron(x: NeuronRef, y: NeuronRef): boolean {
  return x.layer === y.layer && x.index === y.index;
}

function sizeOf(sets: NeuronSets): number {
  return sets.a.length + sets.b.length;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

// ---------------------------------------------------------------------------------------------
// Input checks and the TensorFlow.js pass

function validateEpsilon(epsilon: number): number {
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0 || epsilon >= 1) {
    throw new InputError(`epsilon ${epsilon}: expected a number in [0, 1) (with ε ≥ 1 every neuron matches trivially)`, 'epsilon');
  }
  return epsilon;
}

function validateSimpleMatchLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_MAX_SIMPLE_MATCH_NEURONS;
  if (!(limit >= 0)) throw new InputError(`maxSimpleMatchNeurons ${limit}: expected a number ≥ 0`, 'maxSimpleMatchNeurons');
  return limit;
}

/** Rows (entries of each activation vector) and channels of a layer [N, …, C]. */
function layerLayout(layer: tf.Tensor, name: string): { rows: number; channels: number } {
  if (layer.rank < 2) throw new InputError(`layer '${name}' has shape [${layer.shape}]: expected [examples, …, channels]`, name);
  const channels = layer.shape[layer.rank - 1];
  const rows = layer.size / Math.max(channels, 1);
  if (channels === 0 || rows === 0) throw new InputError(`layer '${name}' has shape [${layer.shape}]: it has no activations`, name);
  return { rows, channels };
}

function checkSameExamples(layerA: tf.Tensor, layerB: tf.Tensor, rowsA: number, rowsB: number, names: LayerNames): void {
  if (rowsA !== rowsB || layerA.shape[0] !== layerB.shape[0]) {
    throw new InputError(
      `layers '${names.a}' [${layerA.shape}] and '${names.b}' [${layerB.shape}] do not have the same examples and positions ` +
        `(${rowsA} vs ${rowsB} values per channel): subspace match needs activation vectors of the same length`,
      `${names.a}, ${names.b}`,
    );
  }
}

function validateMaxRows(maxRows: number | undefined): number | undefined {
  if (maxRows === undefined) return undefined;
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new InputError(`maxRows ${maxRows}: expected a whole number ≥ 1`, 'maxRows');
  return maxRows;
}

function validateSeed(seed: number | undefined): number {
  if (seed === undefined) return 0;
  if (!Number.isFinite(seed)) throw new InputError(`seed ${seed}: expected a finite number`, 'seed');
  return seed;
}

/**
 * The TensorFlow.js pass: flatten each layer to [rows, channels], optionally keep a seeded random
 * subset of the rows (the same rows for both layers), scale each channel by its largest absolute
 * value (exactly representable, avoids float32 overflow and underflow, does not change spans),
 * then compute the cosines of all neurons: a float32 Gram matrix summed block by block in
 * float64, refined by a second pass when it is ill-conditioned (`refineCosines`).
 */
export async function neuronGeometry(
  layerA: tf.Tensor,
  layerB: tf.Tensor,
  options: Pick<SubspaceMatchOptions, 'maxRows' | 'seed'> = {},
  names: LayerNames = DEFAULT_NAMES,
): Promise<NeuronGeometry> {
  const a = layerLayout(layerA, names.a);
  const b = layerLayout(layerB, names.b);
  checkSameExamples(layerA, layerB, a.rows, b.rows, names);
  const maxRows = validateMaxRows(options.maxRows);
  const seed = validateSeed(options.seed);
  const rowIndices = maxRows !== undefined && maxRows < a.rows ? sampleSorted(a.rows, maxRows, seededRandom(seed)) : undefined;
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(tensor: T): T => (owned.push(tensor), tensor);
  try {
    const matrixA = keep(flattenRows(layerA, a.channels, rowIndices));
    const matrixB = keep(flattenRows(layerB, b.channels, rowIndices));
    const scaleA = keep(await channelScales(matrixA, names.a));
    const scaleB = keep(await channelScales(matrixB, names.b));
    const rows = matrixA.shape[0];
    // [rows of A·scaleA | rows of B·scaleB]: the neurons of both layers side by side
    const jointRows = (start: number, count: number): tf.Tensor2D =>
      tf.concat2d([tf.mul<tf.Tensor2D>(tf.slice(matrixA, [start, 0], [count, -1]), scaleA), tf.mul<tf.Tensor2D>(tf.slice(matrixB, [start, 0], [count, -1]), scaleB)], 1);
    const gram = await accumulateGram(rows, jointRows);
    const cosines = await refineCosines(gram, a.channels + b.channels, rows, jointRows);
    return new NeuronGeometry(a.channels, b.channels, cosines, rows, a.rows);
  } finally {
    tf.dispose(owned);
  }
}

function flattenRows(layer: tf.Tensor, channels: number, rowIndices: Int32Array | undefined): tf.Tensor2D {
  return tf.tidy(() => {
    const matrix = tf.cast(tf.reshape(layer, [-1, channels]), 'float32') as tf.Tensor2D;
    return rowIndices ? (tf.gather(matrix, tf.tensor1d(rowIndices, 'int32'), 0) as tf.Tensor2D) : matrix;
  });
}

/** 1 / max|value| per channel (0 for dead channels); rejects NaN and ±Infinity. */
async function channelScales(matrix: tf.Tensor2D, name: string): Promise<tf.Tensor1D> {
  const [finite, largest] = tf.tidy(() => [tf.all(tf.isFinite(matrix), 0), tf.max(tf.abs(matrix), 0)]);
  const finiteFlags = await finite.data();
  const largestValues = (await largest.data()) as Float32Array;
  finite.dispose();
  largest.dispose();
  const bad = Array.from(finiteFlags).findIndex((ok) => !ok);
  if (bad >= 0) throw new InputError(`layer '${name}' channel ${bad} has NaN or infinite activations`, name);
  return tf.tensor1d(largestValues.map((m) => (m > 0 ? 1 / m : 0)));
}

/** Gram matrix of the columns that `blockRows` builds for each block of rows: float32 blocks, float64 sum. */
async function accumulateGram(rows: number, blockRows: (start: number, count: number) => tf.Tensor2D): Promise<Float64Array> {
  let gram: Float64Array | undefined;
  for (let start = 0; start < rows; start += GRAM_CHUNK_ROWS) {
    const count = Math.min(GRAM_CHUNK_ROWS, rows - start);
    const block = tf.tidy(() => {
      const columns = blockRows(start, count);
      // explicit transpose: a transposed matMul falls back to a slow loop on the wasm backend
      return tf.matMul(tf.transpose(columns), columns);
    });
    try {
      const values = await block.data();
      gram ??= new Float64Array(values.length);
      for (let i = 0; i < values.length; i++) gram[i] += values[i];
    } finally {
      block.dispose();
    }
  }
  return gram!;
}

/**
 * Cosines of the neurons, accurate even where the float32 Gram matrix is not.
 *
 * A float32 Gram matrix carries errors of ~1e-6 (relative), so a direction that a set of neurons
 * spans only weakly (distance ≲ 1e-3 of a neuron to the span of the others) is lost to
 * cancellation, and distances through nearly dependent neurons are amplified noise. When the
 * first Gram matrix shows such neurons (a pivot below WELL_CONDITIONED), a second pass in
 * TensorFlow.js works on better-conditioned columns instead (a step of pivoted CholeskyQR):
 * - a pivoted Cholesky (float64, tolerance LEVEL1_TOLERANCE) picks well-separated pivot neurons
 *   Z_p = Q·T, so Q = Z_p·T⁻¹ is nearly orthonormal;
 * - every other neuron z_j = Q·f_j + w_j, where w_j = z_j − Q·f_j is computed from the data, so
 *   a weak direction survives as a small w_j known to float32 precision of its own size;
 * - the float32 Gram matrix H of [Q | W] is accurate relative to each column, and the neurons'
 *   Gram matrix is Mᵀ·H·M in float64, M = [[T, F], [0, I]].
 * Cost: about twice the first pass in TensorFlow.js, plus O(n³) float64 work here.
 */
async function refineCosines(
  gram: Float64Array,
  size: number,
  rows: number,
  jointRows: (start: number, count: number) => tf.Tensor2D,
): Promise<Float64Array> {
  const coarse = normaliseGram(gram, size);
  const live = range(size).filter((j) => coarse[j * size + j] > 0);
  const level1 = pivotedCholesky(coarse, size, live, live.length, LEVEL1_TOLERANCE, Math.min(live.length, rows), true);
  if (level1.pivots.length === live.length && level1.smallestPivot >= WELL_CONDITIONED) return coarse;

  const split = splitOnPivots(level1, live);
  const inverseNorms = Float32Array.from(range(size), (j) => (gram[j * size + j] > 0 ? 1 / Math.sqrt(gram[j * size + j]) : 0));
  const tensors = tf.tidy(() => ({
    inverseNorms: tf.tensor1d(inverseNorms),
    pivotColumns: tf.tensor1d(split.pivotColumns, 'int32'),
    otherColumns: tf.tensor1d(split.otherColumns, 'int32'),
    inverseT: tf.tensor2d(invertUpperTriangular(split.t, split.rank), [split.rank, split.rank]),
    f: tf.tensor2d(split.f, [split.rank, split.otherColumns.length]),
  }));
  try {
    const h = await accumulateGram(rows, (start, count) => {
      const z = tf.mul(jointRows(start, count), tensors.inverseNorms);
      const q: tf.Tensor2D = tf.matMul(tf.gather(z, tensors.pivotColumns, 1), tensors.inverseT);
      if (split.otherColumns.length === 0) return q;
      const w: tf.Tensor2D = tf.sub(tf.gather(z, tensors.otherColumns, 1), tf.matMul(q, tensors.f));
      return tf.concat2d([q, w], 1);
    });
    const refined = congruence(h, split);
    return scatterCosines(normaliseGram(refined, live.length), [...split.pivotColumns, ...split.otherColumns], size);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

interface PivotSplit {
  readonly rank: number;
  /** Joint indices of the pivot neurons, then of the others. */
  readonly pivotColumns: Int32Array;
  readonly otherColumns: Int32Array;
  /** rank × rank upper-triangular T (row-major) with Z_pivots = Q·T. */
  readonly t: Float64Array;
  /** rank × others F (row-major), rounded to float32 as the pass uses it: Z_others ≈ Q·F. */
  readonly f: Float32Array;
}

function splitOnPivots(level1: PivotedCholesky, live: number[]): PivotSplit {
  const rank = level1.pivots.length;
  const isPivot = new Set(level1.pivots);
  const others = range(live.length).filter((i) => !isPivot.has(i));
  const coefficient = (position: number, k: number) => level1.factor[position * level1.stride + k];
  const t = new Float64Array(rank * rank);
  level1.pivots.forEach((position, l) => {
    for (let k = 0; k <= l; k++) t[k * rank + l] = coefficient(position, k);
  });
  const f = new Float32Array(rank * others.length);
  others.forEach((position, j) => {
    for (let k = 0; k < rank; k++) f[k * others.length + j] = coefficient(position, k);
  });
  return {
    rank,
    pivotColumns: Int32Array.from(level1.pivots, (position) => live[position]),
    otherColumns: Int32Array.from(others, (position) => live[position]),
    t,
    f,
  };
}

/** T⁻¹ of an upper-triangular n × n matrix (row-major), by back substitution in float64. */
function invertUpperTriangular(t: Float64Array, n: number): Float32Array {
  const inverse = new Float64Array(n * n);
  for (let column = 0; column < n; column++) {
    for (let row = column; row >= 0; row--) {
      let value = row === column ? 1 : 0;
      for (let k = row + 1; k <= column; k++) value -= t[row * n + k] * inverse[k * n + column];
      inverse[row * n + column] = value / t[row * n + row];
    }
  }
  return Float32Array.from(inverse);
}

/**
 * Mᵀ·H·M for M = [[T, F], [0, I]] (rows: Q then W; columns: pivots then others), in float64:
 * the neurons' Gram matrix from the Gram matrix H of [Q | W]. O(n²·rank).
 */
function congruence(h: Float64Array, split: PivotSplit): Float64Array {
  const { rank, t, f } = split;
  const others = split.otherColumns.length;
  const n = rank + others;
  // top rows of M, B = [T | F] (rank × n)
  const top = new Float64Array(rank * n);
  for (let k = 0; k < rank; k++) {
    for (let l = 0; l < rank; l++) top[k * n + l] = t[k * rank + l];
    for (let j = 0; j < others; j++) top[k * n + rank + j] = f[k * others + j];
  }
  // P = H·M = H[:, :rank]·B, plus H[:, rank + j] on column rank + j
  const p = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const pRow = i * n;
    for (let k = 0; k < rank; k++) {
      const hik = h[i * n + k];
      if (hik === 0) continue;
      const bRow = k * n;
      for (let j = 0; j < n; j++) p[pRow + j] += hik * top[bRow + j];
    }
    for (let j = rank; j < n; j++) p[pRow + j] += h[i * n + j];
  }
  // G = Mᵀ·P = Bᵀ·P[:rank, :], plus P[rank + j, :] on row rank + j
  const g = new Float64Array(n * n);
  for (let k = 0; k < rank; k++) {
    const pRow = k * n;
    for (let i = 0; i < n; i++) {
      const bki = top[k * n + i];
      if (bki === 0) continue;
      const gRow = i * n;
      for (let j = 0; j < n; j++) g[gRow + j] += bki * p[pRow + j];
    }
  }
  for (let i = rank; i < n; i++) {
    for (let j = 0; j < n; j++) g[i * n + j] += p[i * n + j];
  }
  return g;
}

/** Places a cosine matrix over `columns` into a size × size one (other rows and columns zero). */
function scatterCosines(local: Float64Array, columns: ArrayLike<number>, size: number): Float64Array {
  const n = columns.length;
  const cosines = new Float64Array(size * size);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) cosines[columns[i] * size + columns[j]] = local[i * n + j];
  }
  return cosines;
}

// ---------------------------------------------------------------------------------------------
// Result assembly

function describeMaximumMatch(geometry: NeuronGeometry, epsilon: number, maximum: NeuronSets, names: LayerNames): MaximumMatchResult {
  const live = geometry.liveNeurons();
  const dead: NeuronSets = {
    a: range(geometry.countA).filter((i) => geometry.isDead('a', i)),
    b: range(geometry.countB).filter((i) => geometry.isDead('b', i)),
  };
  return {
    a: maximum.a,
    b: maximum.b,
    epsilon,
    similarity: sizeOf(maximum) / geometry.size,
    neurons: { a: geometry.countA, b: geometry.countB },
    dead,
    distanceToOtherLayer: {
      a: distancesToSpan(geometry, 'a', geometry.countA, live.a, live.b),
      b: distancesToSpan(geometry, 'b', geometry.countB, live.b, live.a),
    },
    rowsUsed: geometry.rowsUsed,
    rowsTotal: geometry.rowsTotal,
    warnings: collectWarnings(geometry, live, dead, names),
  };
}

/** dist/‖x‖ for every channel of `side` (0 for dead channels, which lie in every span). */
function distancesToSpan(geometry: NeuronGeometry, side: LayerSide, count: number, targets: number[], basis: number[]): number[] {
  const distances = new Array<number>(count).fill(0);
  const ratios = geometry.squaredDistanceRatios(side, targets, basis);
  targets.forEach((channel, t) => (distances[channel] = Math.sqrt(ratios[t])));
  return distances;
}

function collectWarnings(geometry: NeuronGeometry, live: NeuronSets, dead: NeuronSets, names: LayerNames): string[] {
  const warnings: string[] = [];
  for (const side of ['a', 'b'] as const) {
    if (dead[side].length === 0) continue;
    warnings.push(
      `layer '${names[side]}': ${dead[side].length} dead channel(s) with all activations zero (${listIndices(dead[side])}), ` +
        'left out of every match and counted as unmatched',
    );
  }
  const widest = Math.max(live.a.length, live.b.length);
  if (widest > 0 && geometry.rowsUsed <= widest) {
    warnings.push(
      `only ${geometry.rowsUsed} values per channel for up to ${widest} live channels: a layer's span can fill the whole space, ` +
        'so neurons match trivially; use more examples or positions',
    );
  }
  return warnings;
}

function listIndices(indices: number[], shown = 10): string {
  return indices.length <= shown ? indices.join(', ') : `${indices.slice(0, shown).join(', ')}, … ${indices.length - shown} more`;
}
