/**
 * The heatmap's significance toggles: a level (off / p ≤ 0.05 / 0.01 / 0.001) above which cells
 * are dimmed and hatched, and calibrated CKA in place of the raw value. Shown only for a
 * comparison with a permutation test; dispatches `repsim-heatmap-options` (detail: HeatmapOptions).
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { PermutationTest } from '../../src/protocol/results.js';
import { DEFAULT_HEATMAP_OPTIONS, SIGNIFICANCE_LEVELS, type HeatmapOptions, type SignificanceLevel } from '../state/persistence.js';
import { baseStyles } from './styles.js';

export type HeatmapOptionsEvent = CustomEvent<HeatmapOptions>;

const OFF = 'off';

@customElement('repsim-significance-options')
export class RepsimSignificanceOptions extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5em 1.25em;
        margin-bottom: 0.5em;
      }
      :host([hidden]) {
        display: none;
      }
      vscode-single-select {
        width: 9em;
      }
      label {
        display: flex;
        align-items: center;
        gap: 0.5em;
      }
    `,
  ];

  /** The comparison's permutation test; nothing is shown without one. */
  @property({ attribute: false }) significance?: PermutationTest;
  @property({ attribute: false }) options: HeatmapOptions = DEFAULT_HEATMAP_OPTIONS;

  override render() {
    const test = this.significance;
    if (test === undefined) return nothing;
    const level = this.options.significanceLevel;
    return html`
      <label>
        <span>Significance</span>
        <vscode-single-select class="level" aria-label="Dim cells whose permutation p-value is above" title=${test.method} @change=${this.pickLevel}>
          <vscode-option value=${OFF} ?selected=${level === null}>off</vscode-option>
          ${SIGNIFICANCE_LEVELS.map((l) => html`<vscode-option value=${String(l)} ?selected=${level === l}>p ≤ ${l}</vscode-option>`)}
        </vscode-single-select>
      </label>
      <vscode-checkbox
        class="calibrated"
        .checked=${this.options.calibrated}
        title="(observed − null mean) / (1 − null mean): 0 at chance, 1 stays 1"
        @change=${this.toggleCalibrated}
        >Calibrated CKA</vscode-checkbox
      >
      <span class="muted">${test.permutations} permutations</span>
    `;
  }

  private pickLevel(event: Event): void {
    const value = (event.target as HTMLSelectElement).value;
    const level = SIGNIFICANCE_LEVELS.find((l) => String(l) === value) ?? null;
    this.emit({ ...this.options, significanceLevel: level as SignificanceLevel | null });
  }

  private toggleCalibrated(event: Event): void {
    this.emit({ ...this.options, calibrated: (event.target as HTMLInputElement).checked });
  }

  private emit(options: HeatmapOptions): void {
    this.dispatchEvent(new CustomEvent('repsim-heatmap-options', { detail: options, bubbles: true, composed: true }) satisfies HeatmapOptionsEvent);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-significance-options': RepsimSignificanceOptions;
  }
}
