/**
 * HSIC cross terms of one batch under permutations of model B's examples, for the permutation
 * test (permutationTest.ts).
 *
 * Permuting B's examples by π permutes the rows and columns of each of its grams, and centring
 * (H·K·H or U-centering) commutes with that, so the permuted centred gram is V̄ⱼ[π, π] and
 *
 *   HSIC_π(Kᵢ, Lⱼ) = ⟨Ūᵢ, V̄ⱼ[π, π]⟩ / c = Σ_r Σ_c Ūᵢ[r, c]·V̄ⱼ[π(r), π(c)] / c
 *
 * with c = n(n−3) (U-centering) or (n−1)² (H·K·H); the self terms do not change.
 *
 * The permutations are cyclic shifts in a random order: π = σ⁻¹∘(+k)∘σ for a random relabelling
 * σ of the batch and shifts k ≠ 0. With Ũ = Ū[σ⁻¹, σ⁻¹] and W̃ = V̄[σ⁻¹, σ⁻¹] (one gather per
 * layer and relabelling),
 *
 *   ⟨Ū, V̄[π, π]⟩ = Σ_a Σ_b Ũ[a, b]·W̃[(a + k) mod n, (b + k) mod n] = T(k)
 *
 * Two routes compute T, and the cheaper one runs:
 * - Fourier (shiftCorrelation.ts): T(k) for every k at once from the grams' DFT along their
 *   diagonals, (LA + LB)·n³ multiply-adds for the transforms and then little per shift — the
 *   route for minibatches (100 permutations of a 40 × 40 heatmap of batches of 256: 0.1 s here);
 * - rolled: each shift's W̃ rolled along both axes, LA·LB·n² per shift. With W̃ tiled 2 × 2
 *   (2n × 2n) the roll by k is one window, rows and columns k … k+n−1; above TILE_BOTH_UP_TO
 *   examples, where that tiling would take 4n² per layer, W̃ is tiled along its columns only,
 *   [W̃ W̃], and the roll is two windows, rows k … n−1 then 0 … k−1 of columns k … k+n−1. These are
 *   contiguous row copies, where a general permutation needs a scattered gather of every element;
 *   the runtime slices the K rolls of a chunk of B layers and takes all their inner products with
 *   the Ũᵢ in one [LA', n²] · [n², K·LB'] product — the route for a few cells of a large
 *   full-data batch, where the n³ transforms cost more than the shifts.
 * Both sum over float32 terms; their error is of order 1e-6·‖Ū‖·‖V̄‖, far below the null's own
 * spread (of order 1/n in CKA), so the null is not finished in float64 as the observed terms are.
 *
 * Only the cells asked for are computed: cells are grouped by B layer, and B layers that need the
 * same A layers are stacked together (one group for a full heatmap, one per layer for its diagonal).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CenteredGram, Centering } from './centeredGrams.js';
import { hsicNormalizer } from './batchHsic.js';
import { shiftCorrelationCost, skewedRelabelled, tfjsShiftCorrelation, type ShiftCorrelation } from './shiftCorrelation.js';

/** Permutations of a batch of n examples as relabellings and cyclic shifts (see the module doc). */
export interface CyclicPermutations {
  readonly n: number;
  /** Per relabelling: order[a] = σ⁻¹(a), the example at position a, and its shifts (each 1 … n − 1). */
  readonly groups: readonly { readonly order: Int32Array; readonly shifts: Int32Array }[];
}

/** The permutations spelled out, π_p at p·n (π_p(r) = the example paired with r): for tests and checks. */
export function expandPermutations(perms: CyclicPermutations): Int32Array {
  const { n } = perms;
  const total = perms.groups.reduce((sum, g) => sum + g.shifts.length, 0);
  const out = new Int32Array(total * n);
  let p = 0;
  for (const { order, shifts } of perms.groups) {
    for (const k of shifts) {
      for (let a = 0; a < n; a++) out[p * n + order[a]] = order[(a + k) % n];
      p += 1;
    }
  }
  return out;
}

