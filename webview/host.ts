/**
 * Where the app runs: inside a VS Code webview (live, talks to the extension host) or in the
 * self-contained HTML report (static, reads the snapshot embedded in the page).
 */
import type { RunSnapshot } from '../src/protocol/results.js';
import type { WebviewMessage } from '../src/protocol/webview.js';
import { isRunSnapshot } from './state/validate.js';

/** The object VS Code's `acquireVsCodeApi()` returns. */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

/** Id of the `<script type="application/json">` that carries the report's run. */
export const SNAPSHOT_ELEMENT_ID = 'repsim-snapshot';

export type HostConnection =
  | { readonly mode: 'vscode'; readonly api: VsCodeApi; post(message: WebviewMessage): void }
  | { readonly mode: 'report'; readonly snapshot: RunSnapshot | undefined };

let connection: HostConnection | undefined;

/** `acquireVsCodeApi` may be called once per page, so the connection is made once and shared. */
export function connectHost(): HostConnection {
  if (connection !== undefined) return connection;
  const acquire = (globalThis as { acquireVsCodeApi?: () => VsCodeApi }).acquireVsCodeApi;
  if (typeof acquire === 'function') {
    const api = acquire();
    connection = { mode: 'vscode', api, post: (message) => api.postMessage(message) };
  } else {
    connection = { mode: 'report', snapshot: readEmbeddedSnapshot() };
  }
  return connection;
}

function readEmbeddedSnapshot(): RunSnapshot | undefined {
  const text = document.getElementById(SNAPSHOT_ELEMENT_ID)?.textContent;
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isRunSnapshot(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
