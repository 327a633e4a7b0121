/**
 * Where a cell's observed CKA falls against its permutation null, on one line: the null's mean
 * ± two standard deviations as a band, its mean as a tick, the observed value as a dot. An SVG
 * with presentation attributes only (no inline styles: the panel's CSP forbids them).
 */
import { css, html, LitElement, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { formatCell, formatNumber } from '../format.js';
import { baseStyles } from './styles.js';

const WIDTH = 240;
const HEIGHT = 30;
const PAD = 8;
const AXIS_Y = 14;

@customElement('repsim-null-position')
export class RepsimNullPosition extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        max-width: 320px;
      }
      svg {
        width: 100%;
        height: auto;
        overflow: visible;
      }
      .axis {
        stroke: var(--vscode-descriptionForeground);
        stroke-width: 1;
      }
      .band {
        fill: var(--vscode-charts-orange, #d18616);
        opacity: 0.35;
      }
      .mean {
        stroke: var(--vscode-charts-orange, #d18616);
        stroke-width: 2;
      }
      .observed {
        fill: var(--vscode-charts-blue, #3794ff);
        stroke: var(--vscode-editor-background);
        stroke-width: 1;
      }
      text {
        fill: var(--vscode-descriptionForeground);
        font-size: 9px;
        font-family: var(--vscode-font-family, sans-serif);
      }
    `,
  ];

  @property({ type: Number }) observed = 0;
  @property({ type: Number }) nullMean = 0;
  @property({ type: Number }) nullStd = 0;

  override render() {
    const low = Math.min(0, this.observed, this.nullMean - 2 * this.nullStd);
    const high = Math.max(1, this.observed, this.nullMean + 2 * this.nullStd);
    const x = (value: number) => PAD + ((value - low) / (high - low || 1)) * (WIDTH - 2 * PAD);
    const bandLeft = x(this.nullMean - 2 * this.nullStd);
    const bandWidth = Math.max(1, x(this.nullMean + 2 * this.nullStd) - bandLeft);
    const label = `Observed CKA ${formatNumber(this.observed)} against the permutation null ${formatCell(this.nullMean, this.nullStd)}`;
    return html`<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label=${label}>
      <title>${label} (band: null mean ± 2 std)</title>
      ${svg`
        <line class="axis" x1=${PAD} x2=${WIDTH - PAD} y1=${AXIS_Y} y2=${AXIS_Y}></line>
        <rect class="band" x=${bandLeft} y=${AXIS_Y - 6} width=${bandWidth} height="12"></rect>
        <line class="mean" x1=${x(this.nullMean)} x2=${x(this.nullMean)} y1=${AXIS_Y - 7} y2=${AXIS_Y + 7}></line>
        <circle class="observed" cx=${x(this.observed)} cy=${AXIS_Y} r="4.5"></circle>
        <text x=${PAD} y=${HEIGHT - 1} text-anchor="start">${formatNumber(low, 1)}</text>
        <text x=${WIDTH - PAD} y=${HEIGHT - 1} text-anchor="end">${formatNumber(high, 1)}</text>
      `}
    </svg>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-null-position': RepsimNullPosition;
  }
}
