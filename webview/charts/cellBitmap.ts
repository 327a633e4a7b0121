/**
 * The heatmap's cells as a bitmap with one pixel per cell, painted from the colour lookup table.
 * Drawing it scaled onto the chart costs one drawImage however many cells there are; undefined
 * cells stay transparent so the hatching drawn beneath shows through, and cells that fail a
 * significance level are painted faint, so the same hatching shows through them too.
 */
import type { Matrix } from '../../src/protocol/results.js';
import { scaleStep, VIRIDIS_LUT, type ScaleDomain } from './colorScale.js';

/** Opacity of a cell whose p-value is above the significance level: its colour stays readable, the hatching shows. */
export const DIMMED_ALPHA = 96;

/** Which cells to dim: those whose p-value is above `level` (untested cells, null p, are not dimmed). */
export interface SignificanceMask {
  readonly pValue: Matrix;
  readonly level: number;
}

export class CellBitmap {
  readonly canvas: HTMLCanvasElement = document.createElement('canvas');
  private readonly context = this.canvas.getContext('2d')!;
  private image: ImageData | undefined;

  get rows(): number {
    return this.canvas.height;
  }

  get columns(): number {
    return this.canvas.width;
  }

  paint(matrix: Matrix, columns: number, domain: ScaleDomain, mask?: SignificanceMask): void {
    const rows = matrix.length;
    if (rows === 0 || columns === 0) {
      this.canvas.width = this.canvas.height = 0;
      this.image = undefined;
      return;
    }
    if (this.image === undefined || this.image.width !== columns || this.image.height !== rows) {
      this.canvas.width = columns;
      this.canvas.height = rows;
      this.image = this.context.createImageData(columns, rows);
    }
    const pixels = this.image.data;
    for (let i = 0; i < rows; i++) {
      const row = matrix[i];
      const pRow = mask?.pValue[i];
      for (let j = 0; j < columns; j++) {
        const offset = 4 * (i * columns + j);
        const value = row[j];
        if (value === null || value === undefined || !Number.isFinite(value)) {
          pixels[offset + 3] = 0;
          continue;
        }
        const k = 3 * scaleStep(value, domain);
        pixels[offset] = VIRIDIS_LUT[k];
        pixels[offset + 1] = VIRIDIS_LUT[k + 1];
        pixels[offset + 2] = VIRIDIS_LUT[k + 2];
        const p = pRow?.[j];
        pixels[offset + 3] = p !== null && p !== undefined && p > mask!.level ? DIMMED_ALPHA : 255;
      }
    }
    this.context.putImageData(this.image, 0, 0);
  }
}
