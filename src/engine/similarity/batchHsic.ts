/**
 * All-pairs HSIC of one batch from the layers' centred grams.
 *
 * With centred grams Ūᵢ (n × n), HSIC(Kᵢ, Lⱼ) = ⟨Ūᵢ, V̄ⱼ⟩ / c, c = n(n−3) for U-centering
 * (HSIC₁) and (n−1)² for H·K·H. All pairs are one batched matmul: for every example row r,
 * [LA × n]·[n × LB] gives that row's contribution, and the n row contributions are added in
 * float64, so no float32 sum runs over more than n terms. The rows go through the product in
 * chunks sized so that the temporaries stay small whatever n (full-data CKA over thousands of
 * examples), and the per-row sums also give each jackknife group its share (see accumulator.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CenteredGram, Centering } from './centeredGrams.js';

/** One jackknife group's share of a batch's HSIC terms (same layout as the batch's). */
export interface GroupHsic {
  /** The group's key (ckaMatrix: the block of examples, ⌊example / batchSize⌋). */
  readonly group: number;
  /** The batch's examples in this group. */
  readonly rows: number;
  readonly cross: Float64Array;
  readonly selfA: Float64Array;
  readonly selfB: Float64Array;
}

export interface BatchHsic {
  readonly layersA: number;
  readonly layersB: number;
  /** HSIC(Kᵢ, Lⱼ), row-major LA × LB (row i = layer i of A). */
  readonly cross: Float64Array;
  /** HSIC(Kᵢ, Kᵢ) per layer of A. */
  readonly selfA: Float64Array;
  /** HSIC(Lⱼ, Lⱼ) per layer of B. */
  readonly selfB: Float64Array;
  /** Examples in the batch. */
  readonly rows?: number;
  /** The batch's terms split among jackknife groups, when the caller gave each row's group. */
  readonly groups?: readonly GroupHsic[];
  /**
   * Each row's share of the cross terms: row r's share of cell k is rowCross[r·LA·LB + k]·cellFactor[k]
   * (Σ_c Ūᵢ[r, c]·V̄ⱼ[r, c] finished like the totals); the shares of all rows sum to `cross`.
   */
  readonly rowCross?: Float32Array;
  readonly cellFactor?: Float64Array;
}

/**
 * Per-row partial sums of a batch's HSIC terms, as the engines compute them (float32):
 * crossRows [n, LA·LB] = Σ_c Ūᵢ[r, c]·V̄ⱼ[r, c]; selfRowsA [LA, n] = Σ_c Ūᵢ[r, c]²; selfRowsB [LB, n].
 */
export interface BatchHsicRows {
  readonly crossRows: Float32Array;
  readonly selfRowsA: Float32Array;
  readonly selfRowsB: Float32Array;
}

export function hsicNormalizer(n: number, centering: Centering): number {
  return centering === 'unbiased' ? n * (n - 3) : (n - 1) * (n - 1);
}

/** Most float32 values of stacked gram rows (both models) to put through one product: 64 MiB. */
export const HSIC_CHUNK_VALUES = 16 * 1024 * 1024;

/** Rows per chunk of the all-pairs product for grams of n × n over `layers` layers (both models). */
export function hsicChunkRows(n: number, layers: number): number {
  return Math.max(1, Math.min(n, Math.floor(HSIC_CHUNK_VALUES / Math.max(1, layers * n))));
}

/** Rows [start, start + rows) of each gram, stacked: [L, rows, n]. A view when the grams are consecutive views of one array. */
export function stackGramRows(grams: readonly CenteredGram[], n: number, start: number, rows: number): Float32Array {
  const size = n * n;
  const first = grams[0]?.gram;
  if (start === 0 && rows === n && first && grams.every((g, k) => g.gram.buffer === first.buffer && g.gram.byteOffset === first.byteOffset + k * size * 4 && g.gram.length === size)) {
    return new Float32Array(first.buffer, first.byteOffset, grams.length * size);
  }
  const out = new Float32Array(grams.length * rows * n);
  grams.forEach((g, k) => out.set(g.gram.subarray(start * n, (start + rows) * n), k * rows * n));
  return out;
}

/** Σ over the leading axis of a row-major [n, …] array, in float64. */
export function sumLeadingAxisFloat64(values: Float32Array, n: number): Float64Array {
  const width = values.length / n;
  const out = new Float64Array(width);
  for (let r = 0; r < n; r++) {
    const base = r * width;
    for (let k = 0; k < width; k++) out[k] += values[base + k];
  }
  return out;
}

/** Σ over the last axis of a row-major [L, n] array, in float64. */
export function sumColumnsFloat64(values: Float32Array, layers: number): Float64Array {
  const n = values.length / Math.max(layers, 1);
  const out = new Float64Array(layers);
  for (let k = 0; k < layers; k++) {
    let total = 0;
    for (let r = 0; r < n; r++) total += values[k * n + r];
    out[k] = total;
  }
  return out;
}

