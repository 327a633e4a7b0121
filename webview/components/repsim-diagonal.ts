/** "Corresponding layers": CKA of layer i of A with layer i of B, for two models of one architecture. */
import { html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { themedAxis, baseChartOptions, themedLegend, themedTooltip } from '../charts/themedOptions.js';
import { layerAxis, lineDataset, toY } from '../charts/seriesOptions.js';
import { formatCell } from '../format.js';
import type { ChartSpec } from './repsim-chart.js';
import './repsim-chart.js';
import { baseStyles } from './styles.js';

@customElement('repsim-diagonal')
export class RepsimDiagonal extends LitElement {
  static override styles = [baseStyles];

  @property({ attribute: false }) layers: readonly string[] = [];
  @property({ attribute: false }) values: readonly (number | null)[] = [];
  @property({ attribute: false }) stderr: readonly (number | null)[] = [];
  @property() modelA = 'A';
  @property() modelB = 'B';

  @state() private spec?: ChartSpec;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('layers') && !changed.has('values') && !changed.has('stderr') && !changed.has('modelA') && !changed.has('modelB')) return;
    const { layers, values, stderr } = this;
    const label = `${this.modelA} vs ${this.modelB}`;
    this.spec = (theme) => ({
      type: 'line',
      data: { labels: [...layers], datasets: [lineDataset(theme, label, values.map(toY), 0)] },
      options: {
        ...baseChartOptions(theme),
        interaction: { mode: 'index', intersect: false },
        scales: { x: layerAxis(theme, 'layer'), y: { ...themedAxis(theme, 'CKA'), suggestedMin: 0, suggestedMax: 1 } },
        plugins: {
          legend: { display: false, ...themedLegend(theme) },
          tooltip: { ...themedTooltip(theme), callbacks: { label: (item) => `CKA ${formatCell(values[item.dataIndex] ?? null, stderr[item.dataIndex] ?? null)}` } },
        },
      },
    });
  }

  override render() {
    return html`<repsim-chart label="CKA of corresponding layers" .spec=${this.spec}></repsim-chart>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-diagonal': RepsimDiagonal;
  }
}
