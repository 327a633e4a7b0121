/** The comparisons a run can show — finished ones and the one filling in — and which one is shown. */
import type { CkaSettings, ComparisonResult, Matrix, PermutationTest, RunSnapshot } from '../../src/protocol/results.js';

export interface ComparisonView {
  readonly name: string;
  readonly a: string;
  readonly b: string;
  readonly layersA: readonly string[];
  readonly layersB: readonly string[];
  readonly matrix: Matrix;
  readonly stderr: Matrix;
  /** The permutation test per cell, when one ran (over the batches so far while it fills in). */
  readonly significance?: PermutationTest;
  /** Present once the comparison has finished. */
  readonly result?: ComparisonResult;
  /** Present while it fills in, batch by batch. */
  readonly live?: { readonly batchesDone: number; readonly totalBatches: number };
}

/** Views are cached per source object so unchanged comparisons keep their identity across messages. */
const viewCache = new WeakMap<object, ComparisonView>();

function finishedView(result: ComparisonResult): ComparisonView {
  let view = viewCache.get(result);
  if (view === undefined) {
    view = { name: result.name, a: result.a, b: result.b, layersA: result.layersA, layersB: result.layersB, matrix: result.matrix, stderr: result.stderr, significance: result.significance, result };
    viewCache.set(result, view);
  }
  return view;
}

function liveView(partial: NonNullable<RunSnapshot['partial']>): ComparisonView {
  let view = viewCache.get(partial);
  if (view === undefined) {
    const { cka } = partial;
    view = {
      name: partial.comparison,
      a: partial.a,
      b: partial.b,
      layersA: cka.layersA,
      layersB: cka.layersB,
      matrix: cka.matrix,
      stderr: cka.stderr,
      significance: cka.significance,
      live: { batchesDone: cka.batchesDone, totalBatches: cka.totalBatches },
    };
    viewCache.set(partial, view);
  }
  return view;
}

export function comparisonViews(snapshot: RunSnapshot | undefined): ComparisonView[] {
  if (snapshot === undefined) return [];
  const views = snapshot.comparisons.map(finishedView);
  const partial = snapshot.partial;
  if (partial !== undefined && !views.some((v) => v.name === partial.comparison)) views.push(liveView(partial));
  return views;
}

/** The user's pick when it exists; otherwise follow the comparison in progress, else the first. */
export function selectedView(views: readonly ComparisonView[], picked: string | undefined): ComparisonView | undefined {
  return views.find((v) => v.name === picked) ?? views.find((v) => v.live !== undefined) ?? views[0];
}

/** Same architecture on both sides: the layer lists are identical, so the diagonal pairs layer i with layer i. */
export function hasCorrespondingLayers(view: Pick<ComparisonView, 'layersA' | 'layersB'>): boolean {
  return view.layersA.length > 0 && view.layersA.length === view.layersB.length && view.layersA.every((name, i) => name === view.layersB[i]);
}

/** Diagonal CKA (layer i of A with layer i of B) and its standard error. */
export function diagonal(view: Pick<ComparisonView, 'matrix' | 'stderr'>): { values: (number | null)[]; stderr: (number | null)[] } {
  return { values: view.matrix.map((row, i) => row[i] ?? null), stderr: view.stderr.map((row, i) => row[i] ?? null) };
}

/** The order estimators are shown in: the inflated one first. */
const ESTIMATOR_ORDER: readonly CkaSettings['estimator'][] = ['biased', 'debiased', 'minibatch'];

const sameList = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((name, i) => name === y[i]);

/** Settings equal in everything but the estimator (and the permutation count, which does not change the value). */
function sameSettingsButEstimator(x: CkaSettings, y: CkaSettings): boolean {
  return x.kernel === y.kernel && x.threshold === y.threshold && x.batchSize === y.batchSize && x.passes === y.passes && x.seed === y.seed;
}

/**
 * The run's comparisons of the same two models and layers as `result` whose settings differ only
 * in the estimator, one per estimator, in ESTIMATOR_ORDER; empty unless at least two estimators.
 */
export function estimatorSiblings(comparisons: readonly ComparisonResult[], result: ComparisonResult): ComparisonResult[] {
  const siblings = comparisons.filter(
    (c) => c.a === result.a && c.b === result.b && sameList(c.layersA, result.layersA) && sameList(c.layersB, result.layersB) && sameSettingsButEstimator(c.settings, result.settings),
  );
  const byEstimator = ESTIMATOR_ORDER.flatMap((estimator) => {
    const match = estimator === result.settings.estimator ? result : siblings.find((c) => c.settings.estimator === estimator);
    return match ? [match] : [];
  });
  return byEstimator.length >= 2 ? byEstimator : [];
}
