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
 * heavy pass is one Gram matrix of all C_A + C_B neurons, computed with TensorFlow.js in float32
 * over chunks of rows and accumulated in float64. Everything after that (pivoted Cholesky with a
 * rank tolerance, residuals, Algorithms 1 and 2) runs in float64 on that small matrix. Residuals
 * come from the Schur complement of the pivoted Cholesky, so a neuron that duplicates another,
 * or is a combination of others, is simply not taken as a new direction.
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
 * Squared relative residuals below this are float32 noise in the Gram matrix: a neuron that
 * close to a span counts as inside it (dist/‖x‖ ≲ 1e-3), so ε is effectively at least ~1e-3.
 */
const RESIDUAL_FLOOR = 1e-6;
/** A basis neuron whose squared relative distance to the directions already taken is below this adds no new direction. */
const RANK_TOLERANCE = 1e-6;
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
  const epsilon = validateEpsilon(options.epsilon);
  const limit = validateSimpleMatchLimit(options.maxSimpleMatchNeurons);
  const geometry = await neuronGeometry(layerA, layerB, options, names);
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
// Geometry: the neurons' Gram matrix and distances to spans

/**
 * All neurons of both layers, as a Gram matrix normalised to unit diagonal (cosines), float64.
 * Joint index j < countA is channel j of A; j ≥ countA is channel j − countA of B.
 */
export class NeuronGeometry {
  readonly size: number;
  private readonly cosines: Float64Array;

  constructor(
    readonly countA: number,
    readonly countB: number,
    /** Raw inner products, size × size, row-major. Zero diagonal marks a dead neuron. */
    gram: Float64Array,
    readonly rowsUsed: number,
    readonly rowsTotal: number,
  ) {
    this.size = countA + countB;
    if (gram.length !== this.size * this.size) throw new Error(`Gram matrix has ${gram.length} entries, expected ${this.size}²`);
    this.cosines = normaliseGram(gram, this.size);
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
    return schurResiduals(this.cosines, this.size, basisIds, targetIds, Math.min(basisIds.length, this.rowsUsed));
  }

  private jointIndex(layer: LayerSide, index: number): number {
    return layer === 'a' ? index : this.countA + index;
  }
}

/** Cosine matrix from a Gram matrix; rows and columns of zero vectors stay zero. */
function normaliseGram(gram: Float64Array, size: number): Float64Array {
  const inverseNorms = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const squared = gram[i * size + i];
    inverseNorms[i] = squared > 0 ? 1 / Math.sqrt(squared) : 0;
  }
  const cosines = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      // symmetrise: the float32 blocks are not exactly symmetric
      const inner = 0.5 * (gram[i * size + j] + gram[j * size + i]);
      cosines[i * size + j] = inner * inverseNorms[i] * inverseNorms[j];
    }
    if (inverseNorms[i] > 0) cosines[i * size + i] = 1;
  }
  return cosines;
}

/**
 * Pivoted Cholesky of the basis block of a unit-diagonal Gram matrix, carried along the target
 * rows. After pivots q₁…q_k, each row's running diagonal is its squared distance to span(q₁…q_k)
 * (a Schur complement), so the targets' entries at the end are their squared relative distances
 * to span(basis). Pivots are taken largest-remaining-first and stop below RANK_TOLERANCE, which
 * keeps linearly dependent neurons from blowing up the factorisation. O((|basis|+|targets|)·rank²).
 */
function schurResiduals(cosines: Float64Array, size: number, basisIds: number[], targetIds: number[], maxRank: number): Float64Array {
  const ids = [...basisIds, ...targetIds];
  const basisCount = basisIds.length;
  const stride = Math.max(1, maxRank);
  const factor = new Float64Array(ids.length * stride);
  const remaining = new Float64Array(ids.length).fill(1);
  const candidate = new Uint8Array(basisCount).fill(1);
  for (let k = 0; k < maxRank; k++) {
    const pivot = largestCandidate(remaining, candidate);
    if (pivot < 0) break;
    candidate[pivot] = 0;
    const scale = Math.sqrt(remaining[pivot]);
    const pivotRow = pivot * stride;
    const pivotGram = ids[pivot] * size;
    factor[pivotRow + k] = scale;
    remaining[pivot] = 0;
    for (let i = 0; i < ids.length; i++) {
      if (i < basisCount && !candidate[i]) continue;
      const row = i * stride;
      let value = cosines[pivotGram + ids[i]];
      for (let l = 0; l < k; l++) value -= factor[row + l] * factor[pivotRow + l];
      value /= scale;
      factor[row + k] = value;
      remaining[i] -= value * value;
      // a basis neuron now (numerically) inside the span can never become a pivot: stop updating it
      if (i < basisCount && remaining[i] < RANK_TOLERANCE) candidate[i] = 0;
    }
  }
  const residuals = remaining.slice(basisCount);
  for (let t = 0; t < residuals.length; t++) residuals[t] = Math.min(1, Math.max(0, residuals[t]));
  return residuals;
}