/**
 * Each group's share of a batch's raw sums: 2·(its rows' sums) − (the block of its rows and
 * columns), the first-order influence of its examples (accumulator.ts); the whole batch when the
 * batch lies in one group. The within-block sums are computed here, in float64, from the grams.
 */
export function groupShares(rows: BatchHsicRows, gramsA: readonly CenteredGram[], gramsB: readonly CenteredGram[] | 'same', n: number, rowGroups: ArrayLike<number>): GroupHsic[] {
  if (rowGroups.length !== n) throw new Error(`${rowGroups.length} row groups for a batch of ${n}`);
  const same = gramsB === 'same';
  const b = same ? gramsA : gramsB;
  const la = gramsA.length;
  const lb = b.length;
  const cells = la * lb;
  const members = new Map<number, number[]>();
  for (let r = 0; r < n; r++) {
    const list = members.get(rowGroups[r]);
    if (list) list.push(r);
    else members.set(rowGroups[r], [r]);
  }
  const shares: GroupHsic[] = [];
  for (const [group, list] of members) {
    const cross = new Float64Array(cells);
    const selfA = new Float64Array(la);
    const selfB = new Float64Array(lb);
    for (const r of list) {
      const base = r * cells;
      for (let k = 0; k < cells; k++) cross[k] += rows.crossRows[base + k];
      for (let i = 0; i < la; i++) selfA[i] += rows.selfRowsA[i * n + r];
      for (let j = 0; j < lb; j++) selfB[j] += rows.selfRowsB[j * n + r];
    }
    if (list.length < n) {
      const blockA = gramsA.map((g) => block(g.gram, n, list));
      const blockB = same ? blockA : b.map((g) => block(g.gram, n, list));
      const within = new Float64Array(cells);
      for (let i = 0; i < la; i++) {
        // A model against itself: the within-block products are symmetric in (i, j).
        for (let j = same ? i : 0; j < lb; j++) within[i * lb + j] = dot(blockA[i], blockB[j]);
        if (same) for (let j = 0; j < i; j++) within[i * lb + j] = within[j * lb + i];
      }
      for (let k = 0; k < cells; k++) cross[k] = 2 * cross[k] - within[k];
      for (let i = 0; i < la; i++) selfA[i] = 2 * selfA[i] - (same ? within[i * lb + i] : dot(blockA[i], blockA[i]));
      for (let j = 0; j < lb; j++) selfB[j] = 2 * selfB[j] - (same ? within[j * lb + j] : dot(blockB[j], blockB[j]));
    }
    shares.push({ group, rows: list.length, cross, selfA, selfB });
  }
  return shares;
}

/** gram[rows, rows] of an n × n row-major gram. */
function block(gram: Float32Array, n: number, rows: readonly number[]): Float32Array {
  const s = rows.length;
  const out = new Float32Array(s * s);
  for (let a = 0; a < s; a++) {
    const base = rows[a] * n;
    for (let c = 0; c < s; c++) out[a * s + c] = gram[base + rows[c]];
  }
  return out;
}

function dot(x: Float32Array, y: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < x.length; k++) sum += x[k] * y[k];
  return sum;
}

/**
 * From the raw sums ⟨Ūᵢ, V̄ⱼ⟩ of scaled grams to HSIC: divides by the normalizer and multiplies
 * each term back by the grams' scales (in float64, where no activation range overflows); the
 * groups' shares likewise. `selfB` may be the same array as `selfA` (a model against itself).
 */
export function finishBatchHsic(
  cross: Float64Array,
  selfA: Float64Array,
  selfB: Float64Array,
  gramsA: readonly CenteredGram[],
  gramsB: readonly CenteredGram[],
  n: number,
  centering: Centering,
  groups?: readonly GroupHsic[],
): BatchHsic {
  const c = hsicNormalizer(n, centering);
  const layersA = gramsA.length;
  const layersB = gramsB.length;
  const finish = (x: Float64Array, y: Float64Array, z: Float64Array) => {
    for (let i = 0; i < layersA; i++) {
      for (let j = 0; j < layersB; j++) x[i * layersB + j] *= (gramsA[i].scale * gramsB[j].scale) / c;
    }
    for (let i = 0; i < layersA; i++) y[i] *= (gramsA[i].scale * gramsA[i].scale) / c;
    if (z !== y) for (let j = 0; j < layersB; j++) z[j] *= (gramsB[j].scale * gramsB[j].scale) / c;
  };
  finish(cross, selfA, selfB);
  for (const g of groups ?? []) finish(g.cross, g.selfA, g.selfB);
  return { layersA, layersB, cross, selfA, selfB, rows: n, groups };
}

/** The factor that finishes a raw cross sum of cell i·LB + j: scaleᵢ·scaleⱼ / c. */
export function crossFactors(gramsA: readonly CenteredGram[], gramsB: readonly CenteredGram[], n: number, centering: Centering): Float64Array {
  const c = hsicNormalizer(n, centering);
  const out = new Float64Array(gramsA.length * gramsB.length);
  gramsA.forEach((a, i) => gramsB.forEach((b, j) => (out[i * gramsB.length + j] = (a.scale * b.scale) / c)));
  return out;
}

