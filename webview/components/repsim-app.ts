/**
 * The panel: one run's results. In VS Code it receives HostMessages (validated, then applied
 * with `applyHostMessage`), posts `ready` / `cancel` / `export`, and keeps its state with
 * `vscode.setState` so it survives being hidden and reloads. In the HTML report it draws the
 * embedded snapshot and is static.
 */
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import './repsim-cell-detail.js';
import './repsim-class-agreement.js';
import './repsim-diagonal.js';
import './repsim-estimators.js';
import './repsim-export-bar.js';
import './repsim-figures.js';
import './repsim-first-pc.js';
import './repsim-heatmap.js';
import './repsim-layer-identification.js';
import './repsim-progress.js';
import './repsim-run-header.js';
import './repsim-significance-options.js';
import './repsim-subspace-match.js';
import './repsim-training-curves.js';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { runFinding } from '../../src/protocol/findings.js';
import type { RunSnapshot } from '../../src/protocol/results.js';
import { isHostMessage, type HostMessage } from '../../src/protocol/webview.js';
import { deliverExport } from '../export/deliver.js';
import { exportFileName } from '../export/exportData.js';
import { exportPayload } from '../export/exportPayload.js';
import { connectHost, type HostConnection } from '../host.js';
import { comparisonViews, diagonal, estimatorSiblings, hasCorrespondingLayers, selectedView, type ComparisonView } from '../state/comparisons.js';
import { DEFAULT_HEATMAP_OPTIONS, parsePanelState, STATE_VERSION, ThrottledSaver, type HeatmapOptions, type SelectedCell } from '../state/persistence.js';
import { applyHostMessage } from '../state/runState.js';
import { followSystemColorScheme } from '../theme/reportTheme.js';
import type { ExportRequestEvent } from './repsim-export-bar.js';
import type { CellSelectEvent } from './repsim-heatmap.js';
import type { HeatmapOptionsEvent } from './repsim-significance-options.js';
import { baseStyles } from './styles.js';

/** Messages after which the state is saved at once rather than with the next batched save. */
const SAVE_AT_ONCE = new Set<HostMessage['type']>(['snapshot', 'comparison', 'done', 'failed']);

const diagonalCache = new WeakMap<object, ReturnType<typeof diagonal>>();

