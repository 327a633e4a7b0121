/**
 * Subspace match (Wang et al. 2018): s(ε) for each layer pair (one line per ε), and a histogram
 * of simple-match sizes (how many neurons each smallest matching group has) per ε, over all
 * pairs or the one picked.
 */
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { css, html, LitElement, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { SubspaceMatchPairResult } from '../../src/protocol/results.js';
import { barDataset, fractionAxis, layerAxis, lineDataset } from '../charts/seriesOptions.js';
import { baseChartOptions, themedAxis, themedLegend, themedTooltip } from '../charts/themedOptions.js';
import { formatPercent } from '../format.js';
import type { ChartSpec } from './repsim-chart.js';
import './repsim-chart.js';
import { baseStyles } from './styles.js';

const ALL_PAIRS = 'all';

export function pairLabel(pair: Pick<SubspaceMatchPairResult, 'layerA' | 'layerB'>): string {
  return pair.layerA === pair.layerB ? pair.layerA : `${pair.layerA} ↔ ${pair.layerB}`;
}

/** Every ε that occurs, ascending. */
function epsilons(pairs: readonly SubspaceMatchPairResult[]): number[] {
  return [...new Set(pairs.flatMap((p) => p.results.map((r) => r.epsilon)))].sort((x, y) => x - y);
}

/** counts[e][s - 1] = simple matches of size s at the e-th ε, over `pairs`. */
export function simpleMatchHistogram(pairs: readonly SubspaceMatchPairResult[], eps: readonly number[]): { sizes: number[]; counts: number[][] } {
  const largest = Math.max(0, ...pairs.flatMap((p) => p.results.flatMap((r) => r.simpleMatchSizes)));
  const counts = eps.map(() => new Array<number>(largest).fill(0));
  for (const pair of pairs) {
    for (const result of pair.results) {
      const row = counts[eps.indexOf(result.epsilon)];
      for (const size of result.simpleMatchSizes) if (size >= 1) row[size - 1]++;
    }
  }
  return { sizes: Array.from({ length: largest }, (_, i) => i + 1), counts };
}

@customElement('repsim-subspace-match')
export class RepsimSubspaceMatch extends LitElement {
  static override styles = [
    baseStyles,
    css`
      .picker {
        display: flex;
        align-items: center;
        gap: 0.5em;
        margin: 0.75em 0 0.25em;
      }
    `,
  ];

  @property({ attribute: false }) pairs: readonly SubspaceMatchPairResult[] = [];

  @state() private histogramPair = ALL_PAIRS;
  @state() private similaritySpec?: ChartSpec;
  @state() private histogramSpec?: ChartSpec;

  protected override willUpdate(changed: PropertyValues): void {
    if (changed.has('pairs')) {
      if (this.histogramPair !== ALL_PAIRS && !this.pairs.some((p) => pairLabel(p) === this.histogramPair)) this.histogramPair = ALL_PAIRS;
      this.similaritySpec = this.similarityChart();
    }
    if (changed.has('pairs') || changed.has('histogramPair')) this.histogramSpec = this.histogramChart();
  }

  private similarityChart(): ChartSpec {
    const pairs = this.pairs;
    const eps = epsilons(pairs);
    return (theme) => ({
      type: 'line',
      data: {
        labels: pairs.map(pairLabel),
        datasets: eps.map((epsilon, k) => lineDataset(theme, `ε = ${epsilon}`, pairs.map((p) => p.results.find((r) => r.epsilon === epsilon)?.similarity ?? Number.NaN), k)),
      },
      options: {
        ...baseChartOptions(theme),
        interaction: { mode: 'index', intersect: false },
        scales: { x: layerAxis(theme, 'layer pair'), y: fractionAxis(theme, 's(ε)') },
        plugins: { legend: themedLegend(theme), tooltip: { ...themedTooltip(theme), callbacks: { label: (item) => `${item.dataset.label}: s = ${formatPercent(item.parsed.y)}` } } },
      },
    });
  }

  private histogramChart(): ChartSpec {
    const picked = this.pairs.filter((p) => this.histogramPair === ALL_PAIRS || pairLabel(p) === this.histogramPair);
    const eps = epsilons(this.pairs);
    const { sizes, counts } = simpleMatchHistogram(picked, eps);
    return (theme) => ({
      type: 'bar',
      data: { labels: sizes.map(String), datasets: eps.map((epsilon, k) => barDataset(theme, `ε = ${epsilon}`, counts[k], k)) },
      options: {
        ...baseChartOptions(theme),
        interaction: { mode: 'index', intersect: false },
        scales: { x: { ...themedAxis(theme, 'simple match size (neurons per side)'), type: 'category' }, y: { ...themedAxis(theme, 'simple matches'), beginAtZero: true, ticks: { ...themedAxis(theme).ticks, precision: 0 } } },
        plugins: { legend: themedLegend(theme), tooltip: themedTooltip(theme) },
      },
    });
  }

  override render() {
    return html`
      <repsim-chart label="Subspace match similarity per layer pair" .spec=${this.similaritySpec}></repsim-chart>
      <div class="picker">
        <span>Simple-match sizes for</span>
        <vscode-single-select aria-label="Layer pair for the histogram" @change=${this.pickPair}>
          <vscode-option value=${ALL_PAIRS} ?selected=${this.histogramPair === ALL_PAIRS}>all pairs</vscode-option>
          ${this.pairs.map((p) => html`<vscode-option value=${pairLabel(p)} ?selected=${this.histogramPair === pairLabel(p)}>${pairLabel(p)}</vscode-option>`)}
        </vscode-single-select>
      </div>
      <repsim-chart label="Histogram of simple match sizes" .spec=${this.histogramSpec}></repsim-chart>
    `;
  }

  private pickPair(event: Event): void {
    this.histogramPair = (event.target as HTMLSelectElement).value;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-subspace-match': RepsimSubspaceMatch;
  }
}