function largestCandidate(remaining: Float64Array, candidate: Uint8Array): number {
  let best = -1;
  let bestValue = RANK_TOLERANCE;
  for (let i = 0; i < candidate.length; i++) {
    if (candidate[i] && remaining[i] >= bestValue) {
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

/**
 * A v-minimal match inside `within`, following Algorithm 2 (minimum match) of the paper:
 * start from the maximum match inside `within`; visit its other neurons u in a random order;
 * tentatively delete u and recompute the maximum match of what is left (Algorithm 1); if v is
 * still in it, keep that smaller match (it drops u and everything that only matched through u),
 * otherwise put u back. The result is a match containing v, and deleting any other neuron of it
 * leaves no match containing v (the maximum match only shrinks as its input does), so it is
 * v-minimal, hence a simple match. Under the paper's strong linear independence condition the
 * v-minimum match is unique and every order finds it; otherwise different orders (seeds) can
 * give different v-minimal matches. (The authors' code keeps the reduced sets themselves rather
 * than their maximum match; both end at a v-minimal match, ours drops dependants sooner.)
 * Returns null when v is in no match inside `within`.
 */
export function findMinimalMatch(
  geometry: NeuronGeometry,
  epsilon: number,
  v: NeuronRef,
  within: NeuronSets,
  random: () => number,
): NeuronSets | null {
  let current = findMaximumMatch(geometry, epsilon, within);
  if (!contains(current, v)) return null;
  const order = shuffle(neuronsOf(current).filter((u) => !sameNeuron(u, v)), random);
  for (const u of order) {
    if (!contains(current, u)) continue; // already dropped along with an earlier neuron
    const reduced = findMaximumMatch(geometry, epsilon, without(current, u));
    if (contains(reduced, v)) current = reduced;
  }
  return current;
}

/**
 * One v-minimal match for every neuron v of the maximum match, and the distinct ones among them.
 * A v-minimal match is a local property, so the search for v may start from any match that
 * contains v: we start from the smallest simple match found so far that contains v (else from
 * the maximum match), which makes the later searches cheap when the structure is clustered.
 */
export function findSimpleMatches(
  geometry: NeuronGeometry,
  epsilon: number,
  maximum: NeuronSets,
  random: () => number,
): Pick<SubspaceMatchResult, 'simpleMatches' | 'perNeuron'> {
  const found: { sets: NeuronSets; foundFrom: NeuronRef[] }[] = [];
  const byKey = new Map<string, number>();
  const perNeuron: { neuron: NeuronRef; foundIndex: number }[] = [];
  for (const v of neuronsOf(maximum)) {
    const start = smallestContaining(found.map((f) => f.sets), v) ?? maximum;
    const match = findMinimalMatch(geometry, epsilon, v, start, random);
    if (!match) throw new Error(`internal: neuron ${v.layer}${v.index} of the maximum match is in no match`);
    const key = `${match.a.join(',')}|${match.b.join(',')}`;
    let index = byKey.get(key);
    if (index === undefined) {
      index = found.push({ sets: match, foundFrom: [] }) - 1;
      byKey.set(key, index);
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

function smallestContaining(matches: NeuronSets[], v: NeuronRef): NeuronSets | undefined {
  let best: NeuronSets | undefined;
  for (const match of matches) {
    if (contains(match, v) && (!best || sizeOf(match) < sizeOf(best))) best = match;
  }
  return best;
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
  const drop = (side: LayerSide) => (neuron.layer === side ? sets[side].filter((i) => i !== neuron.index) : sets[side]);
  return { a: drop('a'), b: drop('b') };
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
// Seeded randomness (kept local so this module's results depend on nothing else)

/** mulberry32: a small 32-bit generator, uniform in [0, 1); the seed is reduced to 32 bits. */
export function seededRandom(seed: number): () => number {
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates, in place. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** `count` distinct integers from [0, total), sorted (Floyd's algorithm: memory grows with count only). */
function sampleRows(total: number, count: number, random: () => number): Int32Array {
  const chosen = new Set<number>();
  for (let j = total - count; j < total; j++) {
    const candidate = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(candidate) ? j : candidate);
  }
  return Int32Array.from(chosen).sort();
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
 * and accumulate the joint Gram matrix block by block in float64.
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
  const rowIndices = maxRows !== undefined && maxRows < a.rows ? sampleRows(a.rows, maxRows, seededRandom(seed)) : undefined;
  const matrixA = flattenRows(layerA, a.channels, rowIndices);
  const matrixB = flattenRows(layerB, b.channels, rowIndices);
  try {
    const scaleA = await channelScales(matrixA, names.a);
    const scaleB = await channelScales(matrixB, names.b);
    const gram = await accumulateGram(matrixA, scaleA, matrixB, scaleB);
    return new NeuronGeometry(a.channels, b.channels, gram, matrixA.shape[0], a.rows);
  } finally {
    matrixA.dispose();
    matrixB.dispose();
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

/** Joint Gram matrix of [A·scaleA | B·scaleB], float32 blocks of rows summed in float64. */
async function accumulateGram(matrixA: tf.Tensor2D, scaleA: tf.Tensor1D, matrixB: tf.Tensor2D, scaleB: tf.Tensor1D): Promise<Float64Array> {
  const rows = matrixA.shape[0];
  const size = matrixA.shape[1] + matrixB.shape[1];
  const gram = new Float64Array(size * size);
  try {
    for (let start = 0; start < rows; start += GRAM_CHUNK_ROWS) {
      const count = Math.min(GRAM_CHUNK_ROWS, rows - start);
      const block = tf.tidy(() => {
        const chunkA = tf.mul(tf.slice(matrixA, [start, 0], [count, -1]), scaleA);
        const chunkB = tf.mul(tf.slice(matrixB, [start, 0], [count, -1]), scaleB);
        const joint = tf.concat([chunkA, chunkB], 1);
        // explicit transpose: a transposed matMul falls back to a slow loop on the wasm backend
        return tf.matMul(tf.transpose(joint), joint);
      });
      const values = await block.data();
      block.dispose();
      for (let i = 0; i < values.length; i++) gram[i] += values[i];
    }
  } finally {
    scaleA.dispose();
    scaleB.dispose();
  }
  return gram;
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
