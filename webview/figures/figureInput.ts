/** What the figures draw: a comparison as results JSON has it, or as far as it has filled in. */
import type { FigureSpec } from '../../src/protocol/experiment.js';
import type { Matrix } from '../../src/protocol/results.js';
import type { MeasureInfo } from './figureTitle.js';

/** A ComparisonResult fits; so does a partial heatmap (no settings, no significance). */
export interface FigureComparison extends MeasureInfo {
  readonly name?: string;
  /** Model ids: B's layers run along x, A's along y. */
  readonly a: string;
  readonly b: string;
  readonly layersA: readonly string[];
  readonly layersB: readonly string[];
  /** Row i = layer i of model A; null where CKA is undefined. */
  readonly matrix: Matrix;
  readonly stderr?: Matrix;
  readonly significance?: { readonly pValue: Matrix; readonly permutations?: number };
}

/** Where layer 1 of both models sits. */
export type FigureOrigin = NonNullable<FigureSpec['origin']>;
export const DEFAULT_ORIGIN: FigureOrigin = 'bottom-left';

/** The significance level hatched figures use unless told otherwise. */
export const DEFAULT_ALPHA = 0.05;
