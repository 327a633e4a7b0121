/**
 * A heatmap as a PNG, for reports and slides: one square per cell (row i = layer i of model A,
 * top to bottom; column j = layer j of model B), viridis colours over [0, 1], undefined (null)
 * cells as a grey checkerboard, and a colour bar on the right. Values outside [0, 1] take the
 * end colours; the data files keep them exactly.
 */
import { PNG } from 'pngjs';
import type { Matrix } from '../../protocol/results.js';

// matplotlib's viridis at nine evenly spaced points.
const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#fde725'].map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));

export function viridis(value: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, value)) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(t), VIRIDIS.length - 2);
  const f = t - i;
  return [0, 1, 2].map((k) => Math.round(VIRIDIS[i][k] + f * (VIRIDIS[i + 1][k] - VIRIDIS[i][k]))) as [number, number, number];
}

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
          put(j * cell + dx, i * cell + dy, value === null ? checker : viridis(value));
        }
      }
    }
  }
  for (let y = 0; y < height; y++) {
    const colour = viridis(1 - y / Math.max(height - 1, 1)); // 1 at the top
    for (let x = 0; x < BAR_WIDTH; x++) put(cols * cell + BAR_GAP + x, y, colour);
    for (let x = 0; x < BAR_GAP; x++) put(cols * cell + x, y, [255, 255, 255]);
  }
  return PNG.sync.write(png);
}
