/**
 * The CKA heatmap: layers of model A down the side (row i = layer i of A), layers of model B
 * across, a colour key, tooltips with both layer names and the value ± its standard error (and
 * the permutation test, when one ran). Cells above a significance level are dimmed and hatched,
 * and calibrated CKA can replace the raw value. Clicking a cell, or Enter on the one the arrow
 * keys moved to, dispatches `repsim-cell-select` (detail: GridCell).
 * It keeps one Chart instance and updates it in place on every batch (see heatmapChart.ts for
 * how 350 × 350 layers stay fast).
 */
import { Chart, type ChartConfiguration, type Scale, type TooltipItem } from 'chart.js';
import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { Matrix, PermutationTest } from '../../src/protocol/results.js';
import { CellBitmap, type SignificanceMask } from '../charts/cellBitmap.js';
import { ckaDomain, type ScaleDomain } from '../charts/colorScale.js';
import { cellRect, cellsPlugin, type GridCell, type HeatmapPoint } from '../charts/heatmapChart.js';
import { registerCharts } from '../charts/register.js';
import { themedAxis, themedFont, themedTooltip } from '../charts/themedOptions.js';
import { clipLabel, describeSignificance, formatCell } from '../format.js';
import type { ThemeColors } from '../theme/colors.js';
import { ThemeController } from '../theme/themeController.js';
import './repsim-color-legend.js';
import { baseStyles } from './styles.js';

registerCharts();

type HeatmapChart = Chart<'repsimHeatmap', HeatmapPoint[], string>;
type MutablePoint = { -readonly [K in keyof HeatmapPoint]: HeatmapPoint[K] };

/** `repsim-cell-select`: the cell the user clicked or chose with the keyboard. */
export type CellSelectEvent = CustomEvent<GridCell>;

