/**
 * Hands an export over: in VS Code to the extension host (it asks where to save), in the
 * report as a browser download through an `<a download>`.
 */
import type { WebviewMessage } from '../../src/protocol/webview.js';
import type { HostConnection } from '../host.js';

export type ExportMessage = Extract<WebviewMessage, { type: 'export' }>;

const MIME = { png: 'image/png', svg: 'image/svg+xml', csv: 'text/csv', json: 'application/json' } as const;

export function deliverExport(connection: HostConnection, message: ExportMessage): void {
  if (connection.mode === 'vscode') {
    connection.post(message);
    return;
  }
  const isDataUrl = message.data.startsWith('data:');
  const href = isDataUrl ? message.data : URL.createObjectURL(new Blob([message.data], { type: MIME[message.format] }));
  const anchor = document.createElement('a');
  anchor.href = href;
  anchor.download = message.fileName;
  anchor.hidden = true;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  if (!isDataUrl) setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
