/**
 * Export buttons for the shown comparison — the heatmap figure (PNG, SVG), the corresponding-
 * layers plot (PNG, SVG), the matrix (CSV) and the comparison (JSON) — and where the figures put
 * layer 1; dispatches `repsim-export` with what to save.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ExportRequest } from '../export/exportPayload.js';
import { DEFAULT_ORIGIN, type FigureOrigin } from '../figures/figureInput.js';

export type ExportRequestEvent = CustomEvent<ExportRequest>;

const BUTTONS: readonly { key: string; request: Omit<ExportRequest, 'origin'>; icon: string; text: string; title: string }[] = [
  { key: 'png', request: { format: 'png' }, icon: 'file-media', text: 'PNG', title: 'Save the heatmap as a figure for a paper (PNG, 2×)' },
  { key: 'svg', request: { format: 'svg' }, icon: 'file-code', text: 'SVG', title: 'Save the heatmap as a figure for a paper (SVG)' },
  { key: 'layers-png', request: { format: 'png', figure: 'layers' }, icon: 'graph-line', text: 'Layers PNG', title: 'Save the corresponding-layers plot (PNG, 2×)' },
  { key: 'layers-svg', request: { format: 'svg', figure: 'layers' }, icon: 'graph-line', text: 'Layers SVG', title: 'Save the corresponding-layers plot (SVG)' },
  { key: 'csv', request: { format: 'csv' }, icon: 'table', text: 'CSV', title: 'Save the CKA matrix as CSV' },
  { key: 'json', request: { format: 'json' }, icon: 'json', text: 'JSON', title: 'Save the comparison as JSON' },
];

const ORIGINS: readonly { value: FigureOrigin; text: string }[] = [
  { value: 'bottom-left', text: 'Layer 1 at bottom' },
  { value: 'top-left', text: 'Layer 1 at top' },
];

@customElement('repsim-export-bar')
export class RepsimExportBar extends LitElement {
  static override styles = css`
    :host {
      display: flex;
      gap: 0.5em;
      flex-wrap: wrap;
      align-items: center;
    }
    vscode-single-select {
      width: 13em;
    }
  `;

  /** Where the heatmap figure puts layer 1 of both models. */
  @property() origin: FigureOrigin = DEFAULT_ORIGIN;

  override render() {
    return html`${BUTTONS.map(
        (b) => html`<vscode-button secondary icon=${b.icon} data-format=${b.key} title=${b.title} aria-label=${b.title} @click=${() => this.request(b.request)}>${b.text}</vscode-button>`,
      )}
      <vscode-single-select class="origin" aria-label="Where the heatmap figure puts layer 1" title="Where the heatmap figure puts layer 1" @change=${this.pickOrigin}>
        ${ORIGINS.map((o) => html`<vscode-option value=${o.value} ?selected=${o.value === this.origin}>${o.text}</vscode-option>`)}
      </vscode-single-select>`;
  }

  private pickOrigin(event: Event): void {
    const value = (event.target as HTMLSelectElement).value;
    if (ORIGINS.some((o) => o.value === value)) this.origin = value as FigureOrigin;
  }

  private request(request: Omit<ExportRequest, 'origin'>): void {
    this.dispatchEvent(new CustomEvent('repsim-export', { detail: { ...request, origin: this.origin }, bubbles: true, composed: true }) satisfies ExportRequestEvent);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-export-bar': RepsimExportBar;
  }
}
