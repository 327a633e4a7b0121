/** First-PC variance per layer: the fraction of a layer's variance along its first principal component, both models. */
import { html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { baseChartOptions, themedAxis, themedLegend, themedTooltip } from '../charts/themedOptions.js';
import { fractionAxis, lineDataset, toY, type XY } from '../charts/seriesOptions.js';
import { clipLabel, formatPercent } from '../format.js';
import type { ChartSpec } from './repsim-chart.js';
import './repsim-chart.js';
import { baseStyles } from './styles.js';

@customElement('repsim-first-pc')
export class RepsimFirstPc extends LitElement {
  static override styles = [baseStyles];

  @property({ attribute: false }) layersA: readonly string[] = [];
  @property({ attribute: false }) layersB: readonly string[] = [];
  @property({ attribute: false }) firstPc?: { readonly a: readonly (number | null)[]; readonly b: readonly (number | null)[] };
  @property() modelA = 'A';
  @property() modelB = 'B';

  @state() private spec?: ChartSpec;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('firstPc') && !changed.has('layersA') && !changed.has('layersB') && !changed.has('modelA') && !changed.has('modelB')) return;
    const firstPc = this.firstPc;
    if (firstPc === undefined) {
      this.spec = undefined;
      return;
    }
    const layers = [this.layersA, this.layersB];
    const points = (values: readonly (number | null)[]): XY[] => values.map((v, i) => ({ x: i, y: toY(v) }));
    const sameLayers = this.layersA.length === this.layersB.length && this.layersA.every((n, i) => n === this.layersB[i]);
    const modelA = `A ${this.modelA}`;
    const modelB = `B ${this.modelB}`;
    this.spec = (theme) => {
      const x = themedAxis(theme, sameLayers ? 'layer' : 'layer index (input → output)');
      return {
        type: 'line',
        data: { datasets: [lineDataset(theme, modelA, points(firstPc.a), 0), lineDataset(theme, modelB, points(firstPc.b), 1)] },
        options: {
          ...baseChartOptions(theme),
          scales: {
            x: {
              ...x,
              type: 'linear',
              ticks: { ...x.ticks, stepSize: 1, callback: (value) => (sameLayers ? clipLabel(layers[0][Number(value)] ?? '', 18) : String(value)) },
            },
            y: fractionAxis(theme, 'variance in first PC'),
          },
          plugins: {
            legend: themedLegend(theme),
            tooltip: {
              ...themedTooltip(theme),
              callbacks: {
                title: (items) => items.map((item) => layers[item.datasetIndex]?.[item.dataIndex] ?? '').filter((name, i, all) => all.indexOf(name) === i),
                label: (item) => `${item.dataset.label}: ${formatPercent(item.parsed.y)}`,
              },
            },
          },
        },
      };
    };
  }

  override render() {
    return html`<repsim-chart label="Variance along the first principal component, per layer" .spec=${this.spec}></repsim-chart>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-first-pc': RepsimFirstPc;
  }
}
