/**
 * What the run is doing now: a progress bar, the label, step/total, rate and time left, and a
 * Cancel button (dispatches `repsim-cancel`; the app turns it into a message to the host).
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { RunProgress } from '../../src/protocol/results.js';
import { formatDuration, formatRate } from '../format.js';
import { baseStyles } from './styles.js';

@customElement('repsim-progress')
export class RepsimProgress extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .row {
        display: flex;
        align-items: center;
        gap: 1em;
      }
      .text {
        flex: 1;
        min-width: 0;
      }
      .label {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .numbers {
        font-variant-numeric: tabular-nums;
      }
      vscode-progress-bar {
        margin-top: 0.35em;
        height: 3px;
        background: var(--vscode-panel-border, rgba(128, 128, 128, 0.3));
      }
    `,
  ];

  @property({ attribute: false }) progress?: RunProgress;
  /** Shows the Cancel button (live panel, run in progress). */
  @property({ type: Boolean }) cancellable = false;

  override render() {
    const p = this.progress;
    const known = p !== undefined && p.total > 0;
    return html`
      <div class="row">
        <div class="text">
          <div class="label">${p ? `${p.phase}: ${p.label}` : 'Starting…'}</div>
          <div class="numbers muted">${p ? this.details(p) : nothing}</div>
        </div>
        <vscode-button class="cancel" secondary icon="debug-stop" ?hidden=${!this.cancellable} @click=${this.cancel}>Cancel</vscode-button>
      </div>
      <vscode-progress-bar aria-label=${p?.label ?? 'Run progress'} .max=${known ? p.total : 100} .value=${known ? Math.min(p.step, p.total) : undefined} ?indeterminate=${!known}></vscode-progress-bar>
    `;
  }

  private details(p: RunProgress): string {
    const parts = [`${p.step.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')}`];
    if (p.rate !== undefined && p.rate > 0) parts.push(formatRate(p.rate, p.rateUnit));
    if (p.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
    return parts.join(' · ');
  }

  private cancel(): void {
    this.dispatchEvent(new CustomEvent('repsim-cancel', { bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-progress': RepsimProgress;
  }
}
