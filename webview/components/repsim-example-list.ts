/** A list of examples with their share of a cell's CKA, each as its thumbnail when there is one, else its index or id. */
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ExampleContribution } from '../../src/protocol/results.js';
import { baseStyles } from './styles.js';

/** Thumbnail of an example (a data URL), or undefined. */
export type ThumbnailLookup = (example: number) => string | undefined;

/** "#123", or the example's id with its index. */
export const exampleName = (c: ExampleContribution) => (c.id !== undefined ? `${c.id} (#${c.example})` : `#${c.example}`);

@customElement('repsim-example-list')
export class RepsimExampleList extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      ol {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5em;
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li {
        display: flex;
        flex-direction: column;
        align-items: center;
        min-width: 4.5em;
        font-variant-numeric: tabular-nums;
      }
      img {
        width: 48px;
        height: 48px;
        image-rendering: pixelated;
        border: 1px solid var(--vscode-widget-border, transparent);
      }
      .name {
        max-width: 8em;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .share {
        font-size: 0.9em;
      }
    `,
  ];

  @property({ attribute: false }) examples: readonly ExampleContribution[] = [];
  @property({ attribute: false }) thumbnail: ThumbnailLookup = () => undefined;
  /** Accessible name of the list. */
  @property() label = '';

  override render() {
    return html`<ol aria-label=${this.label}>
      ${this.examples.map((c) => {
        const src = this.thumbnail(c.example);
        const name = exampleName(c);
        return html`<li title="${name}: share ${c.share} of the cell's CKA">
          ${src ? html`<img src=${src} alt="example ${name}" />` : nothing}
          <span class="name">${name}</span>
          <span class="share muted">${formatShare(c.share)}</span>
        </li>`;
      })}
    </ol>`;
  }
}

/** A share in CKA units, signed, to four decimals (or in scientific notation when tiny). */
export function formatShare(share: number): string {
  const sign = share > 0 ? '+' : share < 0 ? '−' : '';
  const size = Math.abs(share);
  return `${sign}${size !== 0 && size < 1e-4 ? size.toExponential(1) : size.toFixed(4)}`;
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-example-list': RepsimExampleList;
  }
}
