/**
 * HSIC cross terms of one batch under permutations of model B's examples, for the permutation
 * test (permutationTest.ts).
 *
 * Permuting B's examples by π permutes the rows and columns of each of its grams, and centring
 * (H·K·H or U-centering) commutes with that, so the permuted centred gram is V̄ⱼ[π, π] and
 *
 *   HSIC_π(Kᵢ, Lⱼ) = ⟨Ūᵢ, V̄ⱼ[π, π]⟩ / c = Σ_r Σ_c Ūᵢ[r, c]·V̄ⱼ[π(r), π(c)] / c
 *
 * with c = n(n−3) (U-centering) or (n−1)² (H·K·H); the self terms do not change. Each runtime
 * gathers V̄ⱼ[π, π] for a chunk of permutations and layers and takes all the inner products
 * with the Ūᵢ at once, a [LA', n²] · [n², K·LB'] product. These sums run over n² float32 terms:
 * their error is of order 1e-6·‖Ū‖·‖V̄‖, far below the null's own spread (of order 1/n in CKA),
 * so the null distribution is not finished in float64 as the observed terms are.
 *
 * Only the cells asked for are computed: cells are grouped by B layer, and B layers that need
 * the same A layers are stacked together (one group for a full heatmap, one per layer for its
 * diagonal).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CenteredGram, Centering } from './centeredGrams.js';
import { hsicNormalizer } from './batchHsic.js';

/** One runtime's products for a chunk: A' [I, n, n] stacked, B' [J, n, n] stacked, perms [K, n] → cross [I, K·J] (column k·J + j). */
export interface PermutedCrossChunk {
  readonly n: number;
  /** [I, n·n] */
  readonly a: Float32Array;
  readonly layersA: number;
  /** [J, n·n] */
  readonly b: Float32Array;
  readonly layersB: number;
  /** [K, n] example permutations (π_k(r) at k·n + r). */
  readonly perms: Int32Array;
  readonly permutations: number;
}

export type PermutedCrossCompute = (chunk: PermutedCrossChunk) => Float32Array | Promise<Float32Array>;

/** Elements of gathered (permuted) grams a chunk may hold at once. */
export const PERMUTED_CHUNK_VALUES = 32 * 1024 * 1024;

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
  perms: Int32Array,
  selected: Uint8Array | undefined,
  compute: PermutedCrossCompute,
): Promise<Float64Array> {
  const b = gramsB === 'same' ? gramsA : gramsB;
  const la = gramsA.length;
  const lb = b.length;
  const permutations = perms.length / n;
  const out = new Float64Array(permutations * la * lb);
  const c = hsicNormalizer(n, centering);
  const size = n * n;
  const layersPerChunk = Math.max(1, Math.floor(PERMUTED_CHUNK_VALUES / size));
  for (const group of cellGroups(la, lb, selected)) {
    for (let j0 = 0; j0 < group.colsB.length; j0 += layersPerChunk) {
      const cols = group.colsB.slice(j0, j0 + layersPerChunk);
      const bStack = stack(b, cols, size);
      const permsPerChunk = Math.max(1, Math.min(permutations, Math.floor(PERMUTED_CHUNK_VALUES / (cols.length * size))));
      for (let i0 = 0; i0 < group.rowsA.length; i0 += layersPerChunk) {
        const rows = group.rowsA.slice(i0, i0 + layersPerChunk);
        const a = stack(gramsA, rows, size);
        for (let p0 = 0; p0 < permutations; p0 += permsPerChunk) {
          const k = Math.min(permsPerChunk, permutations - p0);
          const products = await compute({ n, a, layersA: rows.length, b: bStack, layersB: cols.length, perms: perms.subarray(p0 * n, (p0 + k) * n), permutations: k });
          const width = k * cols.length;
          rows.forEach((i, ii) => {
            for (let kk = 0; kk < k; kk++) {
              cols.forEach((j, jj) => {
                if (selected && !selected[i * lb + j]) return;
                out[(p0 + kk) * la * lb + i * lb + j] = (products[ii * width + kk * cols.length + jj] * gramsA[i].scale * b[j].scale) / c;
              });
            }
          });
        }
      }
    }
  }
  return out;
}

/**
 * Multiply-adds and gathered values the test costs per batch of n for the selected cells, P
 * permutations: each tested cell's inner products (P·n² each) and each B layer's permuted grams.
 */
export function permutedCrossCost(la: number, lb: number, n: number, permutations: number, selected: Uint8Array | undefined): number {
  const groups = cellGroups(la, lb, selected);
  const cells = groups.reduce((sum, g) => sum + g.rowsA.length * g.colsB.length, 0);
  const gathered = groups.reduce((sum, g) => sum + g.colsB.length * Math.ceil(g.rowsA.length / Math.max(1, Math.floor(PERMUTED_CHUNK_VALUES / (n * n)))), 0);
  return permutations * n * n * (cells + gathered);
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

function stack(grams: readonly CenteredGram[], layers: readonly number[], size: number): Float32Array {
  const out = new Float32Array(layers.length * size);
  layers.forEach((l, k) => out.set(grams[l].gram, k * size));
  return out;
}

/** The products on TensorFlow.js: two gathers per permutation, then one matmul for the chunk. */
export const tfjsPermutedCross: PermutedCrossCompute = ({ n, a, layersA, b, layersB, perms, permutations }) =>
  tf.tidy(() => {
    const left = tf.tensor2d(a, [layersA, n * n]);
    const grams = tf.tensor3d(b, [layersB, n, n]);
    const gathered = Array.from({ length: permutations }, (_, k) => {
      const order = tf.tensor1d(perms.subarray(k * n, (k + 1) * n), 'int32');
      return tf.reshape(tf.gather(tf.gather(grams, order, 1), order, 2), [layersB, n * n]);
    });
    const right = gathered.length === 1 ? gathered[0] : tf.concat(gathered, 0); // [K·J, n²]
    return tf.matMul(left, right, false, true).dataSync() as Float32Array; // [I, K·J]
  });
