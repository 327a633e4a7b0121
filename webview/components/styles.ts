/** Styles shared by the components (adopted stylesheets: no inline styles, so a strict CSP holds). */
import { css } from 'lit';

export const baseStyles = css`
  :host {
    color: var(--vscode-foreground);
    font-family: var(--vscode-font-family, system-ui, sans-serif);
    font-size: var(--vscode-font-size, 13px);
  }
  [hidden] {
    display: none !important;
  }
  .muted {
    color: var(--vscode-descriptionForeground);
  }
  h2 {
    font-size: 1.1em;
    font-weight: 600;
    margin: 0 0 0.5em;
  }
  h3 {
    font-size: 1em;
    font-weight: 600;
    margin: 0.75em 0 0.25em;
  }
`;

/** A chart canvas's box: chart.js sizes the canvas to it. */
export const plotStyles = css`
  .plot {
    position: relative;
    width: 100%;
    height: 240px;
  }
  .plot.tall {
    height: 300px;
  }
  .plot.compact {
    height: 160px;
  }
`;
