/** What the export buttons produce: file names and the CSV / JSON text of a comparison. */
import type { Matrix } from '../../src/protocol/results.js';
import type { ComparisonView } from '../state/comparisons.js';

export type ExportFormat = 'png' | 'svg' | 'csv' | 'json';
/** Which figure a PNG or SVG export draws: the heatmap (default) or the corresponding-layers plot. */
export type ExportFigure = 'heatmap' | 'layers';

/** A file name safe on every platform: letters, digits, dot, dash, underscore. */
function safeName(text: string): string {
  return text.replace(/[^\w.-]+/g, '_').replace(/^[._]+|_+$/g, '') || 'repsim';
}

export function exportFileName(experiment: string, comparison: string, format: ExportFormat, figure: ExportFigure = 'heatmap'): string {
  const base = `${safeName(experiment)}-${safeName(comparison)}`;
  if (format === 'json') return `${base}.json`;
  return figure === 'layers' && (format === 'png' || format === 'svg') ? `${base}-layers.${format}` : `${base}-cka.${format}`;
}

/** Model A's layers down the side, model B's across the top; an undefined cell is empty (as the CLI writes it). */
export function matrixCsv(layersA: readonly string[], layersB: readonly string[], matrix: Matrix): string {
  const cell = (text: string) => (/[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  const header = ['layer', ...layersB].map(cell).join(',');
  const rows = layersA.map((name, i) => [cell(name), ...(matrix[i] ?? []).map((v) => (v === null ? '' : String(v)))].join(','));
  return `${[header, ...rows].join('\n')}\n`;
}

/** The finished result as the results JSON has it, or the partial heatmap so far. */
export function comparisonJson(view: ComparisonView): string {
  const data = view.result ?? {
    name: view.name,
    a: view.a,
    b: view.b,
    partial: true,
    layersA: view.layersA,
    layersB: view.layersB,
    matrix: view.matrix,
    stderr: view.stderr,
    batchesDone: view.live?.batchesDone,
    totalBatches: view.live?.totalBatches,
  };
  return `${JSON.stringify(data, null, 2)}\n`;
}
