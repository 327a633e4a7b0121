/**
 * The same comparison under different CKA estimators (biased, debiased, minibatch), side by side:
 * a small heatmap per estimator on one shared colour scale, their mean CKA, and, for models with
 * the same layers, the corresponding layers' CKA per estimator on one plot, so the biased
 * estimator's inflation shows.
 */
import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, queryAll, state } from 'lit/decorators.js';
import type { ComparisonResult, Matrix } from '../../src/protocol/results.js';
import { CellBitmap } from '../charts/cellBitmap.js';
import { ckaDomain, type ScaleDomain } from '../charts/colorScale.js';
import { layerAxis, lineDataset, toY } from '../charts/seriesOptions.js';
import { baseChartOptions, themedAxis, themedLegend, themedTooltip } from '../charts/themedOptions.js';
import { formatNumber } from '../format.js';
import { diagonal, hasCorrespondingLayers } from '../state/comparisons.js';
import type { ChartSpec } from './repsim-chart.js';
import './repsim-chart.js';
import './repsim-color-legend.js';
import { baseStyles } from './styles.js';

/** Mean of a matrix's defined cells. */
export function matrixMean(matrix: Matrix): number | null {
  let sum = 0;
  let count = 0;
  for (const row of matrix) for (const v of row) if (v !== null && Number.isFinite(v)) (sum += v), count++;
  return count ? sum / count : null;
}

@customElement('repsim-estimators')
export class RepsimEstimators extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 1em;
      }
      figure {
        margin: 0;
        width: 12em;
      }
      figure.current .estimator {
        font-weight: 600;
      }
      canvas {
        display: block;
        width: 100%;
        aspect-ratio: 1 / 1;
        image-rendering: pixelated;
        border: 1px solid var(--vscode-widget-border, rgba(128, 128, 128, 0.35));
        background-color: var(--vscode-editor-background);
        background-image: repeating-linear-gradient(-45deg, transparent 0 3px, var(--vscode-descriptionForeground) 3px 4.5px);
      }
      figcaption {
        margin-top: 0.25em;
        font-variant-numeric: tabular-nums;
      }
      repsim-chart {
        margin-top: 0.75em;
      }
    `,
  ];

  /** The comparisons, one per estimator (see estimatorSiblings). */
  @property({ attribute: false }) comparisons: readonly ComparisonResult[] = [];
  /** Name of the comparison shown above (highlighted). */
  @property() current = '';

  @state() private diagonalSpec?: ChartSpec;
  @queryAll('canvas') private canvases!: NodeListOf<HTMLCanvasElement>;
  private domain: ScaleDomain = { min: 0, max: 1 };
  private readonly bitmap = new CellBitmap();

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('comparisons')) return;
    this.domain = ckaDomain(this.comparisons.flatMap((c) => c.matrix));
    const first = this.comparisons[0];
    if (first === undefined || !hasCorrespondingLayers(first)) {
      this.diagonalSpec = undefined;
      return;
    }
    const series = this.comparisons.map((c) => ({ label: c.settings.estimator, values: diagonal(c).values }));
    const layers = first.layersA;
    this.diagonalSpec = (theme) => ({
      type: 'line',
      data: { labels: [...layers], datasets: series.map((s, k) => lineDataset(theme, s.label, s.values.map(toY), k)) },
      options: {
        ...baseChartOptions(theme),
        interaction: { mode: 'index', intersect: false },
        scales: { x: layerAxis(theme, 'layer'), y: { ...themedAxis(theme, 'CKA of corresponding layers'), suggestedMin: 0, suggestedMax: 1 } },
        plugins: {
          legend: themedLegend(theme),
          tooltip: { ...themedTooltip(theme), callbacks: { label: (item) => `${item.dataset.label}: ${item.parsed.y !== null && Number.isFinite(item.parsed.y) ? formatNumber(item.parsed.y) : 'undefined'}` } },
        },
      },
    });
  }

  protected override updated(): void {
    this.canvases.forEach((canvas, k) => {
      const comparison = this.comparisons[k];
      if (comparison === undefined) return;
      const columns = comparison.layersB.length;
      this.bitmap.paint(comparison.matrix, columns, this.domain);
      canvas.width = Math.max(1, columns);
      canvas.height = Math.max(1, comparison.layersA.length);
      const context = canvas.getContext('2d');
      context?.clearRect(0, 0, canvas.width, canvas.height);
      if (this.bitmap.columns > 0) context?.drawImage(this.bitmap.canvas, 0, 0);
    });
  }

  override render() {
    return html`
      <p class="muted">The same models and layers under each CKA estimator, on one colour scale: the biased estimator is pulled towards 1 when layers have many features compared with the examples.</p>
      <div class="row">
        ${this.comparisons.map((c) => {
          const mean = matrixMean(c.matrix);
          return html`<figure class=${c.name === this.current ? 'current' : ''} data-estimator=${c.settings.estimator}>
            <canvas role="img" aria-label="${c.settings.estimator} CKA heatmap of ${c.name}${mean === null ? '' : `, mean ${formatNumber(mean)}`}"></canvas>
            <figcaption><span class="estimator">${c.settings.estimator}</span><span class="muted">${mean === null ? '' : ` · mean ${formatNumber(mean)}`}</span></figcaption>
          </figure>`;
        })}
      </div>
      <repsim-color-legend .min=${this.domain.min} .max=${this.domain.max}></repsim-color-legend>
      ${this.diagonalSpec ? html`<repsim-chart label="CKA of corresponding layers per estimator" .spec=${this.diagonalSpec}></repsim-chart>` : ''}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-estimators': RepsimEstimators;
  }
}
