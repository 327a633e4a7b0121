/**
 * A results panel's drill-down requests (example thumbnails, a cell recomputed without some
 * examples), passed to the compute server that ran the panel's run and answered with the host
 * message the webview waits for. Every failure is the answer's `error`, never a rejection: a
 * request for another run than the panel's (the webview's message is untrusted input), an
 * untrusted workspace (the server reads the experiment's data and runs its models), no server
 * (a run is forgotten with the server that ran it), or the server's refusal.
 */
import type { MessageConnection } from 'vscode-jsonrpc';
import { ExampleThumbnails, RecomputeCell } from '../../protocol/index.js';
import type { HostMessage, WebviewMessage } from '../../protocol/webview.js';
import { serverErrorMessage } from '../server/serverErrors.js';
import { trustRefusal, type TrustedAction } from '../trust.js';

export type DrillDownMessage = Extract<WebviewMessage, { type: 'exampleThumbnails' | 'recomputeCell' }>;

export interface DrillDownHost {
  readonly isTrusted: () => boolean;
  /** The running compute server's connection; undefined when none runs (nothing is started for a drill-down). */
  readonly connection: () => Pick<MessageConnection, 'sendRequest'> | undefined;
}

const ACTIONS: Record<DrillDownMessage['type'], TrustedAction> = { exampleThumbnails: 'show example images', recomputeCell: 'recompute cells' };

/** The server's answer to a panel's drill-down request, or the answer's `error` saying why there is none. */
export async function answerDrillDown(message: DrillDownMessage, panelRunId: string, host: DrillDownHost): Promise<HostMessage> {
  try {
    return await ask(message, panelRunId, host);
  } catch (failure) {
    return failedAnswer(message, serverErrorMessage(failure));
  }
}

async function ask(message: DrillDownMessage, panelRunId: string, host: DrillDownHost): Promise<HostMessage> {
  if (message.runId !== panelRunId) throw new Error(`results panel of ${panelRunId}: ignored a request about another run (${JSON.stringify(message.runId).slice(0, 80)})`);
  const refusal = trustRefusal(host.isTrusted(), ACTIONS[message.type]);
  if (refusal) throw new Error(refusal);
  const connection = host.connection();
  if (!connection) throw new Error(`the compute server that ran ${panelRunId} is no longer running: run the experiment again`);
  if (message.type === 'exampleThumbnails') {
    const { thumbnails } = await connection.sendRequest(ExampleThumbnails, { runId: message.runId, comparison: message.comparison, examples: message.examples });
    return { type: 'exampleThumbnails', runId: message.runId, comparison: message.comparison, thumbnails };
  }
  const { comparison, layerA, layerB, exclude } = message;
  const result = await connection.sendRequest(RecomputeCell, { runId: message.runId, comparison, layerA, layerB, exclude });
  return { type: 'recomputedCell', runId: message.runId, result };
}

function failedAnswer(message: DrillDownMessage, error: string): HostMessage {
  if (message.type === 'exampleThumbnails') return { type: 'exampleThumbnails', runId: message.runId, comparison: message.comparison, thumbnails: [], error };
  const { comparison, layerA, layerB, exclude } = message;
  return { type: 'recomputedCell', runId: message.runId, result: { comparison, layerA, layerB, exclude, value: null, stderr: null, examples: 0, error } };
}
