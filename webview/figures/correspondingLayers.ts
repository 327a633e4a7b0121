/**
 * The "corresponding layers" curve of a comparison: CKA of layer i of A with layer i of B when
 * both models have as many layers, otherwise, for each layer of A, CKA with its most similar
 * layer of B (the row maximum); with the standard error of each chosen cell.
 */
import type { Matrix } from '../../src/protocol/results.js';

export interface CorrespondingCurve {
  /** 'diagonal': layer i with layer i; 'best-match': each layer of A with its most similar layer of B. */
  readonly pairing: 'diagonal' | 'best-match';
  /** Layer of A per point. */
  readonly layers: readonly string[];
  /** The layer of B each point pairs with (null where the whole row is undefined). */
  readonly partners: readonly (string | null)[];
  readonly values: readonly (number | null)[];
  readonly stderr: readonly (number | null)[];
}

export function correspondingLayers(comparison: { readonly layersA: readonly string[]; readonly layersB: readonly string[]; readonly matrix: Matrix; readonly stderr?: Matrix }): CorrespondingCurve {
  const { layersA, layersB, matrix } = comparison;
  const se = (i: number, j: number) => comparison.stderr?.[i]?.[j] ?? null;
  if (layersA.length === layersB.length) {
    return {
      pairing: 'diagonal',
      layers: layersA,
      partners: layersB,
      values: layersA.map((_, i) => matrix[i]?.[i] ?? null),
      stderr: layersA.map((_, i) => se(i, i)),
    };
  }
  const best = layersA.map((_, i) => {
    let at = -1;
    (matrix[i] ?? []).forEach((v, j) => {
      if (v !== null && Number.isFinite(v) && (at < 0 || v > (matrix[i][at] as number))) at = j;
    });
    return at;
  });
  return {
    pairing: 'best-match',
    layers: layersA,
    partners: best.map((j) => (j < 0 ? null : layersB[j])),
    values: best.map((j, i) => (j < 0 ? null : matrix[i][j])),
    stderr: best.map((j, i) => (j < 0 ? null : se(i, j))),
  };
}
