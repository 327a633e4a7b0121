/**
 * What a run shows, computed from its matrices: for two different models with the same layers,
 * Kornblith et al. (2019)'s check that each layer of one is most similar to its counterpart in
 * the other (A → B by the matrix's row maxima, B → A by its column maxima), as counts of the
 * layers that pass and one line of text for the end of the run, the panel and the report.
 */
import type { ComparisonResult, LayerIdentification, Matrix, PermutationTest } from './results.js';

/** The check for layers A and B with the same names in the same order; undefined otherwise. */
export function identifyLayers(layersA: readonly string[], layersB: readonly string[], matrix: Matrix): LayerIdentification | undefined {
  if (layersA.length === 0 || layersA.length !== layersB.length || layersA.some((name, i) => name !== layersB[i])) return undefined;
  const layers = layersA.map((layer, i) => {
    const row = matrix[i] ?? [];
    const counterpartCka = row[i] ?? null;
    let best = -1;
    for (let j = 0; j < row.length; j++) {
      const value = row[j];
      if (value !== null && (best < 0 || value > row[best]!)) best = j;
    }
    // A tie with the row's maximum counts for the counterpart.
    const matched = counterpartCka !== null && best >= 0 && counterpartCka >= row[best]!;
    const mostSimilar = matched ? i : best;
    return { layer, mostSimilar: mostSimilar >= 0 ? layersB[mostSimilar] : null, matched, cka: mostSimilar >= 0 ? row[mostSimilar] : null, counterpartCka };
  });
  const defined = layers.filter((l) => l.counterpartCka !== null);
  const reverse = identifyReverse(matrix, layersB.length);
  return {
    matched: defined.filter((l) => l.matched).length,
    total: defined.length,
    matchedReverse: reverse.matched,
    totalReverse: reverse.total,
    meanCorresponding: defined.length ? defined.reduce((sum, l) => sum + l.counterpartCka!, 0) / defined.length : null,
    layers,
  };
}

/**
 * The reverse check, B → A: layer j of B passes when its counterpart's CKA (cell [j][j]) is the
 * maximum of column j (a tie counts for the counterpart); a layer counts when that cell is defined.
 */
function identifyReverse(matrix: Matrix, count: number): { matched: number; total: number } {
  let matched = 0;
  let total = 0;
  for (let j = 0; j < count; j++) {
    const counterpartCka = matrix[j]?.[j] ?? null;
    if (counterpartCka === null) continue;
    total++;
    if (matrix.every((row) => row[j] === null || row[j] === undefined || row[j]! <= counterpartCka)) matched++;
  }
  return { matched, total };
}

const meanText = (identification: LayerIdentification) => (identification.meanCorresponding === null ? '' : `mean CKA of counterparts ${identification.meanCorresponding.toFixed(2)}`);

/** The B → A count for the finding line, e.g. " (b→a: 6 of 6)"; empty when it is not known. */
function reverseText(identification: LayerIdentification, result: ComparisonResult): string {
  const { matchedReverse, totalReverse } = identification;
  return matchedReverse === undefined || totalReverse === undefined ? '' : ` (${result.b}→${result.a}: ${matchedReverse} of ${totalReverse})`;
}

/** The comparison with its layer identification and finding (none for a model compared with itself). */
export function withFindings(result: ComparisonResult): ComparisonResult {
  const { layerIdentification: _identification, finding: _finding, ...rest } = result;
  const identification = result.a === result.b ? undefined : identifyLayers(result.layersA, result.layersB, result.matrix);
  if (identification === undefined || identification.total === 0) return rest;
  const mean = meanText(identification);
  return {
    ...rest,
    layerIdentification: identification,
    finding: `${identification.matched} of ${identification.total} layers of ${result.a} are most similar to their counterpart in ${result.b}${reverseText(identification, result)}${mean ? `; ${mean}` : ''}`,
  };
}

/**
 * The run's finding in one line, from each comparison's count, e.g. "a vs b: 4 of 4 layers most
 * similar to their counterpart (mean CKA 0.97); a vs c: 1 of 4 (mean CKA 0.78)"; undefined
 * when no comparison has one.
 */
export function runFinding(comparisons: readonly ComparisonResult[]): string | undefined {
  const parts = comparisons.flatMap((c) => {
    const id = c.layerIdentification;
    if (!id || id.total === 0) return [];
    const mean = id.meanCorresponding === null ? '' : ` (mean CKA ${id.meanCorresponding.toFixed(2)})`;
    return [{ pair: `${c.a} vs ${c.b}`, count: `${id.matched} of ${id.total}`, mean }];
  });
  if (parts.length === 0) return undefined;
  return parts.map((p, i) => `${p.pair}: ${p.count}${i === 0 ? ' layers most similar to their counterpart' : ''}${p.mean}`).join('; ');
}

/** One line: how many tested cells are distinguishable from chance at p ≤ 0.05, and the test's floor. */
export function significanceSummary(test: PermutationTest): string {
  const tested = test.pValue.flat().filter((p): p is number => p !== null);
  const significant = tested.filter((p) => p <= 0.05).length;
  return `permutation test (${test.permutations} permutations): ${significant} of ${tested.length} tested cells have p ≤ 0.05 (the smallest possible p is 1/${test.permutations + 1})`;
}
