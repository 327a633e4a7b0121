/**
 * The comparison's publication figures, as the results folder has them (`<name>.svg` and
 * `<name>.layers.svg`): the heatmap with model names as axis titles, thinned layer ticks, a colour
 * bar, the measure and settings as title, layer 1 at the bottom left and cells with p > 0.05
 * hatched; and the corresponding-layers plot. Shown in the HTML report, so that it carries the
 * same figures as the files beside it; drawn as images from data URLs (the report's CSP allows
 * `img-src data:`), on white, as printed.
 */
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ComparisonResult } from '../../src/protocol/results.js';
import { DEFAULT_ALPHA, type FigureOrigin } from '../figures/figureInput.js';
import { correspondingLayersSvg } from '../figures/correspondingLayersSvg.js';
import { heatmapSvg } from '../figures/heatmapSvg.js';
import { baseStyles } from './styles.js';

const svgDataUrl = (svg: string) => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;

@customElement('repsim-figures')
export class RepsimFigures extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .figures {
        display: flex;
        flex-wrap: wrap;
        gap: 1em;
        align-items: flex-start;
      }
      img {
        background: #ffffff;
        max-width: 100%;
        height: auto;
        border: 1px solid var(--vscode-panel-border, transparent);
      }
    `,
  ];

  @property({ attribute: false }) comparison?: ComparisonResult;
  @property() origin: FigureOrigin = 'bottom-left';

  override render() {
    const result = this.comparison;
    if (!result) return nothing;
    const heatmap = heatmapSvg(result, { origin: this.origin, alpha: result.significance ? DEFAULT_ALPHA : undefined });
    const layers = correspondingLayersSvg(result);
    return html`<div class="figures">
      <img class="heatmap-figure" src=${svgDataUrl(heatmap)} alt=${`Heatmap of ${result.name}: CKA between the layers of ${result.a} and ${result.b}`} />
      <img class="layers-figure" src=${svgDataUrl(layers)} alt=${`CKA of corresponding layers of ${result.a} and ${result.b}`} />
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'repsim-figures': RepsimFigures;
  }
}
