/**
 * A results panel's Cancel cancels that panel's run only: the webview's message is untrusted, and
 * a `cancel` naming another run id is refused. The panel runs against a minimal stand-in for the
 * `vscode` module (only what ResultsPanel touches).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakePanel, fakeVscode, withFakeVscode } from '../helpers/fakeVscodePanel.js';

test("the webview's cancel reaches the server only for its own panel's run", async () => {
  const vscode = fakeVscode();
  await withFakeVscode(vscode, async () => {
    const { ResultsPanel } = require('../../src/extension/panel/resultsPanel.ts') as typeof import('../../src/extension/panel/resultsPanel.js');
    const cancelled: string[] = [];
    const warnings: string[] = [];
    const host = {
      extensionUri: vscode.Uri.file('/ext'),
      log: { warn: (m: string) => warnings.push(m), error: () => undefined, info: () => undefined },
      snapshotFor: async () => undefined,
      cancel: async (runId: string) => void cancelled.push(runId),
      exportFile: async () => undefined,
      disposed: () => undefined,
    };
    const { panel, send } = fakePanel();
    new ResultsPanel(panel as never, 'run-1', host as never);
    send({ type: 'cancel', runId: 'run-2' }); // another panel's run
    send({ type: 'cancel', runId: 'run-1' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(cancelled, ['run-1']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /run-1: ignored a request to cancel another run \("run-2"\)/);
  });
});
