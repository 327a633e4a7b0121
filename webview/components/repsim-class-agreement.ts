/** Per-class agreement: for each class, how often the two models predict the same, and each one's accuracy. */
import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ClassAgreementResult } from '../../src/protocol/results.js';
import { barDataset, fractionAxis } from '../charts/seriesOptions.js';
import { baseChartOptions, themedAxis, themedLegend, themedTooltip } from '../charts/themedOptions.js';
import { formatPercent } from '../format.js';
import type { ChartSpec } from './repsim-chart.js';
import './repsim-chart.js';
import { baseStyles } from './styles.js';

@customElement('repsim-class-agreement')
export class RepsimClassAgreement extends LitElement {
  static override styles = [
    baseStyles,
    css`
      p {
        margin: 0 0 0.5em;
      }
    `,
  ];

  @property({ attribute: false }) agreement?: { readonly agreement: number; readonly perClass: readonly ClassAgreementResult[] };
  @property() modelA = 'A';
  @property() modelB = 'B';

  @state() private spec?: ChartSpec;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('agreement') && !changed.has('modelA') && !changed.has('modelB')) return;
    const perClass = this.agreement?.perClass ?? [];
    const labels = perClass.map((c) => c.name ?? String(c.label));
    const series = [
      { label: 'agreement', values: perClass.map((c) => c.agreement), color: 2 },
      { label: `accuracy ${this.modelA}`, values: perClass.map((c) => c.accuracyA), color: 0 },
      { label: `accuracy ${this.modelB}`, values: perClass.map((c) => c.accuracyB), color: 1 },
    ];
    this.spec = (theme) => ({
      type: 'bar',
      data: { labels, datasets: series.map((s) => barDataset(theme, s.label, s.values, s.color)) },
      options: {
        ...baseChartOptions(theme),
        interaction: { mode: 'index', intersect: false },
        scales: { x: { ...themedAxis(theme, 'class'), type: 'category' }, y: fractionAxis(theme, 'fraction of test examples') },
        plugins: {
          legend: themedLegend(theme),
          tooltip: {
            ...themedTooltip(theme),
            callbacks: {
              title: (items) => {
                const c = perClass[items[0]?.dataIndex ?? -1];
                return c ? `${c.name ?? `class ${c.label}`} (${c.examples} examples)` : '';
              },
              label: (item) => `${item.dataset.label}: ${formatPercent(item.parsed.y)}`,
            },
          },
        },
      },
    });
  }

  override render() {
    if (this.agreement === undefined) return html``;
    return html`
      <p>The two models predict the same class for <strong>${formatPercent(this.agreement.agreement)}</strong> of the test examples.</p>
      <repsim-chart label="Prediction agreement and accuracy per class" .spec=${this.spec}></repsim-chart>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-class-agreement': RepsimClassAgreement;
  }
}
