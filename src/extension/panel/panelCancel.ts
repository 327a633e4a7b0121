/**
 * What a panel's Cancel may cancel: the run the panel shows, nothing else. The webview is
 * untrusted input, so a `cancel` naming another run id (another panel's run, a stale or forged
 * id) is refused rather than passed to the server.
 */
import type { WebviewMessage } from '../../protocol/webview.js';

export type CancelDecision = { readonly cancel: string } | { readonly refused: string };

export function panelCancel(message: Extract<WebviewMessage, { type: 'cancel' }>, panelRunId: string): CancelDecision {
  if (message.runId === panelRunId) return { cancel: panelRunId };
  return { refused: `results panel of ${panelRunId}: ignored a request to cancel another run (${JSON.stringify(message.runId).slice(0, 80)})` };
}
