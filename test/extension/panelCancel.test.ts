/**
 * A results panel's Cancel cancels that panel's run only: the webview's message is untrusted, and
 * a `cancel` naming another run id is refused. The panel runs against a minimal stand-in for the
 * `vscode` module (only what ResultsPanel touches).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';

type Listener = (value: unknown) => void;

function fakeVscode() {
  const uri = (path: string) => ({ path, toString: () => `vscode-resource:${path}` });
  return {
    Uri: { joinPath: (base: { path: string }, ...parts: string[]) => uri([base.path, ...parts].join('/')), file: uri },
    window: { showErrorMessage: async () => undefined },
  };
}

function fakePanel() {
  const listeners: Listener[] = [];
  const panel = {
    title: 'RepSim',
    visible: true,
    webview: {
      options: {},
      html: '',
      cspSource: 'vscode-resource:',
      asWebviewUri: (u: unknown) => u,
      onDidReceiveMessage: (listener: Listener) => (listeners.push(listener), { dispose() {} }),
      postMessage: async () => true,
    },
    onDidChangeViewState: () => ({ dispose() {} }),
    onDidDispose: () => ({ dispose() {} }),
    dispose() {},
  };
  return { panel, send: (message: unknown) => listeners.forEach((l) => l(message)) };
}

test("the webview's cancel reaches the server only for its own panel's run", async () => {
  const vscode = fakeVscode();
  const moduleWithLoad = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = moduleWithLoad._load;
  moduleWithLoad._load = (request: string, ...rest: unknown[]) => (request === 'vscode' ? vscode : load(request, ...rest));
  try {
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
  } finally {
    moduleWithLoad._load = load;
  }
});