/**
 * One runtime's part for a chunk: A' [rows, n²] (relabelled grams), B' tiled [layers, 2n, 2n]
 * (W̃ⱼ 2 × 2) or, when `columnsOnly`, [layers, n, 2n] ([W̃ⱼ W̃ⱼ]), and shifts [K] → products
 * [rows, K·layers], column k·layers + j holding ⟨A'ᵢ, W̃ⱼ rolled by shifts[k]⟩.
 */
export interface RolledProductsChunk {
  readonly n: number;
  readonly a: Float32Array;
  readonly rows: number;
  readonly tiled: Float32Array;
  /** The grams are tiled along their columns only (n > TILE_BOTH_UP_TO). */
  readonly columnsOnly: boolean;
  readonly layers: number;
  readonly shifts: Int32Array;
}

export type RolledProducts = (chunk: RolledProductsChunk) => Float32Array | Promise<Float32Array>;

/** Elements of rolled (permuted) grams a chunk may hold at once (128 MiB: the K·J rolled grams of a chunk; the tiled grams take at most as much). */
export const PERMUTED_CHUNK_VALUES = 32 * 1024 * 1024;

/** One runtime's two routes to the permuted cross terms. */
export interface PermutationKernels {
  readonly rolledProducts: RolledProducts;
  readonly shiftCorrelation: ShiftCorrelation;
}

export interface PermutedCrossOptions {
  /** 'fourier' (every shift at once, shiftCorrelation.ts) or 'rolled' (each shift's rolled grams); default: the cheaper. */
  readonly route?: 'fourier' | 'rolled';
  /** Grams of more examples are tiled along their columns only (default TILE_BOTH_UP_TO). */
  readonly tileBothUpTo?: number;
}

/**
 * HSIC_π of every selected cell for every permutation: out[p·LA·LB + i·LB + j] (0 outside the
 * selection), finished with the normalizer and the grams' scales in float64.
 * `selected[i·LB + j]` picks the cells (all when absent).
 */
export async function permutedCross(
  gramsA: readonly CenteredGram[],
  gramsB: readonly CenteredGram[] | 'same',
  n: number,
  centering: Centering,
  perms: CyclicPermutations,
  selected: Uint8Array | undefined,
  kernels: PermutationKernels,
  options: PermutedCrossOptions = {},
): Promise<Float64Array> {
  const b = gramsB === 'same' ? gramsA : gramsB;
  const la = gramsA.length;
  const lb = b.length;
  const permutations = perms.groups.reduce((sum, g) => sum + g.shifts.length, 0);
  const out = new Float64Array(permutations * la * lb);
  const c = hsicNormalizer(n, centering);
  const finish = (p: number, i: number, j: number, raw: number) => (out[p * la * lb + i * lb + j] = (raw * gramsA[i].scale * b[j].scale) / c);
  const route = options.route ?? cheaperRoute(la, lb, n, permutations, selected);
  if (route === 'fourier') {
    await fourierRoute(gramsA, gramsB, n, perms, selected, kernels.shiftCorrelation, finish);
    return out;
  }
  const rolledProducts = kernels.rolledProducts;
  const tileBothUpTo = options.tileBothUpTo ?? TILE_BOTH_UP_TO;
  const size = n * n;
  const columnsOnly = n > tileBothUpTo;
  const layersPerChunk = Math.max(1, Math.floor(PERMUTED_CHUNK_VALUES / ((columnsOnly ? 2 : 4) * size)));
  const groups = cellGroups(la, lb, selected);
  let first = 0; // index of the relabelling's first permutation
  for (const { order, shifts } of perms.groups) {
    for (const group of groups) {
      // The A side relabelled once per group when it fits one chunk (always, below 2,896 examples).
      const wholeA = group.rowsA.length <= layersPerChunk ? relabelled(gramsA, group.rowsA, order, n) : null;
      for (let j0 = 0; j0 < group.colsB.length; j0 += layersPerChunk) {
        const cols = group.colsB.slice(j0, j0 + layersPerChunk);
        const tiled = tile(relabelled(b, cols, order, n), cols.length, n, columnsOnly);
        const perChunk = Math.max(1, Math.min(shifts.length, Math.floor(PERMUTED_CHUNK_VALUES / (cols.length * size))));
        for (let s0 = 0; s0 < shifts.length; s0 += perChunk) {
          const chunkShifts = shifts.subarray(s0, s0 + perChunk);
          const count = chunkShifts.length * cols.length;
          for (let i0 = 0; i0 < group.rowsA.length; i0 += layersPerChunk) {
            const rows = group.rowsA.slice(i0, i0 + layersPerChunk);
            const a = wholeA ?? relabelled(gramsA, rows, order, n);
            const products = await rolledProducts({ n, a, rows: rows.length, tiled, columnsOnly, layers: cols.length, shifts: chunkShifts });
            rows.forEach((i, ii) => {
              chunkShifts.forEach((_, kk) => {
                const p = first + s0 + kk;
                cols.forEach((j, jj) => {
                  if (!selected || selected[i * lb + j]) finish(p, i, j, products[ii * count + kk * cols.length + jj]);
                });
              });
            });
          }
        }
      }
    }
    first += shifts.length;
  }
  return out;
}

