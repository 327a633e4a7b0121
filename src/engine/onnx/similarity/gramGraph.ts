/**
 * A graph that turns one batch of several layers' activations into their centred grams
 * (see centeredGramGraph.ts for the formula), stacked so that the HSIC graph takes them as
 * they come out: one session run per batch and model, whatever the number of layers.
 */
import { GraphBuilder } from '../graph.js';
import { appendCenteredGram, appendStack, type CenteredGramSpec } from './centeredGramGraph.js';

export const GRAMS_OUTPUT = 'grams';
export const SPREADS_OUTPUT = 'spreads';
export const MARGINS_OUTPUT = 'margins';
export const MEDIANS_OUTPUT = 'medians';
export const LINEAR_GRAMS_OUTPUT = 'linear_grams';

export const layerInputName = (k: number): string => `layer_${k}`;

export interface StackedGramOutputs {
  /** [L, n, n] centred grams of the scaled features. */
  readonly grams: string;
  /** [L] spreads s (the true linear gram is s²·gram). */
  readonly spreads: string;
  /** [L] zero-variance margins (> 0: the layer has variance). */
  readonly margins: string;
  /** [L] RBF median squared distances. */
  readonly medians?: string;
  /** [L, n, n] Xs·Xsᵀ, when asked for. */
  readonly linear?: string;
}

/**
 * Appends the centred grams of `values` (activations [n, ...] each) and stacks them as graph
 * outputs; returns the output names (the preferred ones unless the graph already uses them).
 */
export function appendStackedGrams(g: GraphBuilder, values: readonly string[], spec: Omit<CenteredGramSpec, 'prefix'>, prefixes?: readonly string[]): StackedGramOutputs {
  const per = values.map((value, k) => appendCenteredGram(g, value, { ...spec, prefix: prefixes?.[k] ?? `layer_${k}` }));
  const out: StackedGramOutputs = {
    grams: g.output(appendStack(g, per.map((p) => p.gram), GRAMS_OUTPUT)),
    spreads: g.output(appendStack(g, per.map((p) => p.spread), SPREADS_OUTPUT)),
    margins: g.output(appendStack(g, per.map((p) => p.margin), MARGINS_OUTPUT)),
    medians: spec.kernel.kind === 'rbf' ? g.output(appendStack(g, per.map((p) => p.median!), MEDIANS_OUTPUT)) : undefined,
    linear: spec.linear ? g.output(appendStack(g, per.map((p) => p.linear!), LINEAR_GRAMS_OUTPUT)) : undefined,
  };
  return out;
}

/** Inputs layer_0 … layer_{L−1}, [n, cols_k] float32; outputs as `appendStackedGrams`. */
export function buildGramGraph(rows: number, cols: readonly number[], spec: Omit<CenteredGramSpec, 'prefix' | 'rows'>): { bytes: Uint8Array; outputs: StackedGramOutputs } {
  const g = new GraphBuilder('repsim_centred_grams');
  const inputs = cols.map((d, k) => g.input(layerInputName(k), 'float32', [rows, d]));
  const outputs = appendStackedGrams(g, inputs, { ...spec, rows });
  return { bytes: g.encode(), outputs };
}

export const PREDICTIONS_OUTPUT = 'predictions';

/** Appends the predicted class per example, ArgMax over a classifier output [n, ...classes], as an int64 [n] output. */
export function appendPredictions(g: GraphBuilder, classifierOutput: string, rows: number): string {
  const flat = g.op('Reshape', [classifierOutput, g.int64s([0, -1])]); // [n, classes]
  return g.output(g.op('ArgMax', [flat], { axis: 1, keepdims: 0 }, { outputNames: [PREDICTIONS_OUTPUT] }), 'int64', [rows]);
}
