/**
 * A heatmap as a PNG, for reports and slides: one square per cell (row i = layer i of model A,
 * top to bottom; column j = layer j of model B), in the webview's colour scale and domain
 * ([0, 1], widened when an estimator strays outside), undefined (null) cells as a grey
 * checkerboard, and a colour bar on the right (top = the domain's maximum).
 */
import { PNG } from 'pngjs';
import type { Matrix } from '../../protocol/results.js';
import { ckaDomain, scaleRgb } from '../../../webview/charts/colorScale.js';

const MAX_SIDE = 1024;
const BAR_GAP = 8;
const BAR_WIDTH = 16;

export function heatmapPng(matrix: Matrix): Buffer {
  const rows = matrix.length;
  const cols = matrix[0]?.length ?? 0;
  const cell = Math.max(1, Math.floor(MAX_SIDE / Math.max(rows, cols, 1)));
  const width = cols * cell + BAR_GAP + BAR_WIDTH;
  const height = Math.max(rows * cell, 1);
  const png = new PNG({ width, height });
  const domain = ckaDomain(matrix);
  const put = (x: number, y: number, [r, g, b]: readonly number[]) => {
    const at = (y * width + x) * 4;
    png.data[at] = r;
    png.data[at + 1] = g;
    png.data[at + 2] = b;
    png.data[at + 3] = 255;
  };
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const value = matrix[i][j];
      for (let dy = 0; dy < cell; dy++) {
        for (let dx = 0; dx < cell; dx++) {
          const checker = ((dx >> 2) + (dy >> 2)) % 2 ? [150, 150, 150] : [200, 200, 200];
          put(j * cell + dx, i * cell + dy, value === null ? checker : scaleRgb(value, domain));
        }
      }
    }
  }
  for (let y = 0; y < height; y++) {
    const colour = scaleRgb(domain.max - (y / Math.max(height - 1, 1)) * (domain.max - domain.min), domain);
    for (let x = 0; x < BAR_WIDTH; x++) put(cols * cell + BAR_GAP + x, y, colour);
    for (let x = 0; x < BAR_GAP; x++) put(cols * cell + x, y, [255, 255, 255]);
  }
  return PNG.sync.write(png);
}
