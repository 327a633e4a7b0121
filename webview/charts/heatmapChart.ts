/**
 * Chart.js pieces for the CKA heatmap. chartjs-chart-matrix's own controller resolves options
 * and draws a path per cell: measured at 350 × 350 layers that is 1.1–1.8 s per update in
 * Chromium. So the heatmap is its own chart type, 'repsimHeatmap', whose controller
 *  - keeps chartjs-chart-matrix's elements (one per cell; tooltips and hover use them) but does
 *    not lay out 122,500 of them on every update: the one under the pointer is placed on demand
 *    by the `heatmapCell` interaction mode, found by arithmetic on the scales;
 *  - draws nothing itself: `cellsPlugin` paints the cells as one scaled bitmap (see CellBitmap).
 * Axes, tooltips, layout and resizing stay chart.js's.
 */
import { Chart, DatasetController, Interaction, type CartesianScaleTypeRegistry, type ChartEvent, type CoreChartOptions, type InteractionItem, type InteractionModeFunction, type Plugin } from 'chart.js';
import { getRelativePosition } from 'chart.js/helpers';
import { MatrixElement, type MatrixParsedDataPoint } from 'chartjs-chart-matrix';
import type { ThemeColors } from '../theme/colors.js';
import type { CellBitmap } from './cellBitmap.js';

/** One cell: column x (layer of B), row y (layer of A), CKA value and standard error. */
export interface HeatmapPoint {
  readonly x: number;
  readonly y: number;
  readonly v: number | null;
  readonly e: number | null;
}

declare module 'chart.js' {
  interface ChartTypeRegistry {
    repsimHeatmap: {
      chartOptions: CoreChartOptions<'repsimHeatmap'>;
      datasetOptions: { parsing?: false; normalized?: boolean };
      defaultDataPoint: HeatmapPoint;
      parsedDataType: MatrixParsedDataPoint;
      metaExtensions: Record<string, never>;
      scales: keyof CartesianScaleTypeRegistry;
    };
  }
  interface InteractionModeMap {
    heatmapCell: InteractionModeFunction;
  }
}

class HeatmapController extends DatasetController<'repsimHeatmap', MatrixElement, MatrixElement, MatrixParsedDataPoint> {
  static readonly id = 'repsimHeatmap';
  static readonly defaults = { dataElementType: 'matrix', datasetElementType: false };
  static readonly overrides = { interaction: { mode: 'heatmapCell', intersect: true } };
  override update(): void {}
  override updateElements(): void {}
  override draw(): void {}
}

/** Pixel rectangle of cell (row, column), from the category scales (cells are centred on ticks). */
export function cellRect(chart: Chart, row: number, column: number): { x: number; y: number; width: number; height: number } {
  const { x: xScale, y: yScale } = chart.scales;
  const left = xScale.getPixelForValue(column - 0.5);
  const right = xScale.getPixelForValue(column + 0.5);
  const top = yScale.getPixelForValue(row - 0.5);
  const bottom = yScale.getPixelForValue(row + 0.5);
  return { x: Math.min(left, right), y: Math.min(top, bottom), width: Math.abs(right - left), height: Math.abs(bottom - top) };
}

function gridSize(chart: Chart): { rows: number; columns: number } {
  return { rows: chart.data.yLabels?.length ?? 0, columns: chart.data.xLabels?.length ?? 0 };
}

/** The cell under the pointer (at most one item), placing its element for the tooltip. */
const cellUnderPointer: InteractionModeFunction = (chart, event) => {
  const meta = chart.getDatasetMeta(0);
  const { rows, columns } = gridSize(chart);
  if (!meta || rows === 0 || columns === 0) return [];
  const position = getRelativePosition(event as ChartEvent, chart);
  const area = chart.chartArea;
  if (position.x < area.left || position.x > area.right || position.y < area.top || position.y > area.bottom) return [];
  const column = Math.round(chart.scales.x.getValueForPixel(position.x) ?? -1);
  const row = Math.round(chart.scales.y.getValueForPixel(position.y) ?? -1);
  if (row < 0 || row >= rows || column < 0 || column >= columns) return [];
  const index = row * columns + column;
  const element = meta.data[index];
  if (element === undefined) return [];
  Object.assign(element, cellRect(chart, row, column));
  return [{ element, datasetIndex: 0, index } satisfies InteractionItem];
};

