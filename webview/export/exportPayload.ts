/**
 * What one export button saves for the shown comparison: the publication heatmap or the
 * corresponding-layers plot (SVG text, or a PNG data URL rasterized from the same SVG), the CKA
 * matrix as CSV, or the comparison as JSON. The layers plot draws the shown comparison with its
 * estimator siblings (the same models, layers and settings under other estimators) when it has
 * any, as the panel's side-by-side view does.
 */
import { correspondingLayersSvg } from '../figures/correspondingLayersSvg.js';
import { DEFAULT_ALPHA, type FigureComparison, type FigureOrigin } from '../figures/figureInput.js';
import { heatmapSvg } from '../figures/heatmapSvg.js';
import { estimatorSiblings, type ComparisonView } from '../state/comparisons.js';
import { comparisonJson, matrixCsv, type ExportFigure, type ExportFormat } from './exportData.js';
import { svgToPngDataUrl } from './svgToPng.js';

export interface ExportRequest {
  readonly format: ExportFormat;
  /** For PNG and SVG: which figure (default the heatmap). */
  readonly figure?: ExportFigure;
  /** Where layer 1 sits in the heatmap (default bottom-left). */
  readonly origin?: FigureOrigin;
  /** Cells with a permutation-test p-value above this are hatched (default DEFAULT_ALPHA). */
  readonly alpha?: number;
}

/** The finished result, or the heatmap as far as it has filled in. */
function figureComparison(view: ComparisonView): FigureComparison {
  return view.result ?? { name: view.name, a: view.a, b: view.b, layersA: view.layersA, layersB: view.layersB, matrix: view.matrix, stderr: view.stderr, significance: view.significance };
}

function layersPlotComparisons(views: readonly ComparisonView[], view: ComparisonView): readonly FigureComparison[] {
  if (view.result === undefined) return [figureComparison(view)];
  const siblings = estimatorSiblings(views.flatMap((v) => (v.result ? [v.result] : [])), view.result);
  return siblings.length > 0 ? siblings : [view.result];
}

export function figureSvg(views: readonly ComparisonView[], view: ComparisonView, request: ExportRequest): string {
  if (request.figure === 'layers') return correspondingLayersSvg(layersPlotComparisons(views, view));
  const comparison = figureComparison(view);
  return heatmapSvg(comparison, { origin: request.origin, alpha: comparison.significance ? (request.alpha ?? DEFAULT_ALPHA) : undefined });
}

/** The export's text: SVG, CSV or JSON as they are; a PNG as a data URL. */
export async function exportPayload(views: readonly ComparisonView[], view: ComparisonView, request: ExportRequest): Promise<string> {
  switch (request.format) {
    case 'svg':
      return figureSvg(views, view, request);
    case 'png':
      return svgToPngDataUrl(figureSvg(views, view, request));
    case 'csv':
      return matrixCsv(view.layersA, view.layersB, view.matrix);
    case 'json':
      return comparisonJson(view);
  }
}
