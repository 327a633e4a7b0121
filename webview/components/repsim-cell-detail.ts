/**
 * The drill-down of one heatmap cell, beside the heatmap: both layers, CKA ± standard error, the
 * permutation test (p-value, null mean and std, and where the observed value falls against the
 * null), a histogram of the per-batch values, the examples contributing most and least (as
 * thumbnails when the host draws them), and "Recompute without top N", which asks the host for
 * the cell's value without those examples. Close button and Escape dispatch `repsim-cell-close`.
 * In the HTML report there is no host: what needs one is shown disabled, with the reason.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ExampleContribution, PermutationTest } from '../../src/protocol/results.js';
import type { RecomputeCellRequest } from '../../src/protocol/webview.js';
import type { GridCell } from '../charts/heatmapChart.js';
import { histogram } from '../charts/histogram.js';
import { barDataset } from '../charts/seriesOptions.js';
import { baseChartOptions, themedAxis, themedTooltip } from '../charts/themedOptions.js';
import { formatCell, formatNumber, formatPValue } from '../format.js';
import { CellRequests, type RecomputeStatus } from '../state/cellRequests.js';
import type { ComparisonView } from '../state/comparisons.js';
import type { ChartSpec } from './repsim-chart.js';
import './repsim-chart.js';
import './repsim-example-list.js';
import './repsim-null-position.js';
import { baseStyles } from './styles.js';

/** How many of the top and of the bottom examples are listed (together at most 16, the thumbnails asked for). */
const EXAMPLES_SHOWN = 8;
/** Choices for "Recompute without top N". */
const TOP_N_CHOICES = [1, 5, 10] as const;

const NO_HOST = 'Needs the RepSim extension: this HTML report is static';