let registered = false;

export function registerHeatmapChart(): void {
  if (registered) return;
  registered = true;
  Chart.register(HeatmapController, MatrixElement);
  Interaction.modes.heatmapCell = cellUnderPointer;
}

const hatchPatterns = new Map<string, CanvasPattern | null>();

/** Diagonal hatching on the editor background: how undefined (null) cells look. */
function hatchPattern(context: CanvasRenderingContext2D, colors: ThemeColors): CanvasPattern | null {
  const key = `${colors.background}|${colors.hatch}`;
  if (!hatchPatterns.has(key)) {
    const tile = document.createElement('canvas');
    tile.width = tile.height = 8;
    const g = tile.getContext('2d')!;
    g.fillStyle = colors.background;
    g.fillRect(0, 0, 8, 8);
    g.strokeStyle = colors.hatch;
    g.lineWidth = 1.5;
    g.beginPath();
    for (const offset of [-8, 0, 8]) {
      g.moveTo(offset, 8);
      g.lineTo(offset + 8, 0);
    }
    g.stroke();
    hatchPatterns.set(key, context.createPattern(tile, 'repeat'));
  }
  return hatchPatterns.get(key) ?? null;
}

/** A cell of the grid: row = layer of A, column = layer of B. */
export interface GridCell {
  readonly row: number;
  readonly column: number;
}

/**
 * Paints the page background (so exported PNGs are not transparent), the cells from the
 * bitmap over hatching, an outline around the hovered cell and a dashed one around the selected
 * cell (the one whose drill-down is open).
 */
export function cellsPlugin(bitmap: CellBitmap, colors: () => ThemeColors, selected: () => GridCell | undefined = () => undefined): Plugin<'repsimHeatmap'> {
  return {
    id: 'repsimCells',
    beforeDraw(chart) {
      const { ctx, width, height } = chart;
      ctx.save();
      ctx.fillStyle = colors().background;
      ctx.fillRect(0, 0, width, height);
      ctx.restore();
    },
    beforeDatasetsDraw(chart) {
      const { rows, columns } = gridSize(chart);
      if (rows === 0 || columns === 0 || bitmap.rows !== rows || bitmap.columns !== columns) return;
      const first = cellRect(chart, 0, 0);
      const last = cellRect(chart, rows - 1, columns - 1);
      const x = Math.min(first.x, last.x);
      const y = Math.min(first.y, last.y);
      const width = Math.max(first.x + first.width, last.x + last.width) - x;
      const height = Math.max(first.y + first.height, last.y + last.height) - y;
      const ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = hatchPattern(ctx, colors()) ?? colors().background;
      ctx.fillRect(x, y, width, height);
      // Nearest-neighbour keeps cells crisp when enlarged; averaging reads better when a cell is under a pixel.
      ctx.imageSmoothingEnabled = first.width < 1 || first.height < 1;
      ctx.drawImage(bitmap.canvas, x, y, width, height);
      ctx.restore();
    },
    afterDatasetsDraw(chart) {
      const { rows, columns } = gridSize(chart);
      if (columns === 0) return;
      const outline = (cell: GridCell, dashed: boolean) => {
        if (cell.row >= rows || cell.column >= columns) return;
        const rect = cellRect(chart, cell.row, cell.column);
        const ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = dashed ? colors().foreground : colors().focusBorder;
        ctx.lineWidth = 2;
        if (dashed) ctx.setLineDash([4, 3]);
        ctx.strokeRect(rect.x - 1, rect.y - 1, rect.width + 2, rect.height + 2);
        ctx.restore();
      };
      const chosen = selected();
      if (chosen !== undefined) outline(chosen, true);
      const active = chart.getActiveElements()[0];
      if (active !== undefined) outline({ row: Math.floor(active.index / columns), column: active.index % columns }, false);
    },
  };
}