/** Multiply-adds of each route for the selected cells. */
function routeCosts(la: number, lb: number, n: number, permutations: number, selected: Uint8Array | undefined): { fourier: number; rolled: number } {
  const groups = cellGroups(la, lb, selected);
  const rows = new Set(groups.flatMap((g) => g.rowsA)).size;
  const cols = new Set(groups.flatMap((g) => g.colsB)).size;
  const cells = groups.reduce((sum, g) => sum + g.rowsA.length * g.colsB.length, 0);
  return { fourier: shiftCorrelationCost(rows, cols, n, permutations), rolled: permutations * n * n * cells };
}

/** The route with fewer multiply-adds: the Fourier one unless few cells are tested over large batches (full-data diagonals). */
function cheaperRoute(la: number, lb: number, n: number, permutations: number, selected: Uint8Array | undefined): 'fourier' | 'rolled' {
  const costs = routeCosts(la, lb, n, permutations, selected);
  return costs.fourier < costs.rolled ? 'fourier' : 'rolled';
}

/**
 * Every pair of the tested layers through the runtime's shiftCorrelation, in blocks of layers
 * whose skewed grams fit PERMUTED_CHUNK_VALUES per side, one call per block pair and relabelling.
 */
async function fourierRoute(
  gramsA: readonly CenteredGram[],
  gramsB: readonly CenteredGram[] | 'same',
  n: number,
  perms: CyclicPermutations,
  selected: Uint8Array | undefined,
  shiftCorrelation: ShiftCorrelation,
  finish: (p: number, i: number, j: number, raw: number) => void,
): Promise<void> {
  const b = gramsB === 'same' ? gramsA : gramsB;
  const lb = b.length;
  const groups = cellGroups(gramsA.length, lb, selected);
  const rows = [...new Set(groups.flatMap((g) => g.rowsA))].sort((x, y) => x - y);
  const cols = [...new Set(groups.flatMap((g) => g.colsB))].sort((x, y) => x - y);
  const block = Math.max(1, Math.floor(PERMUTED_CHUNK_VALUES / (n * n)));
  let first = 0;
  for (const { order, shifts } of perms.groups) {
    for (let i0 = 0; i0 < rows.length; i0 += block) {
      const blockRows = rows.slice(i0, i0 + block);
      const skewedA = skewedRelabelled(gramsA, blockRows, order, n);
      for (let j0 = 0; j0 < cols.length; j0 += block) {
        const blockCols = cols.slice(j0, j0 + block);
        const sameBlock = gramsB === 'same' && blockRows.length === blockCols.length && blockRows.every((r, k) => r === blockCols[k]);
        const skewedB = sameBlock ? null : skewedRelabelled(b, blockCols, order, n);
        const cross = await shiftCorrelation({ n, skewedA, layersA: blockRows.length, skewedB, layersB: blockCols.length, shifts });
        const K = shifts.length;
        blockRows.forEach((i, ii) => {
          blockCols.forEach((j, jj) => {
            if (selected && !selected[i * lb + j]) return;
            const base = (ii * blockCols.length + jj) * K;
            for (let kk = 0; kk < K; kk++) finish(first + kk, i, j, cross[base + kk]);
          });
        });
      }
    }
    first += shifts.length;
  }
}

