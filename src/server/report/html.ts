/**
 * The HTML report: one self-contained file that draws a run with the same `<repsim-app>` as the
 * panel, in report mode. The webview bundle is inlined, the codicon font is a data URL and the
 * snapshot is embedded as JSON, so the file opens from disk with no network; its CSP allows
 * nothing to be fetched from anywhere.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findPackageRoot } from '../../engine/packageRoot.js';
import type { RunSnapshot } from '../../protocol/results.js';
import { SNAPSHOT_ELEMENT_ID } from '../../../webview/host.js';
import { REPORT_THEME_CSS } from './theme.js';

export interface ReportAssets {
  /** media/webview.js: the webview bundle (ES module). */
  readonly script: string;
  /** media/codicon.css and the font it loads. */
  readonly codiconCss: string;
  readonly codiconFont: Uint8Array;
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON that cannot end or re-open a `<script>` element: every `<` written as \u003c. */
export function embeddedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * Script text safe inside `<script>`: `</script`, `<script` and `<!--` get their `<` as
 * `\x3C`, which means `<` in JS strings, templates and regular expressions alike.
 */
export function inlineScript(script: string): string {
  return script.replace(/^\/\/# sourceMappingURL=.*$/gm, '').replace(/<(?=!--|\/?script)/gi, '\\x3C');
}

function codiconStyles(css: string, font: Uint8Array): { fontFace: string; classRules: string } {
  const fontUrl = `data:font/ttf;base64,${Buffer.from(font).toString('base64')}`;
  const fontFace = `@font-face {\n  font-family: "codicon";\n  font-display: block;\n  src: url("${fontUrl}") format("truetype");\n}`;
  return { fontFace, classRules: css.replace(/@font-face\s*\{[^}]*\}/g, '') };
}

export function renderReportHtml(snapshot: RunSnapshot, assets: ReportAssets): string {
  const nonce = randomBytes(18).toString('base64');
  const csp = [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src 'unsafe-inline' data:`, `font-src data:`, `img-src data: blob:`].join('; ');
  const { fontFace, classRules } = codiconStyles(assets.codiconCss, assets.codiconFont);
  // The icons' class rules as a data-URL stylesheet: @vscode-elements' icons link the page's
  // codicon stylesheet (by id) into their shadow roots; the font itself is declared once, here.
  const classRulesUrl = `data:text/css;base64,${Buffer.from(classRules).toString('base64')}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="RepSim">
<title>RepSim — ${escapeHtml(snapshot.experiment)}</title>
<style>
${REPORT_THEME_CSS}
${fontFace}
</style>
<link id="vscode-codicon-stylesheet" rel="stylesheet" href="${classRulesUrl}">
<script type="application/json" id="${SNAPSHOT_ELEMENT_ID}">${embeddedJson(snapshot)}</script>
</head>
<body>
<repsim-app></repsim-app>
<script type="module" nonce="${nonce}">
${inlineScript(assets.script)}
</script>
</body>
</html>
`;
}

/** Reads the bundle and codicons from media/ (built by `node scripts/build.mjs`). */
export async function loadReportAssets(root: string = findPackageRoot()): Promise<ReportAssets> {
  const media = join(root, 'media');
  try {
    const [script, codiconCss, codiconFont] = await Promise.all([readFile(join(media, 'webview.js'), 'utf8'), readFile(join(media, 'codicon.css'), 'utf8'), readFile(join(media, 'codicon.ttf'))]);
    return { script, codiconCss, codiconFont: new Uint8Array(codiconFont) };
  } catch (error) {
    throw new Error(`HTML report assets missing in ${media} (run \`node scripts/build.mjs\`): ${(error as Error).message}`);
  }
}
