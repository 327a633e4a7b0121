/**
 * Stand-ins for the parts of `vscode` a results panel touches, for panel tests that run without
 * VS Code: a fake webview panel that records what is posted to it and lets a test send webview
 * messages, and `withFakeVscode`, which loads modules with `require('vscode')` answered by the fake.
 */
import Module from 'node:module';

type Listener = (value: unknown) => void;

export function fakeVscode() {
  const uri = (path: string) => ({ path, toString: () => `vscode-resource:${path}` });
  return {
    Uri: { joinPath: (base: { path: string }, ...parts: string[]) => uri([base.path, ...parts].join('/')), file: uri },
    window: { showErrorMessage: async () => undefined },
  };
}

export function fakePanel() {
  const listeners: Listener[] = [];
  const posted: unknown[] = [];
  const panel = {
    title: 'RepSim',
    visible: true,
    webview: {
      options: {},
      html: '',
      cspSource: 'vscode-resource:',
      asWebviewUri: (u: unknown) => u,
      onDidReceiveMessage: (listener: Listener) => (listeners.push(listener), { dispose() {} }),
      postMessage: async (message: unknown) => (posted.push(message), true),
    },
    onDidChangeViewState: () => ({ dispose() {} }),
    onDidDispose: () => ({ dispose() {} }),
    dispose() {},
  };
  return { panel, posted, send: (message: unknown) => listeners.forEach((l) => l(message)) };
}

/** Runs `body` with `require('vscode')` answered by `vscode` (restored afterwards). */
export async function withFakeVscode<T>(vscode: ReturnType<typeof fakeVscode>, body: () => Promise<T>): Promise<T> {
  const moduleWithLoad = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = moduleWithLoad._load;
  moduleWithLoad._load = (request: string, ...rest: unknown[]) => (request === 'vscode' ? vscode : load(request, ...rest));
  try {
    return await body();
  } finally {
    moduleWithLoad._load = load;
  }
}