interface CellGroup {
  readonly rowsA: number[];
  readonly colsB: number[];
}

/** The selected cells as blocks: B layers grouped by the set of A layers they are paired with. */
export function cellGroups(la: number, lb: number, selected: Uint8Array | undefined): CellGroup[] {
  const byRows = new Map<string, CellGroup>();
  for (let j = 0; j < lb; j++) {
    const rows: number[] = [];
    for (let i = 0; i < la; i++) if (!selected || selected[i * lb + j]) rows.push(i);
    if (rows.length === 0) continue;
    const key = rows.join(',');
    const group = byRows.get(key);
    if (group) group.colsB.push(j);
    else byRows.set(key, { rowsA: rows, colsB: [j] });
  }
  return [...byRows.values()];
}

/** The grams of `layers`, each relabelled: out[k][a, b] = gram[order[a], order[b]]; [layers, n²]. */
function relabelled(grams: readonly CenteredGram[], layers: readonly number[], order: Int32Array, n: number): Float32Array {
  const size = n * n;
  const out = new Float32Array(layers.length * size);
  layers.forEach((l, k) => {
    const gram = grams[l].gram;
    for (let a = 0; a < n; a++) {
      const source = order[a] * n;
      const target = k * size + a * n;
      for (let b = 0; b < n; b++) out[target + b] = gram[source + order[b]];
    }
  });
  return out;
}

/** Above this many examples, grams are tiled along their columns only (2n² per layer instead of 4n²). */
export const TILE_BOTH_UP_TO = 2048;

/** Each n × n gram tiled 2 × 2, [layers, 2n, 2n]; or beside itself, [W W], [layers, n, 2n]. */
function tile(stack: Float32Array, layers: number, n: number, columnsOnly: boolean): Float32Array {
  const rowsOut = columnsOnly ? n : 2 * n;
  const out = new Float32Array(layers * rowsOut * 2 * n);
  for (let j = 0; j < layers; j++) {
    for (let r = 0; r < rowsOut; r++) {
      const source = stack.subarray((j * n + (r % n)) * n, (j * n + (r % n) + 1) * n);
      const target = (j * rowsOut + r) * 2 * n;
      out.set(source, target);
      out.set(source, target + n);
    }
  }
  return out;
}

/** Multiply-adds the test costs per batch of n for the selected cells and P permutations, by the cheaper route. */
export function permutedCrossCost(la: number, lb: number, n: number, permutations: number, selected: Uint8Array | undefined): number {
  const costs = routeCosts(la, lb, n, permutations, selected);
  return Math.min(costs.fourier, costs.rolled);
}

/** The rolls and products on TensorFlow.js: one window (or two) per shift, one matmul for the chunk. */
export const tfjsRolledProducts: RolledProducts = ({ n, a, rows, tiled, columnsOnly, layers, shifts }) =>
  tf.tidy(() => {
    const grams = tf.tensor3d(tiled, [layers, columnsOnly ? n : 2 * n, 2 * n]);
    const roll = (k: number) =>
      columnsOnly ? tf.concat([tf.slice(grams, [0, k, k], [layers, n - k, n]), tf.slice(grams, [0, 0, k], [layers, k, n])], 1) : tf.slice(grams, [0, k, k], [layers, n, n]);
    const rolled = Array.from(shifts, (k) => tf.reshape(roll(k), [layers, n * n]));
    const right = rolled.length === 1 ? rolled[0] : tf.concat(rolled, 0); // [K·J, n²]
    return tf.matMul(tf.tensor2d(a, [rows, n * n]), right, false, true).dataSync() as Float32Array;
  });

/** TensorFlow.js's kernels: the fallback runtime's. */
export const TFJS_PERMUTATION_KERNELS: PermutationKernels = { rolledProducts: tfjsRolledProducts, shiftCorrelation: tfjsShiftCorrelation };
