/**
 * Kornblith et al. (2019)'s layer identification score beside the heatmap: how many layers of A
 * are most similar to their counterpart in B, and the reverse (B's layers against A) when known.
 * The panel shows it for a result that has the counts but no finding line (which says the same
 * in words, both directions included, see withFindings).
 */
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { LayerIdentification } from '../../src/protocol/results.js';
import { formatNumber } from '../format.js';
import { baseStyles } from './styles.js';

@customElement('repsim-layer-identification')
export class RepsimLayerIdentification extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        margin-top: 0.5em;
        font-variant-numeric: tabular-nums;
      }
      p {
        margin: 0;
      }
      strong {
        font-weight: 600;
        margin-right: 0.4em;
      }
      .score + .score::before {
        content: ' · ';
        color: var(--vscode-descriptionForeground);
      }
    `,
  ];

  @property({ attribute: false }) identification?: LayerIdentification;
  @property() modelA = 'A';
  @property() modelB = 'B';

  override render() {
    const id = this.identification;
    if (id === undefined || id.total === 0) return nothing;
    const reverse = id.matchedReverse !== undefined && id.totalReverse !== undefined && id.totalReverse > 0;
    return html`<p role="note" title="Kornblith et al. (2019): a layer is identified when, of all the other model's layers, the most similar one is its counterpart (the layer of the same name)">
      <strong>Layer identification</strong>
      <span class="score forward">${this.modelA} → ${this.modelB}: ${id.matched} / ${id.total}</span>
      ${reverse ? html`<span class="score reverse">${this.modelB} → ${this.modelA}: ${id.matchedReverse} / ${id.totalReverse}</span>` : nothing}
      ${id.meanCorresponding === null ? nothing : html`<span class="score mean">mean CKA of counterparts ${formatNumber(id.meanCorresponding, 2)}</span>`}
    </p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-layer-identification': RepsimLayerIdentification;
  }
}
