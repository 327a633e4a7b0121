/**
 * A crash loop as the extension lives it: the real compute server, killed again and again, is
 * restarted with back-off, then left stopped, and the user is told what happened (the exit,
 * how many times) with a button to the log. `vscode` is faked (only what serverSession touches).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';
import type { LaunchedServer, LaunchOptions } from '../../src/server/launcher.js';
import { RunTracker } from '../../src/extension/runs/runTracker.js';
import { ServerUnavailableError } from '../../src/extension/server/serverClient.js';

const until = async (what: string, condition: () => boolean, timeoutMs = 30_000) => {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

test('a server that keeps crashing is restarted with back-off, then given up on, and the user is told', async () => {
  const shown: { level: string; message: string; actions: string[] }[] = [];
  const logged: string[] = [];
  let logShown = 0;
  const message = (level: string) => (text: string, ...actions: string[]) => {
    shown.push({ level, message: text, actions });
    return Promise.resolve(level === 'error' ? 'Show Log' : undefined);
  };
  const vscode = {
    window: { showWarningMessage: message('warning'), showErrorMessage: message('error'), showInformationMessage: message('info') },
    workspace: { getConfiguration: () => ({ get: () => undefined }), workspaceFolders: undefined },
  };
  const { launchServer } = require('../../src/server/launcher.ts') as typeof import('../../src/server/launcher.js');
  const launched: LaunchedServer[] = [];
  const launcher = { launchServer: async (options: LaunchOptions) => launched[launched.push(await launchServer({ ...options, backend: (process.env.REPSIM_TEST_BACKEND ?? 'auto') as never })) - 1] };
  const moduleWithLoad = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = moduleWithLoad._load;
  moduleWithLoad._load = (request: string, ...rest: unknown[]) => (request === 'vscode' ? vscode : /server\/launcher(\.js|\.ts)?$/.test(request) ? launcher : load(request, ...rest));
  try {
    const { createServerSession } = require('../../src/extension/server/serverSession.ts') as typeof import('../../src/extension/server/serverSession.js');
    const log = {
      info: (m: string) => logged.push(`info: ${m}`),
      warn: (m: string) => logged.push(`warn: ${m}`),
      error: (m: string) => logged.push(`error: ${m}`),
      show: () => void logShown++,
    };
    const client = createServerSession(log as never, new RunTracker());
    try {
      await client.connection();
      for (let crash = 1; crash <= 3; crash++) {
        await until(`server ${crash}`, () => launched.length === crash && client.state.kind === 'running');
        launched[crash - 1].process.kill('SIGKILL');
        await until(`crash ${crash} reported`, () => shown.length === crash);
      }
      await until('gave up', () => client.state.kind === 'gave-up');
      await new Promise((resolve) => setTimeout(resolve, 1500)); // longer than the first back-off
      assert.equal(launched.length, 3, 'no fourth start after giving up');
      assert.deepEqual(shown.map((s) => s.level), ['warning', 'warning', 'error']);
      assert.match(shown[0].message, /stopped unexpectedly \(signal SIGKILL\); restarting it in \d+ s/);
      assert.match(shown[2].message, /stopped unexpectedly \(signal SIGKILL\), 3 times in a short while; it will not be restarted until you run something again/);
      assert.deepEqual(shown[2].actions, ['Show Log']);
      await until('the log shown', () => logShown === 1);
      assert.equal(logged.filter((l) => /^error: the compute server stopped unexpectedly \(signal SIGKILL\)$/.test(l)).length, 3, logged.join('\n'));
      // Background work does not start it again; a command the user runs does.
      await assert.rejects(client.connection({ userInitiated: false }), ServerUnavailableError);
      await client.connection({ userInitiated: true });
      assert.equal(client.state.kind, 'running');
      assert.equal(launched.length, 4);
    } finally {
      await client.dispose();
    }
  } finally {
    moduleWithLoad._load = load;
  }
});
