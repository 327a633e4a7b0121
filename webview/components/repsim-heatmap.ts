/**
 * The CKA heatmap: layers of model A down the side (row i = layer i of A), layers of model B
 * across, a colour key, tooltips with both layer names and the value ± its standard error.
 * It keeps one Chart instance and updates it in place on every batch (see heatmapChart.ts for
 * how 350 × 350 layers stay fast).
 */
import { Chart, type ChartConfiguration, type Scale, type TooltipItem } from 'chart.js';
import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import type { Matrix } from '../../src/protocol/results.js';
import { CellBitmap } from '../charts/cellBitmap.js';
import { ckaDomain, type ScaleDomain } from '../charts/colorScale.js';
import { cellsPlugin, type HeatmapPoint } from '../charts/heatmapChart.js';
import { registerCharts } from '../charts/register.js';
import { themedAxis, themedFont, themedTooltip } from '../charts/themedOptions.js';
import { clipLabel, formatCell } from '../format.js';
import type { ThemeColors } from '../theme/colors.js';
import { ThemeController } from '../theme/themeController.js';
import './repsim-color-legend.js';
import { baseStyles } from './styles.js';

registerCharts();

type HeatmapChart = Chart<'repsimHeatmap', HeatmapPoint[], string>;
type MutablePoint = { -readonly [K in keyof HeatmapPoint]: HeatmapPoint[K] };

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

  /** The heatmap as a PNG data URL. */
  toPng(): string | undefined {
    return this.chartInstance?.toBase64Image('image/png', 1);
  }

  override render() {
    return html`
      <div class="plot">
        <canvas role="img" aria-label="CKA between layers of ${this.modelA} (rows) and ${this.modelB} (columns)"></canvas>
      </div>
      <repsim-color-legend .min=${this.domain.min} .max=${this.domain.max}></repsim-color-legend>
    `;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('matrix')) this.domain = ckaDomain(this.matrix);
  }

  protected override updated(changed: PropertyValues<this>): void {
    const layout = changed.has('layersA') || changed.has('layersB') || changed.has('modelA') || changed.has('modelB');
    if (this.chartInstance === undefined || layout || changed.has('matrix') || changed.has('stderr')) this.refreshData(layout);
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
    const shapeOk = this.matrix.length === rows && this.matrix.every((row) => row.length === columns);
    const matrix = shapeOk ? this.matrix : [];
    this.bitmap.paint(matrix, columns, this.domain);
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
      plugins: [cellsPlugin(this.bitmap, () => this.theme.theme)],
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
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'heatmapCell', intersect: true },
      layout: { padding: 4 },
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
              return `CKA ${formatCell(cell.v, cell.e)}`;
            },
          },
        },
      },
    };
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-heatmap': RepsimHeatmap;
  }
}