/** Totals and, when asked for, group shares from the per-row sums, finished. */
export function batchHsicFromRows(
  rows: BatchHsicRows,
  gramsA: readonly CenteredGram[],
  gramsB: readonly CenteredGram[] | 'same',
  n: number,
  centering: Centering,
  rowGroups?: ArrayLike<number>,
): BatchHsic {
  const same = gramsB === 'same';
  const b = same ? gramsA : gramsB;
  const cross = sumLeadingAxisFloat64(rows.crossRows, n);
  const selfA = sumColumnsFloat64(rows.selfRowsA, gramsA.length);
  const selfB = same ? selfA : sumColumnsFloat64(rows.selfRowsB, b.length);
  const groups = rowGroups ? groupShares(rows, gramsA, gramsB, n, rowGroups) : undefined;
  return { ...finishBatchHsic(cross, selfA, selfB, gramsA, b, n, centering, groups), rowCross: rows.crossRows, cellFactor: crossFactors(gramsA, b, n, centering) };
}

/** One chunk of gram rows, stacked: [L, rows, n] per side (`b` null when B is A). */
export interface HsicRowChunk {
  readonly start: number;
  readonly rows: number;
  readonly a: Float32Array;
  readonly b: Float32Array | null;
}

/** A runtime's products for one chunk: cross [rows, LA, LB], squares [LA, rows] (and [LB, rows]). */
export interface HsicChunkProducts {
  readonly cross: Float32Array;
  readonly selfA: Float32Array;
  readonly selfB?: Float32Array;
}

/**
 * All-pairs HSIC of a batch, its gram rows in chunks (`hsicChunkRows`, so that full-data grams
 * never need an n × n transpose at once), each chunk's products from `compute` (one runtime's
 * implementation); the per-row sums are finished in float64 by `batchHsicFromRows`.
 */
export async function batchHsicByChunks(
  gramsA: readonly CenteredGram[],
  gramsB: readonly CenteredGram[] | 'same',
  n: number,
  centering: Centering,
  rowGroups: ArrayLike<number> | undefined,
  compute: (chunk: HsicRowChunk) => HsicChunkProducts | Promise<HsicChunkProducts>,
): Promise<BatchHsic> {
  const same = gramsB === 'same';
  const b = same ? gramsA : gramsB;
  const la = gramsA.length;
  const lb = b.length;
  const crossRows = new Float32Array(n * la * lb);
  const selfRowsA = new Float32Array(la * n);
  const selfRowsB = same ? selfRowsA : new Float32Array(lb * n);
  const chunk = hsicChunkRows(n, la + (same ? 0 : lb));
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    const products = await compute({ start, rows, a: stackGramRows(gramsA, n, start, rows), b: same ? null : stackGramRows(b, n, start, rows) });
    crossRows.set(products.cross, start * la * lb);
    placeColumns(selfRowsA, products.selfA, la, n, start, rows);
    if (!same) placeColumns(selfRowsB, products.selfB!, lb, n, start, rows);
  }
  return batchHsicFromRows({ crossRows, selfRowsA, selfRowsB }, gramsA, gramsB, n, centering, rowGroups);
}

/**
 * All-pairs HSIC on TensorFlow.js. `rowGroups` (a group key per row of the batch) adds each
 * group's share for the jackknife.
 */
export function batchHsic(
  gramsA: readonly CenteredGram[],
  gramsB: readonly CenteredGram[] | 'same',
  n: number,
  centering: Centering,
  rowGroups?: ArrayLike<number>,
): Promise<BatchHsic> {
  const la = gramsA.length;
  const lb = gramsB === 'same' ? la : gramsB.length;
  return batchHsicByChunks(gramsA, gramsB, n, centering, rowGroups, ({ rows, a: stackA, b: stackB }) => {
    const a = tf.tensor3d(stackA, [la, rows, n]);
    const right = stackB ? tf.tensor3d(stackB, [lb, rows, n]) : a;
    try {
      const [products, squaresA, squaresB] = tf.tidy(() => {
        const left = tf.transpose(a, [1, 0, 2]); // [rows, LA, n]
        const r = tf.transpose(right, [1, 2, 0]); // [rows, n, LB]
        const squares = (t: tf.Tensor3D) => tf.sum(tf.square(t), 2); // [L, rows]
        return [tf.matMul(left, r), squares(a), stackB ? squares(right) : undefined];
      });
      const result = { cross: products.dataSync() as Float32Array, selfA: squaresA.dataSync() as Float32Array, selfB: squaresB?.dataSync() as Float32Array | undefined };
      tf.dispose([products, squaresA, squaresB].filter((t): t is tf.Tensor => t !== undefined));
      return result;
    } finally {
      a.dispose();
      if (right !== a) right.dispose();
    }
  });
}

/** Writes a [L, rows] chunk into columns [start, start + rows) of a [L, n] array. */
export function placeColumns(target: Float32Array, chunk: Float32Array, layers: number, n: number, start: number, rows: number): void {
  for (let k = 0; k < layers; k++) target.set(chunk.subarray(k * rows, (k + 1) * rows), k * n + start);
}
