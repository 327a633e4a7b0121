/**
 * Training curves: loss and accuracy per epoch for every trained model, train (solid, with
 * per-batch points while an epoch runs) and test (dashed, at epoch ends).
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { TrainingMetrics } from '../../src/protocol/results.js';
import { fractionAxis, lineDataset, type XY } from '../charts/seriesOptions.js';
import { baseChartOptions, themedAxis, themedLegend, themedTooltip } from '../charts/themedOptions.js';
import { formatNumber } from '../format.js';
import type { ThemeColors } from '../theme/colors.js';
import type { ChartSpec } from './repsim-chart.js';
import './repsim-chart.js';
import { baseStyles } from './styles.js';

type Metric = 'loss' | 'accuracy';
type Curves = { model: string; train: XY[]; test: XY[] }[];

/** x = epochs done: a per-batch point's fractional position, an epoch end's count. */
export function trainingCurves(training: Readonly<Record<string, readonly TrainingMetrics[]>>, metric: Metric): Curves {
  const testKey = metric === 'loss' ? 'testLoss' : 'testAccuracy';
  return Object.entries(training)
    .filter(([, points]) => points.length > 0)
    .map(([model, points]) => {
      const sorted = [...points].sort((p, q) => p.epoch - q.epoch);
      return {
        model,
        train: sorted.map((p) => ({ x: p.epoch, y: p[metric] })),
        test: sorted.filter((p) => p.batch === undefined && p[testKey] !== undefined).map((p) => ({ x: p.epoch, y: p[testKey] as number })),
      };
    });
}

function curvesSpec(curves: Curves, metric: Metric): ChartSpec {
  return (theme: ThemeColors) => ({
    type: 'line',
    data: {
      datasets: curves.flatMap((c, i) => [
        { ...lineDataset(theme, `${c.model} train`, c.train, i), pointRadius: 0 },
        ...(c.test.length > 0 ? [lineDataset(theme, `${c.model} test`, c.test, i, true)] : []),
      ]),
    },
    options: {
      ...baseChartOptions(theme),
      scales: {
        x: { ...themedAxis(theme, 'epoch'), type: 'linear', min: 0 },
        y: metric === 'accuracy' ? { ...fractionAxis(theme, 'accuracy'), max: 1 } : { ...themedAxis(theme, 'loss'), beginAtZero: true },
      },
      plugins: {
        legend: themedLegend(theme),
        tooltip: {
          ...themedTooltip(theme),
          callbacks: {
            title: (items) => `epoch ${formatNumber(items[0]?.parsed.x ?? 0, 2)}`,
            label: (item) => `${item.dataset.label}: ${metric === 'accuracy' ? `${((item.parsed.y ?? 0) * 100).toFixed(1)}%` : formatNumber(item.parsed.y ?? 0)}`,
          },
        },
      },
    },
  });
}

@customElement('repsim-training-curves')
export class RepsimTrainingCurves extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .pair {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(280px, 1fr));
        gap: 1em;
      }
    `,
  ];

  @property({ attribute: false }) training: Readonly<Record<string, readonly TrainingMetrics[]>> = {};

  @state() private lossSpec?: ChartSpec;
  @state() private accuracySpec?: ChartSpec;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('training')) return;
    this.lossSpec = curvesSpec(trainingCurves(this.training, 'loss'), 'loss');
    this.accuracySpec = curvesSpec(trainingCurves(this.training, 'accuracy'), 'accuracy');
  }

  override render() {
    if (!Object.values(this.training).some((points) => points.length > 0)) return nothing;
    return html`
      <div class="pair">
        <div><h3>Loss</h3><repsim-chart label="Training and test loss per epoch" .spec=${this.lossSpec}></repsim-chart></div>
        <div><h3>Accuracy</h3><repsim-chart label="Training and test accuracy per epoch" .spec=${this.accuracySpec}></repsim-chart></div>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-training-curves': RepsimTrainingCurves;
  }
}
