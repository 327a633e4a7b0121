/**
 * A chart.js line or bar chart that updates in place: a new `spec` replaces the data and
 * options of the same Chart instance (`update('none')`, no animation), and theme switches
 * rebuild the options with the new colours.
 */
import { Chart, type ChartConfiguration } from 'chart.js';
import { html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { registerCharts } from '../charts/register.js';
import type { ThemeColors } from '../theme/colors.js';
import { ThemeController } from '../theme/themeController.js';
import { baseStyles, plotStyles } from './styles.js';

export type ChartKind = 'line' | 'bar';
/** Builds a chart's configuration for the current theme. */
export type ChartSpec = (theme: ThemeColors) => ChartConfiguration<ChartKind>;

registerCharts();

@customElement('repsim-chart')
export class RepsimChart extends LitElement {
  static override styles = [baseStyles, plotStyles];

  @property({ attribute: false }) spec?: ChartSpec;
  /** Accessible name of the canvas. */
  @property() label = '';
  @property({ type: Boolean }) tall = false;
  /** A small chart (160 px high), e.g. in the cell detail. */
  @property({ type: Boolean }) compact = false;

  @query('canvas') private canvas!: HTMLCanvasElement;
  private chartInstance: Chart<ChartKind> | undefined;
  private readonly theme = new ThemeController(this, () => this.refresh());

  get chart(): Chart<ChartKind> | undefined {
    return this.chartInstance;
  }

  override render() {
    return html`<div class="plot ${this.tall ? 'tall' : ''} ${this.compact ? 'compact' : ''}"><canvas role="img" aria-label=${this.label}></canvas></div>`;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('spec')) this.refresh();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Reattached after a move in the DOM: the chart was destroyed on disconnect.
    if (this.hasUpdated && this.chartInstance === undefined) this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.chartInstance?.destroy();
    this.chartInstance = undefined;
  }

  private refresh(): void {
    if (!this.hasUpdated || !this.isConnected) return;
    if (this.spec === undefined) {
      this.chartInstance?.destroy();
      this.chartInstance = undefined;
      return;
    }
    const config = this.spec(this.theme.theme);
    const chart = this.chartInstance;
    if (chart !== undefined && (chart.config as { type?: string }).type === config.type) {
      chart.data = config.data;
      if (config.options) chart.options = config.options;
      chart.update('none');
      return;
    }
    chart?.destroy();
    this.chartInstance = new Chart(this.canvas, config);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-chart': RepsimChart;
  }
}
