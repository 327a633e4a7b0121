/** The heatmap's colour key: the scale as a gradient bar with its end values, the hatching for undefined cells, and the faint hatched look of cells that are not significant. */
import { css, html, LitElement, nothing, unsafeCSS } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { scaleGradientCss } from '../charts/colorScale.js';
import { formatNumber } from '../format.js';
import { baseStyles } from './styles.js';

@customElement('repsim-color-legend')
export class RepsimColorLegend extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5em 1.5em;
        margin-top: 0.5em;
      }
      .scale {
        display: flex;
        align-items: center;
        gap: 0.5em;
      }
      .bar {
        width: 12em;
        height: 0.9em;
        background: ${unsafeCSS(scaleGradientCss())};
        border: 1px solid var(--vscode-contrastBorder, transparent);
      }
      .undefined {
        display: flex;
        align-items: center;
        gap: 0.5em;
      }
      .hatch {
        width: 1.4em;
        height: 0.9em;
        border: 1px solid var(--vscode-descriptionForeground);
        background-color: var(--vscode-editor-background);
        background-image: repeating-linear-gradient(-45deg, transparent 0 3px, var(--vscode-descriptionForeground) 3px 4.5px);
      }
      .dimmed {
        display: flex;
        align-items: center;
        gap: 0.5em;
      }
      .dimmed .hatch {
        background-image:
          linear-gradient(rgba(33, 145, 140, 0.28), rgba(33, 145, 140, 0.28)),
          repeating-linear-gradient(-45deg, transparent 0 3px, var(--vscode-descriptionForeground) 3px 4.5px);
      }
    `,
  ];

  @property({ type: Number }) min = 0;
  @property({ type: Number }) max = 1;
  @property() label = 'CKA';
  /** What dimmed cells mean (e.g. "p > 0.05 (not significant)"); empty: no such entry. */
  @property() dimmed = '';

  override render() {
    return html`
      <div class="scale" role="img" aria-label="${this.label} colour scale from ${formatNumber(this.min, 2)} to ${formatNumber(this.max, 2)}">
        <span class="muted">${this.label}</span>
        <span class="min">${formatNumber(this.min, 2)}</span>
        <span class="bar"></span>
        <span class="max">${formatNumber(this.max, 2)}</span>
      </div>
      <div class="undefined"><span class="hatch"></span><span>undefined (zero variance)</span></div>
      ${this.dimmed ? html`<div class="dimmed"><span class="hatch"></span><span>${this.dimmed}</span></div>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-color-legend': RepsimColorLegend;
  }
}
