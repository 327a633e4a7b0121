/** Export buttons for the shown comparison; dispatches `repsim-export` with the format. */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { css, html, LitElement } from 'lit';
import { customElement } from 'lit/decorators.js';
import type { ExportFormat } from '../export/exportData.js';

export type ExportRequestEvent = CustomEvent<{ format: ExportFormat }>;

const BUTTONS: readonly { format: ExportFormat; icon: string; text: string; title: string }[] = [
  { format: 'png', icon: 'file-media', text: 'PNG', title: 'Save the heatmap as a PNG image' },
  { format: 'csv', icon: 'table', text: 'CSV', title: 'Save the CKA matrix as CSV' },
  { format: 'json', icon: 'json', text: 'JSON', title: 'Save the comparison as JSON' },
];

@customElement('repsim-export-bar')
export class RepsimExportBar extends LitElement {
  static override styles = css`
    :host {
      display: flex;
      gap: 0.5em;
      flex-wrap: wrap;
    }
  `;

  override render() {
    return BUTTONS.map(
      (b) => html`<vscode-button secondary icon=${b.icon} data-format=${b.format} title=${b.title} aria-label=${b.title} @click=${() => this.request(b.format)}>${b.text}</vscode-button>`,
    );
  }

  private request(format: ExportFormat): void {
    this.dispatchEvent(new CustomEvent('repsim-export', { detail: { format }, bubbles: true, composed: true }) satisfies ExportRequestEvent);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-export-bar': RepsimExportBar;
  }
}