@customElement('repsim-cell-detail')
export class RepsimCellDetail extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        padding: 0.5em 0.75em 0.75em;
        border: 1px solid var(--vscode-panel-border, var(--vscode-widget-border, rgba(128, 128, 128, 0.35)));
        background: var(--vscode-sideBar-background, transparent);
      }
      header {
        display: flex;
        align-items: flex-start;
        gap: 0.5em;
      }
      header h3 {
        flex: 1;
        margin: 0.25em 0;
        overflow-wrap: anywhere;
      }
      h4 {
        font-size: 0.95em;
        font-weight: 600;
        margin: 0.9em 0 0.3em;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.15em 0.75em;
        margin: 0.5em 0;
        font-variant-numeric: tabular-nums;
      }
      dt {
        color: var(--vscode-descriptionForeground);
      }
      dd {
        margin: 0;
      }
      p {
        margin: 0.25em 0;
      }
      .recompute {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5em;
        margin-top: 0.5em;
      }
      .recompute vscode-single-select {
        width: 5em;
      }
      .error {
        color: var(--vscode-errorForeground);
      }
    `,
  ];

  @property({ attribute: false }) view?: ComparisonView;
  @property({ attribute: false }) cell?: GridCell;
  @property() runId = '';

  @state() private topN: number = 5;
  @state() private perBatchSpec?: ChartSpec;
  private readonly requests = new CellRequests(this);

  /** Whether recompute and thumbnails can be asked for (the live panel). */
  get hostAvailable(): boolean {
    return this.requests.available;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.addEventListener('keydown', this.onKeyDown);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.removeEventListener('keydown', this.onKeyDown);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('runId')) this.requests.forRun(this.runId);
    if (changed.has('view') || changed.has('cell')) this.perBatchSpec = this.perBatchChart();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('view') || changed.has('cell') || changed.has('runId')) this.askForThumbnails();
  }

  override render() {
    const { view, cell } = this;
    if (view === undefined || cell === undefined || cell.row >= view.layersA.length || cell.column >= view.layersB.length) return nothing;
    const { row, column } = cell;
    const layerA = view.layersA[row];
    const layerB = view.layersB[column];
    const value = view.matrix[row]?.[column] ?? null;
    const test = view.significance;
    const nullMean = test?.nullMean[row]?.[column] ?? null;
    const nullStd = test?.nullStd[row]?.[column] ?? null;
    return html`
      <section aria-label="Detail of the cell ${layerA} × ${layerB}">
        <header>
          <h3>${layerA} × ${layerB}</h3>
          <vscode-button class="close" secondary icon="close" aria-label="Close the cell detail" title="Close (Escape)" @click=${this.close}></vscode-button>
        </header>
        <p class="muted">row: ${layerA} of ${view.a} (A) · column: ${layerB} of ${view.b} (B)</p>
        <dl>
          <dt>CKA</dt>
          <dd class="value">${formatCell(value, view.stderr[row]?.[column] ?? null)}</dd>
          ${test && value !== null ? this.renderTest(test, row, column) : nothing}
        </dl>
        ${test && value !== null && nullMean !== null ? html`<repsim-null-position .observed=${value} .nullMean=${nullMean} .nullStd=${nullStd ?? 0}></repsim-null-position>` : nothing}
        ${this.renderPerBatch()} ${this.renderContributions()}
      </section>
    `;
  }

  /** The permutation test's numbers as definition-list rows. */
  private renderTest(test: PermutationTest, row: number, column: number) {
    const p = test.pValue[row]?.[column] ?? null;
    if (p === null) return html`<dt>p-value</dt><dd class="p-value">not tested</dd>`;
    const mean = test.nullMean[row]?.[column] ?? null;
    const calibrated = test.calibrated[row]?.[column] ?? null;
    return html`
      <dt>p-value</dt>
      <dd class="p-value" title=${test.method}>${formatPValue(p, test.permutations)}</dd>
      ${mean === null ? nothing : html`<dt>null</dt><dd class="null">${formatCell(mean, test.nullStd[row]?.[column] ?? null)} (${test.permutations} permutations)</dd>`}
      ${calibrated === null ? nothing : html`<dt>calibrated</dt><dd class="calibrated">${formatNumber(calibrated)}</dd>`}
    `;
  }

  private renderPerBatch() {
    const values = this.cellDetails()?.perBatch;
    if (values === undefined) return nothing;
    const finite = values.filter((v): v is number => v !== null);
    const mean = finite.length ? finite.reduce((s, v) => s + v, 0) / finite.length : null;
    return html`
      <h4>Per-batch CKA</h4>
      <repsim-chart class="per-batch" compact label="Histogram of the cell's CKA per batch" .spec=${this.perBatchSpec}></repsim-chart>
      <p class="muted">${finite.length} batches${mean === null ? '' : `, mean ${formatNumber(mean)}, range ${formatNumber(Math.min(...finite))} to ${formatNumber(Math.max(...finite))}`}</p>
    `;
  }

  private renderContributions() {
    const view = this.view!;
    const details = view.result?.details;
    if (details === undefined) return nothing;
    const { top, bottom } = this.contributions();
    if (top.length === 0 && bottom.length === 0) return html`<h4>Examples</h4><p class="muted">${details.contributionsMethod}</p>`;
    const thumbnail = (example: number) => this.requests.thumbnail(view.name, example);
    const thumbnailNote = !details.images ? '' : !this.requests.available ? 'Thumbnails need the RepSim extension.' : this.requests.thumbnailError(view.name) ? `No thumbnails: ${this.requests.thumbnailError(view.name)}` : '';
    return html`
      <h4>Contributing most</h4>
      <repsim-example-list class="top" label="Examples contributing most to the cell" .examples=${top.slice(0, EXAMPLES_SHOWN)} .thumbnail=${thumbnail}></repsim-example-list>
      <h4>Contributing least</h4>
      <repsim-example-list class="bottom" label="Examples contributing least to the cell" .examples=${bottom.slice(0, EXAMPLES_SHOWN)} .thumbnail=${thumbnail}></repsim-example-list>
      <p class="muted method" title=${details.contributionsMethod}>Shares are in CKA units; all examples' shares sum to the cell's CKA.</p>
      ${thumbnailNote ? html`<p class="muted thumbnail-note">${thumbnailNote}</p>` : nothing} ${this.renderRecompute(top)}
    `;
  }

  private renderRecompute(top: readonly ExampleContribution[]) {
    const choices = TOP_N_CHOICES.filter((n) => n <= top.length);
    if (choices.length === 0) return nothing;
    const n = choices.includes(this.topN as (typeof TOP_N_CHOICES)[number]) ? this.topN : choices[choices.length - 1];
    const request = this.recomputeRequest(top, n);
    const status = this.requests.recompute(request);
    const available = this.requests.available;
    const pending = status?.pending === true;
    return html`
      <div class="recompute">
        <vscode-single-select aria-label="How many of the top examples to leave out" ?disabled=${!available} @change=${this.pickTopN}>
          ${choices.map((k) => html`<vscode-option value=${String(k)} ?selected=${k === n}>${k}</vscode-option>`)}
        </vscode-single-select>
        <span title=${available ? `Recompute the cell over the same batches without the top ${n} examples` : NO_HOST}>
          <vscode-button class="recompute-button" icon="refresh" ?disabled=${!available || pending} @click=${() => this.requests.requestRecompute(request)}>Recompute without top ${n}</vscode-button>
        </span>
        ${pending ? html`<vscode-progress-ring class="recomputing" aria-label="Recomputing the cell"></vscode-progress-ring>` : nothing}
      </div>
      ${status ? this.renderRecomputed(status, n) : nothing}
    `;
  }

  private renderRecomputed(status: RecomputeStatus, n: number) {
    if (status.pending) return html`<p class="muted recomputed" role="status">Recomputing without the top ${n}…</p>`;
    const error = status.error ?? status.result?.error;
    if (error !== undefined) return html`<p class="error recomputed" role="status">Could not recompute: ${error}</p>`;
    const result = status.result!;
    const observed = this.view!.matrix[this.cell!.row]?.[this.cell!.column] ?? null;
    const change = result.value !== null && observed !== null ? result.value - observed : null;
    return html`<p class="recomputed" role="status">
      Without the top ${n}: <strong>${formatCell(result.value, result.stderr)}</strong>${change === null ? '' : ` (change ${change >= 0 ? '+' : '−'}${formatNumber(Math.abs(change))})`} over
      ${result.examples.toLocaleString('en-US')} examples
    </p>`;
  }

  private cellDetails() {
    const details = this.view?.result?.details;
    const cell = this.cell;
    if (details === undefined || cell === undefined) return undefined;
    return { perBatch: details.perBatch[cell.row]?.[cell.column] };
  }

  private contributions(): { top: readonly ExampleContribution[]; bottom: readonly ExampleContribution[] } {
    const details = this.view?.result?.details;
    const cell = this.cell;
    if (details === undefined || cell === undefined) return { top: [], bottom: [] };
    return { top: details.top?.[cell.row]?.[cell.column] ?? [], bottom: details.bottom?.[cell.row]?.[cell.column] ?? [] };
  }

  private recomputeRequest(top: readonly ExampleContribution[], n: number): RecomputeCellRequest {
    const view = this.view!;
    const cell = this.cell!;
    return { comparison: view.name, layerA: view.layersA[cell.row], layerB: view.layersB[cell.column], exclude: top.slice(0, n).map((c) => c.example) };
  }

  private askForThumbnails(): void {
    const view = this.view;
    if (view?.result?.details?.images !== true || !this.requests.available) return;
    const { top, bottom } = this.contributions();
    this.requests.requestThumbnails(
      view.name,
      [...top.slice(0, EXAMPLES_SHOWN), ...bottom.slice(0, EXAMPLES_SHOWN)].map((c) => c.example),
    );
  }

  private perBatchChart(): ChartSpec | undefined {
    const values = this.cellDetails()?.perBatch;
    if (values === undefined) return undefined;
    const bins = histogram(values);
    return (theme) => ({
      type: 'bar',
      data: { labels: bins.labels, datasets: [{ ...barDataset(theme, 'batches', bins.counts, 0), barPercentage: 1, categoryPercentage: 0.95 }] },
      options: {
        ...baseChartOptions(theme),
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { ...themedAxis(theme, 'CKA of one batch'), type: 'category' },
          y: { ...themedAxis(theme, 'batches'), beginAtZero: true, ticks: { ...themedAxis(theme).ticks, precision: 0 } },
        },
        plugins: { legend: { display: false }, tooltip: { ...themedTooltip(theme), callbacks: { label: (item) => `${item.parsed.y} batches` } } },
      },
    });
  }

  private pickTopN(event: Event): void {
    this.topN = Number((event.target as HTMLSelectElement).value);
  }

  private readonly onKeyDown = (event: KeyboardEvent): void => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      this.close();
    }
  };

  private close(): void {
    this.dispatchEvent(new CustomEvent('repsim-cell-close', { bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-cell-detail': RepsimCellDetail;
  }
}
