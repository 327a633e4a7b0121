/** The run's title line: experiment, backend, status (with its icon), models and, if it failed, why. */
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ModelSummary, RunStatus } from '../../src/protocol/results.js';
import { formatPercent } from '../format.js';
import { baseStyles } from './styles.js';

const STATUS: Record<RunStatus, { icon: string; text: string }> = {
  queued: { icon: 'clock', text: 'Queued' },
  running: { icon: 'sync', text: 'Running' },
  done: { icon: 'pass', text: 'Done' },
  failed: { icon: 'error', text: 'Failed' },
  cancelled: { icon: 'circle-slash', text: 'Cancelled' },
};

@customElement('repsim-run-header')
export class RepsimRunHeader extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .title {
        display: flex;
        flex-wrap: wrap;
        align-items: baseline;
        gap: 0.25em 1em;
      }
      h1 {
        font-size: 1.35em;
        font-weight: 600;
        margin: 0;
      }
      .status {
        display: inline-flex;
        align-items: center;
        gap: 0.3em;
      }
      .status.done vscode-icon {
        color: var(--vscode-charts-green, var(--vscode-foreground));
      }
      .status.failed,
      .error {
        color: var(--vscode-errorForeground);
      }
      .error {
        margin: 0.5em 0 0;
        white-space: pre-wrap;
      }
      .models {
        margin: 0.35em 0 0;
      }
    `,
  ];

  @property() experiment = '';
  @property() backend?: string;
  @property() status: RunStatus = 'queued';
  @property() error?: string;
  /** What computed and what trained, in words: the backend label's tooltip. */
  @property() backendDetail?: string;
  @property({ attribute: false }) models: readonly ModelSummary[] = [];

  override render() {
    const status = STATUS[this.status] ?? STATUS.queued;
    return html`
      <div class="title">
        <h1>${this.experiment}</h1>
        <span class="status ${this.status}" role="status">
          <vscode-icon name=${status.icon} ?spin=${this.status === 'running'}></vscode-icon>${status.text}
        </span>
        ${this.backend ? html`<span class="muted backend" title=${this.backendDetail ?? nothing}>backend: ${this.backend}</span>` : nothing}
      </div>
      ${this.models.length > 0 ? html`<p class="models muted">${this.models.map((m, i) => html`${i > 0 ? ' · ' : ''}${this.describeModel(m)}`)}</p>` : nothing}
      ${this.error && this.status !== 'cancelled' ? html`<p class="error">${this.error}</p>` : nothing}
    `;
  }

  private describeModel(model: ModelSummary): string {
    const details = [model.architecture, model.source, model.testAccuracy != null ? `test ${formatPercent(model.testAccuracy)}` : undefined].filter((d) => d !== undefined);
    return `${model.id} (${details.join(', ')})`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-run-header': RepsimRunHeader;
  }
}
