/**
 * The results panel's HTML: a strict Content Security Policy (only the extension's own files,
 * data: images for exports, and the one script carrying this page's nonce), the codicon font
 * and the webview bundle. The Lit app mounts itself into <body>; VS Code adds the theme classes.
 */
import { randomBytes } from 'node:crypto';

export interface PanelHtmlOptions {
  /** `webview.cspSource`. */
  readonly cspSource: string;
  readonly nonce: string;
  /** `asWebviewUri` of media/webview.js and media/codicon.css, as strings. */
  readonly scriptUri: string;
  readonly codiconCssUri: string;
  readonly title: string;
}

/** 128 random bits, base64: a fresh one for every page load. */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function buildPanelHtml(options: PanelHtmlOptions): string {
  const { cspSource, nonce, scriptUri, codiconCssUri, title } = options;
  if (!/^[A-Za-z0-9+/=]+$/.test(nonce)) throw new Error('a nonce must be base64');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link id="vscode-codicon-stylesheet" rel="stylesheet" href="${escapeHtml(codiconCssUri)}">
<title>${escapeHtml(title)}</title>
</head>
<body>
<script type="module" nonce="${nonce}" src="${escapeHtml(scriptUri)}"></script>
</body>
</html>
`;
}
