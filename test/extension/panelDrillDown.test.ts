/**
 * A results panel's drill-down: the webview's `exampleThumbnails` and `recomputeCell` go to the
 * compute server as its requests, and the answers come back to the webview as
 * `exampleThumbnails` / `recomputedCell`; every failure (another run's id, an untrusted
 * workspace, no server, the server's refusal) is the answer's `error`. The panel runs against a
 * minimal stand-in for the `vscode` module (only what ResultsPanel touches).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakePanel, fakeVscode, withFakeVscode } from '../helpers/fakeVscodePanel.js';
import { ResponseError } from 'vscode-jsonrpc';
import { answerDrillDown, type DrillDownHost } from '../../src/extension/panel/panelDrillDown.js';
import { ExampleThumbnails, INPUT_ERROR_CODE, RecomputeCell } from '../../src/protocol/index.js';
import type { HostMessage } from '../../src/protocol/webview.js';

type Request = { method: string; params: unknown };

const THUMBNAIL = { example: 3, dataUrl: 'data:image/png;base64,iVBORw0KGgo=' };

/** A server that answers both requests, recording what it was asked; `refuse` makes it refuse as the real one does. */
function fakeServer(refuse?: string) {
  const requests: Request[] = [];
  const connection = {
    async sendRequest(type: { method: string }, params: Record<string, unknown>) {
      requests.push({ method: type.method, params });
      if (refuse) throw new ResponseError(INPUT_ERROR_CODE, refuse);
      if (type.method === ExampleThumbnails.method) return { thumbnails: [THUMBNAIL] };
      if (type.method === RecomputeCell.method) {
        const { runId: _runId, ...request } = params;
        return { ...request, value: 0.5, stderr: 0.01, examples: 35 };
      }
      throw new Error(`unexpected ${type.method}`);
    },
  };
  return { connection, requests };
}

const thumbnails = { type: 'exampleThumbnails', runId: 'run-1', comparison: 'nets', examples: [3] } as const;
const recompute = { type: 'recomputeCell', runId: 'run-1', comparison: 'nets', layerA: 'a1', layerB: 'b2', exclude: [0, 4] } as const;

test('drill-down requests reach the server as its requests; the answers are the host messages', async () => {
  const { connection, requests } = fakeServer();
  const host: DrillDownHost = { isTrusted: () => true, connection: () => connection as never };
  assert.deepEqual(await answerDrillDown(thumbnails, 'run-1', host), { type: 'exampleThumbnails', runId: 'run-1', comparison: 'nets', thumbnails: [THUMBNAIL] });
  assert.deepEqual(await answerDrillDown(recompute, 'run-1', host), {
    type: 'recomputedCell',
    runId: 'run-1',
    result: { comparison: 'nets', layerA: 'a1', layerB: 'b2', exclude: [0, 4], value: 0.5, stderr: 0.01, examples: 35 },
  });
  assert.deepEqual(requests, [
    { method: 'repsim/exampleThumbnails', params: { runId: 'run-1', comparison: 'nets', examples: [3] } },
    { method: 'repsim/recomputeCell', params: { runId: 'run-1', comparison: 'nets', layerA: 'a1', layerB: 'b2', exclude: [0, 4] } },
  ]);
});

test('every failure is the answer’s error: refusal, untrusted workspace, no server, another run', async () => {
  const refusing = fakeServer("comparison 'nets' has no layer 'a1' of model 'a' (it has: x)");
  const trusted: DrillDownHost = { isTrusted: () => true, connection: () => refusing.connection as never };
  const refused = await answerDrillDown(recompute, 'run-1', trusted);
  assert.deepEqual(refused, {
    type: 'recomputedCell',
    runId: 'run-1',
    result: { comparison: 'nets', layerA: 'a1', layerB: 'b2', exclude: [0, 4], value: null, stderr: null, examples: 0, error: "comparison 'nets' has no layer 'a1' of model 'a' (it has: x)" },
  });
  const noImages = await answerDrillDown(thumbnails, 'run-1', trusted);
  assert.deepEqual(noImages, { type: 'exampleThumbnails', runId: 'run-1', comparison: 'nets', thumbnails: [], error: "comparison 'nets' has no layer 'a1' of model 'a' (it has: x)" });

  const server = fakeServer();
  const untrusted = await answerDrillDown(recompute, 'run-1', { isTrusted: () => false, connection: () => server.connection as never });
  assert.match((untrusted as Extract<HostMessage, { type: 'recomputedCell' }>).result.error ?? '', /cannot recompute cells in an untrusted workspace/);
  const untrustedImages = await answerDrillDown(thumbnails, 'run-1', { isTrusted: () => false, connection: () => server.connection as never });
  assert.match((untrustedImages as Extract<HostMessage, { type: 'exampleThumbnails' }>).error ?? '', /cannot show example images in an untrusted workspace/);
  const gone = await answerDrillDown(thumbnails, 'run-1', { isTrusted: () => true, connection: () => undefined });
  assert.match((gone as Extract<HostMessage, { type: 'exampleThumbnails' }>).error ?? '', /compute server that ran run-1 is no longer running/);
  const other = await answerDrillDown({ ...recompute, runId: 'run-2' }, 'run-1', { isTrusted: () => true, connection: () => server.connection as never });
  assert.match((other as Extract<HostMessage, { type: 'recomputedCell' }>).result.error ?? '', /run-1: ignored a request about another run \("run-2"\)/);
  assert.equal(server.requests.length, 0, 'nothing reached the server');
});


test('the panel forwards the webview’s drill-down messages and posts the answers back', async () => {
  const vscode = fakeVscode();
  await withFakeVscode(vscode, async () => {
    const { ResultsPanel } = require('../../src/extension/panel/resultsPanel.ts') as typeof import('../../src/extension/panel/resultsPanel.js');
    const { connection, requests } = fakeServer();
    const errors: string[] = [];
    const host = {
      extensionUri: vscode.Uri.file('/ext'),
      log: { warn: () => undefined, error: (m: string) => errors.push(m), info: () => undefined },
      snapshotFor: async () => undefined,
      cancel: async () => undefined,
      exportFile: async () => undefined,
      drillDown: { isTrusted: () => true, connection: () => connection },
      disposed: () => undefined,
    };
    const { panel, posted, send } = fakePanel();
    new ResultsPanel(panel as never, 'run-1', host as never);
    send(thumbnails);
    send(recompute);
    send({ ...recompute, exclude: [-1] }); // not a drill-down message: ignored by the guard
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(requests.length, 2);
    assert.deepEqual(
      posted.map((m) => (m as HostMessage).type),
      ['exampleThumbnails', 'recomputedCell'],
    );
    assert.deepEqual((posted[0] as Extract<HostMessage, { type: 'exampleThumbnails' }>).thumbnails, [THUMBNAIL]);
    assert.equal((posted[1] as Extract<HostMessage, { type: 'recomputedCell' }>).result.value, 0.5);
    assert.deepEqual(errors, []);
  });
});