@customElement('repsim-heatmap')
export class RepsimHeatmap extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .plot {
        position: relative;
        width: 100%;
        aspect-ratio: 1 / 1;
        min-height: 280px;
        max-height: 75vh;
      }
      canvas:focus-visible {
        outline: 1px solid var(--vscode-focusBorder);
        outline-offset: 2px;
      }
      .visually-hidden {
        position: absolute;
        width: 1px;
        height: 1px;
        overflow: hidden;
        clip-path: inset(50%);
        white-space: nowrap;
      }
    `,
  ];

  @property({ attribute: false }) layersA: readonly string[] = [];
  @property({ attribute: false }) layersB: readonly string[] = [];
  /** Row i = layer i of A; null where CKA is undefined. */
  @property({ attribute: false }) matrix: Matrix = [];
  @property({ attribute: false }) stderr: Matrix = [];
  /** Model ids, for the axis titles and tooltips. */
  @property() modelA = 'A';
  @property() modelB = 'B';
  /** The permutation test per cell, when one ran. */
  @property({ attribute: false }) significance?: PermutationTest;
  /** Dim and hatch cells whose p-value is above this level (null: none). */
  @property({ attribute: false }) significanceLevel: number | null = null;
  /** Colour the cells by calibrated CKA (needs `significance`). */
  @property({ type: Boolean }) calibrated = false;
  /** The cell whose drill-down is open: outlined. */
  @property({ attribute: false }) selectedCell?: GridCell;

  /** What the keyboard cursor is on, read out by screen readers. */
  @state() private cursorText = '';
  private cursor: GridCell | undefined;

  /** Milliseconds the last data refresh took (cells, data points, chart update and draw). */
  lastUpdateMs = 0;

  @query('canvas') private canvas!: HTMLCanvasElement;
  private readonly bitmap = new CellBitmap();
  private domain: ScaleDomain = { min: 0, max: 1 };
  private points: MutablePoint[] = [];
  private pointColumns = 0;
  private chartInstance: HeatmapChart | undefined;
  private readonly theme = new ThemeController(this, () => this.refreshOptions());

  /** The chart.js instance (kept for the element's lifetime; tests check it is never re-created). */
  get chart(): HeatmapChart | undefined {
    return this.chartInstance;
  }

  /** The cell bitmap (one pixel per cell; tests read which cells are dimmed from its alpha). */
  get cells(): CellBitmap {
    return this.bitmap;
  }

  /** Whether the cells show calibrated CKA (asked for, and there is a test to calibrate with). */
  get showsCalibrated(): boolean {
    return this.calibrated && this.significance !== undefined;
  }

  override render() {
    const level = this.significance !== undefined ? this.significanceLevel : null;
    return html`
      <div class="plot">
        <canvas
          role="img"
          tabindex="0"
          aria-label="${this.showsCalibrated ? 'Calibrated CKA' : 'CKA'} between layers of ${this.modelA} (rows) and ${this.modelB} (columns). Arrow keys move between cells, Enter opens a cell's detail."
          @keydown=${this.onKeyDown}
        ></canvas>
      </div>
      <p class="visually-hidden" aria-live="polite">${this.cursorText}</p>
      <repsim-color-legend .min=${this.domain.min} .max=${this.domain.max} .label=${this.showsCalibrated ? 'calibrated CKA' : 'CKA'} .dimmed=${level === null ? '' : `p > ${level} (not significant)`}></repsim-color-legend>
    `;
  }

  /** The values the cells are coloured by. */
  private get shownMatrix(): Matrix {
    return this.showsCalibrated ? this.significance!.calibrated : this.matrix;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('matrix') || changed.has('calibrated') || changed.has('significance')) this.domain = ckaDomain(this.shownMatrix);
  }

  protected override updated(changed: PropertyValues<this>): void {
    const layout = changed.has('layersA') || changed.has('layersB') || changed.has('modelA') || changed.has('modelB');
    const cells = changed.has('matrix') || changed.has('stderr') || changed.has('significance') || changed.has('significanceLevel') || changed.has('calibrated');
    if (this.chartInstance === undefined || layout || cells) this.refreshData(layout);
    else if (changed.has('selectedCell')) this.chartInstance.draw();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.hasUpdated && this.chartInstance === undefined) this.refreshData(true);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.chartInstance?.destroy();
    this.chartInstance = undefined;
  }

  /**
   * Repaints the cells and updates the chart in place. The point objects are reused while the
   * grid keeps its shape (a batch only changes values), which spares the garbage collector
   * 122,500 objects per batch at 350 × 350; options are rebuilt only when `layout` changed.
   */
  private refreshData(layout: boolean): void {
    if (!this.isConnected) return;
    const started = performance.now();
    const rows = this.layersA.length;
    const columns = this.layersB.length;
    const shown = this.shownMatrix;
    const shapeOk = shown.length === rows && shown.every((row) => row.length === columns);
    const matrix = shapeOk ? shown : [];
    const mask: SignificanceMask | undefined = this.significance && this.significanceLevel !== null ? { pValue: this.significance.pValue, level: this.significanceLevel } : undefined;
    this.bitmap.paint(matrix, columns, this.domain, mask);
    const cells = shapeOk ? rows * columns : 0;
    let points = this.points;
    if (points.length !== cells || this.pointColumns !== columns) {
      points = new Array<MutablePoint>(cells);
      for (let k = 0; k < cells; k++) points[k] = { x: k % columns, y: Math.floor(k / columns), v: null, e: null };
      this.points = points;
      this.pointColumns = columns;
    }
    for (let i = 0; i < (shapeOk ? rows : 0); i++) {
      const values = matrix[i];
      const errors = this.stderr[i];
      for (let j = 0; j < columns; j++) {
        const point = points[i * columns + j];
        point.v = values[j];
        point.e = errors?.[j] ?? null;
      }
    }
    const chart = this.chartInstance;
    if (chart === undefined) {
      this.chartInstance = new Chart(this.canvas, this.config(points));
    } else {
      if (layout) {
        chart.data.xLabels = [...this.layersB];
        chart.data.yLabels = [...this.layersA];
        chart.options = this.options();
      }
      chart.data.datasets[0].data = points;
      chart.update('none');
    }
    this.lastUpdateMs = performance.now() - started;
  }

  private refreshOptions(): void {
    if (this.chartInstance === undefined) return;
    this.chartInstance.options = this.options();
    this.chartInstance.update('none');
  }

  private config(points: HeatmapPoint[]): ChartConfiguration<'repsimHeatmap', HeatmapPoint[], string> {
    return {
      type: 'repsimHeatmap',
      data: {
        xLabels: [...this.layersB],
        yLabels: [...this.layersA],
        datasets: [{ data: points, parsing: false, normalized: true }],
      },
      options: this.options(),
      plugins: [cellsPlugin(this.bitmap, () => this.theme.theme, () => this.selectedCell)],
    };
  }

  private options(): NonNullable<ChartConfiguration<'repsimHeatmap', HeatmapPoint[], string>['options']> {
    const theme: ThemeColors = this.theme.theme;
    const layerTicks = (axis: 'x' | 'y') => ({
      ...themedAxis(theme).ticks,
      autoSkip: true,
      autoSkipPadding: axis === 'x' ? 6 : 3,
      maxRotation: axis === 'x' ? 90 : 0,
      minRotation: 0,
      sampleSize: 64,
      callback(this: Scale, value: string | number) {
        return clipLabel(this.getLabelForValue(Number(value)));
      },
    });
    const axis = (which: 'x' | 'y', title: string, count: number) => ({
      type: 'category' as const,
      offset: true,
      reverse: false,
      min: 0,
      max: Math.max(0, count - 1),
      grid: { display: false },
      border: { color: theme.grid },
      ticks: layerTicks(which),
      title: { display: true, text: title, color: theme.foreground, font: themedFont(theme) },
    });
    const layersA = this.layersA;
    const layersB = this.layersB;
    const modelA = this.modelA;
    const modelB = this.modelB;
    // Read at hover time: the options are rebuilt only when the layout changes.
    const cellLines = (row: number, column: number) => this.cellLines(row, column);
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'heatmapCell', intersect: true },
      layout: { padding: 4 },
      onClick: (_event, elements) => {
        const index = elements[0]?.index;
        if (index !== undefined && layersB.length > 0) this.select({ row: Math.floor(index / layersB.length), column: index % layersB.length });
      },
      scales: {
        x: axis('x', `${modelB} (B)`, layersB.length),
        y: axis('y', `${modelA} (A)`, layersA.length),
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          ...themedTooltip(theme),
          displayColors: false,
          callbacks: {
            title(items: TooltipItem<'repsimHeatmap'>[]) {
              const cell = items[0]?.raw as HeatmapPoint | undefined;
              return cell === undefined ? '' : [`A ${modelA}: ${layersA[cell.y]}`, `B ${modelB}: ${layersB[cell.x]}`];
            },
            label(item: TooltipItem<'repsimHeatmap'>) {
              const cell = item.raw as HeatmapPoint;
              return cellLines(cell.y, cell.x);
            },
          },
        },
      },
    };
  }

  /** What a cell's tooltip says: raw CKA ± standard error, then the permutation test when one ran. */
  private cellLines(row: number, column: number): string[] {
    const value = this.matrix[row]?.[column] ?? null;
    const lines = [`CKA ${formatCell(value, this.stderr[row]?.[column] ?? null)}`];
    if (this.significance !== undefined && value !== null) lines.push(...describeSignificance(this.significance, row, column));
    return lines;
  }

  private select(cell: GridCell): void {
    this.dispatchEvent(new CustomEvent('repsim-cell-select', { detail: cell, bubbles: true, composed: true }) satisfies CellSelectEvent);
  }

  /** Arrow keys (Home/End: ends of the row) move a cursor over the cells with its tooltip; Enter or Space selects it; Escape closes the selected cell's detail (`repsim-cell-close`). */
  private onKeyDown(event: KeyboardEvent): void {
    const rows = this.layersA.length;
    const columns = this.layersB.length;
    if (rows === 0 || columns === 0) return;
    const at = this.cursor ?? this.selectedCell ?? { row: 0, column: 0 };
    const moves: Record<string, GridCell> = {
      ArrowUp: { row: at.row - 1, column: at.column },
      ArrowDown: { row: at.row + 1, column: at.column },
      ArrowLeft: { row: at.row, column: at.column - 1 },
      ArrowRight: { row: at.row, column: at.column + 1 },
      Home: { row: at.row, column: 0 },
      End: { row: at.row, column: columns - 1 },
    };
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.moveCursor(at);
      this.select(this.cursor ?? at);
    } else if (event.key === 'Escape') {
      this.dispatchEvent(new CustomEvent('repsim-cell-close', { bubbles: true, composed: true }));
    } else if (event.key in moves) {
      event.preventDefault();
      this.moveCursor(moves[event.key]);
    }
  }

  /** Shows the cell under the keyboard cursor as hovered, with its tooltip, and says it for screen readers. */
  private moveCursor(target: GridCell): void {
    const chart = this.chartInstance;
    const rows = this.layersA.length;
    const columns = this.layersB.length;
    if (chart === undefined) return;
    const cell = { row: Math.min(rows - 1, Math.max(0, target.row)), column: Math.min(columns - 1, Math.max(0, target.column)) };
    this.cursor = cell;
    const index = cell.row * columns + cell.column;
    const element = chart.getDatasetMeta(0).data[index];
    if (element !== undefined) {
      const rect = cellRect(chart, cell.row, cell.column);
      Object.assign(element, rect);
      const active = [{ datasetIndex: 0, index }];
      chart.setActiveElements(active);
      chart.tooltip?.setActiveElements(active, { x: rect.x + rect.width / 2, y: rect.y + rect.height / 2 });
      chart.update('none');
    }
    this.cursorText = `A ${this.layersA[cell.row]}, B ${this.layersB[cell.column]}: ${this.cellLines(cell.row, cell.column).join(', ')}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-heatmap': RepsimHeatmap;
  }
}