@customElement('repsim-app')
export class RepsimApp extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        padding: 0.75em 1.25em 2em;
      }
      section {
        margin-top: 1.25em;
        padding-top: 1em;
        border-top: 1px solid var(--vscode-panel-border, var(--vscode-widget-border, rgba(128, 128, 128, 0.35)));
      }
      repsim-progress {
        margin-top: 0.75em;
      }
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5em 1em;
        margin-bottom: 0.5em;
      }
      .toolbar h2 {
        margin: 0;
      }
      .toolbar repsim-export-bar {
        margin-left: auto;
      }
      .warnings {
        color: var(--vscode-editorWarning-foreground, var(--vscode-foreground));
        margin: 0.5em 0 0;
        padding-left: 1.25em;
      }
      .empty {
        margin-top: 1.5em;
      }
      .finding {
        margin: 0.75em 0 0;
        padding: 0.5em 0.75em;
        border-left: 3px solid var(--vscode-textLink-foreground, var(--vscode-focusBorder, currentColor));
        background: var(--vscode-textBlockQuote-background, transparent);
      }
      .finding strong {
        font-weight: 600;
        margin-right: 0.4em;
      }
      .comparison-finding {
        margin: 0.5em 0 0;
      }
      .heatmap-area {
        display: flex;
        flex-wrap: wrap;
        align-items: flex-start;
        gap: 1em;
      }
      .heatmap-area repsim-heatmap {
        flex: 1 1 420px;
        min-width: 0;
      }
      .heatmap-area repsim-cell-detail {
        flex: 0 1 340px;
        min-width: 260px;
      }
    `,
  ];

  @state() private snapshot: RunSnapshot | undefined;
  /** Comparison the user picked; undefined follows the one in progress. */
  @state() private picked: string | undefined;
  /** The heatmap's significance level and calibration toggles. */
  @state() private heatmapOptions: HeatmapOptions = DEFAULT_HEATMAP_OPTIONS;
  /** The cell whose drill-down is open (in its comparison). */
  @state() private selectedCell: SelectedCell | undefined;

  private connection: HostConnection | undefined;
  private saver: ThrottledSaver | undefined;

  /** The live panel (not the static report). */
  get live(): boolean {
    return this.connection?.mode === 'vscode';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.connection === undefined) this.start();
    if (this.connection?.mode !== 'vscode') return;
    window.addEventListener('message', this.onMessage);
    window.addEventListener('scroll', this.onScroll, { passive: true });
    document.addEventListener('visibilitychange', this.flushState);
    window.addEventListener('pagehide', this.flushState);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('message', this.onMessage);
    window.removeEventListener('scroll', this.onScroll);
    document.removeEventListener('visibilitychange', this.flushState);
    window.removeEventListener('pagehide', this.flushState);
    this.saver?.flush();
  }

  /** Once per page: report mode draws the embedded run; the panel restores its saved state and tells the host it is ready. */
  private start(): void {
    const connection = (this.connection = connectHost());
    if (connection.mode === 'report') {
      followSystemColorScheme();
      this.snapshot = connection.snapshot;
      return;
    }
    const saved = parsePanelState(connection.api.getState());
    if (saved !== undefined) {
      this.snapshot = saved.snapshot;
      this.picked = saved.picked;
      this.heatmapOptions = saved.heatmapOptions ?? DEFAULT_HEATMAP_OPTIONS;
      this.selectedCell = saved.selectedCell;
      if (saved.scrollY) void this.updateComplete.then(() => requestAnimationFrame(() => window.scrollTo(0, saved.scrollY ?? 0)));
    }
    this.saver = new ThrottledSaver((state) => connection.api.setState(state));
    connection.post({ type: 'ready' });
  }

  private readonly onMessage = (event: MessageEvent): void => {
    const message: unknown = event.data;
    if (!isHostMessage(message)) return;
    const next = applyHostMessage(this.snapshot, message);
    if (next === this.snapshot) return;
    this.snapshot = next;
    this.saveState(SAVE_AT_ONCE.has(message.type));
  };

  private readonly onScroll = (): void => this.saveState(false);

  private readonly flushState = (): void => this.saver?.flush();

  private saveState(atOnce: boolean): void {
    this.saver?.schedule(
      { version: STATE_VERSION, snapshot: this.snapshot, picked: this.picked, scrollY: Math.round(window.scrollY), heatmapOptions: this.heatmapOptions, selectedCell: this.selectedCell },
      atOnce,
    );
  }

  override render() {
    const run = this.snapshot;
    if (run === undefined) {
      return html`<p class="empty muted">${this.live ? 'Waiting for the run…' : 'This report holds no run.'}</p>`;
    }
    const active = run.status === 'running' || run.status === 'queued';
    const views = comparisonViews(run);
    const view = selectedView(views, this.picked);
    // Recomputed from the finished comparisons, so that the live panel shows it as they arrive.
    const finding = runFinding(run.comparisons);
    return html`
      <repsim-run-header .experiment=${run.experiment} .backend=${run.backend} .backendDetail=${run.backendDetail} .status=${run.status} .error=${run.error} .models=${run.models}></repsim-run-header>
      ${finding ? html`<p class="finding" role="note"><strong>Finding</strong>${finding}</p>` : nothing}
      ${active ? html`<repsim-progress .progress=${run.progress} ?cancellable=${this.live} @repsim-cancel=${this.cancel}></repsim-progress>` : nothing}
      ${view ? this.renderComparison(views, view) : html`<p class="empty muted">${active ? 'No comparison yet.' : 'This run has no comparisons.'}</p>`}
      ${Object.values(run.training).some((points) => points.length > 0)
        ? html`<section class="training"><h2>Training</h2><repsim-training-curves .training=${run.training}></repsim-training-curves></section>`
        : nothing}
    `;
  }

  private renderComparison(views: readonly ComparisonView[], view: ComparisonView) {
    const result = view.result;
    const corresponding = hasCorrespondingLayers(view);
    const diag = corresponding ? this.diagonalOf(view) : undefined;
    const cell = this.selectedCell?.comparison === view.name && this.selectedCell.row < view.layersA.length && this.selectedCell.column < view.layersB.length ? this.selectedCell : undefined;
    const estimators = result ? estimatorSiblings(this.snapshot?.comparisons ?? [], result) : [];
    return html`
      <section class="comparison">
        <div class="toolbar">
          ${views.length > 1
            ? html`<vscode-single-select class="picker" aria-label="Comparison" @change=${this.pick}>
                ${views.map((v) => html`<vscode-option value=${v.name} ?selected=${v.name === view.name}>${v.name}${v.live ? ' (in progress)' : ''}</vscode-option>`)}
              </vscode-single-select>`
            : html`<h2>${view.name}</h2>`}
          <span class="muted summary">${this.describe(view)}</span>
          <repsim-export-bar @repsim-export=${this.export}></repsim-export-bar>
        </div>
        <repsim-significance-options .significance=${view.significance} .options=${this.heatmapOptions} @repsim-heatmap-options=${this.setHeatmapOptions}></repsim-significance-options>
        <div class="heatmap-area" @repsim-cell-select=${this.selectCell} @repsim-cell-close=${this.closeCell}>
          <repsim-heatmap
            .layersA=${view.layersA}
            .layersB=${view.layersB}
            .matrix=${view.matrix}
            .stderr=${view.stderr}
            .modelA=${view.a}
            .modelB=${view.b}
            .significance=${view.significance}
            .significanceLevel=${this.heatmapOptions.significanceLevel}
            ?calibrated=${this.heatmapOptions.calibrated}
            .selectedCell=${cell}
          ></repsim-heatmap>
          ${cell ? html`<repsim-cell-detail .view=${view} .cell=${cell} .runId=${this.snapshot?.runId ?? ''}></repsim-cell-detail>` : nothing}
        </div>
        ${result?.finding
          ? html`<p class="comparison-finding muted">${result.finding} (Kornblith et al. 2019's check)</p>`
          : html`<repsim-layer-identification .identification=${result?.layerIdentification} .modelA=${view.a} .modelB=${view.b}></repsim-layer-identification>`}
        ${result && result.warnings.length > 0 ? html`<ul class="warnings">${result.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : nothing}
      </section>
      ${diag
        ? html`<section class="diagonal">
            <h2>Corresponding layers</h2>
            <repsim-diagonal .layers=${view.layersA} .values=${diag.values} .stderr=${diag.stderr} .modelA=${view.a} .modelB=${view.b}></repsim-diagonal>
          </section>`
        : nothing}
      ${result && this.connection?.mode === 'report'
        ? html`<section class="figures">
            <h2>Figures</h2>
            <repsim-figures .comparison=${result}></repsim-figures>
          </section>`
        : nothing}
      ${estimators.length > 0
        ? html`<section class="estimators">
            <h2>Estimators</h2>
            <repsim-estimators .comparisons=${estimators} .current=${view.name}></repsim-estimators>
          </section>`
        : nothing}
      ${result?.firstPc
        ? html`<section class="first-pc">
            <h2>First principal component</h2>
            <repsim-first-pc .layersA=${view.layersA} .layersB=${view.layersB} .firstPc=${result.firstPc} .modelA=${view.a} .modelB=${view.b}></repsim-first-pc>
          </section>`
        : nothing}
      ${result?.subspaceMatch && result.subspaceMatch.length > 0
        ? html`<section class="subspace-match"><h2>Subspace match</h2><repsim-subspace-match .pairs=${result.subspaceMatch}></repsim-subspace-match></section>`
        : nothing}
      ${result?.agreement
        ? html`<section class="agreement">
            <h2>Per-class agreement</h2>
            <repsim-class-agreement .agreement=${result.agreement} .modelA=${view.a} .modelB=${view.b}></repsim-class-agreement>
          </section>`
        : nothing}
    `;
  }

  private describe(view: ComparisonView): string {
    if (view.live) return `${view.a} vs ${view.b} · batch ${view.live.batchesDone} of ${view.live.totalBatches}`;
    const r = view.result;
    const details = r ? [`${r.settings.estimator} ${r.settings.kernel} CKA`, `${r.batches} batches`, `${r.examples.toLocaleString('en-US')} examples`] : [];
    return [`${view.a} vs ${view.b}`, ...details].join(' · ');
  }

  private diagonalOf(view: ComparisonView): ReturnType<typeof diagonal> {
    let cached = diagonalCache.get(view.matrix);
    if (cached === undefined) {
      cached = diagonal(view);
      diagonalCache.set(view.matrix, cached);
    }
    return cached;
  }

  private pick(event: Event): void {
    this.picked = (event.target as HTMLSelectElement).value;
    this.saveState(true);
  }

  private setHeatmapOptions(event: HeatmapOptionsEvent): void {
    this.heatmapOptions = event.detail;
    this.saveState(true);
  }

  private selectCell(event: CellSelectEvent): void {
    const view = selectedView(comparisonViews(this.snapshot), this.picked);
    if (view === undefined) return;
    this.selectedCell = { comparison: view.name, row: event.detail.row, column: event.detail.column };
    this.saveState(true);
  }

  private closeCell(): void {
    if (this.selectedCell === undefined) return;
    this.selectedCell = undefined;
    this.saveState(true);
  }

  private cancel(): void {
    if (this.connection?.mode === 'vscode' && this.snapshot) this.connection.post({ type: 'cancel', runId: this.snapshot.runId });
  }

  /** Saves the shown comparison: figures follow the panel's significance level for their hatching. */
  private async export(event: ExportRequestEvent): Promise<void> {
    const run = this.snapshot;
    const views = comparisonViews(run);
    const view = selectedView(views, this.picked);
    const connection = this.connection;
    if (run === undefined || view === undefined || connection === undefined) return;
    const request = { ...event.detail, alpha: event.detail.alpha ?? this.heatmapOptions.significanceLevel ?? undefined };
    const data = await exportPayload(views, view, request);
    deliverExport(connection, { type: 'export', format: request.format, comparison: view.name, fileName: exportFileName(run.experiment, view.name, request.format, request.figure), data });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-app': RepsimApp;
  }
}
