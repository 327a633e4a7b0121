import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageConnection } from 'vscode-jsonrpc';
import { RunStatusChanged, type InitializeResult } from '../../src/protocol/index.js';
import type { LaunchedServer, LaunchOptions } from '../../src/server/launcher.js';
import { CrashBackoff } from '../../src/extension/server/crashBackoff.js';
import { ComputeServerClient, ServerUnavailableError, type CrashReport, type ServerState } from '../../src/extension/server/serverClient.js';
import { ServerLogMerger, type LogLevel } from '../../src/extension/server/serverLogMerger.js';
import { serverErrorMessage } from '../../src/extension/server/serverErrors.js';

test('back-off: growing delays, then give up after a few crashes in the window; old crashes are forgotten', () => {
  const backoff = new CrashBackoff({ maxCrashes: 3, windowMs: 60_000, initialDelayMs: 1000, maxDelayMs: 1500 });
  assert.deepEqual(backoff.recordCrash(0), { action: 'restart', delayMs: 1000, crashesInWindow: 1 });
  assert.deepEqual(backoff.recordCrash(10_000), { action: 'restart', delayMs: 1500, crashesInWindow: 2 });
  assert.deepEqual(backoff.recordCrash(20_000), { action: 'give-up', crashesInWindow: 3 });
  backoff.reset();
  assert.deepEqual(backoff.recordCrash(30_000), { action: 'restart', delayMs: 1000, crashesInWindow: 1 });
  // Crashes far apart never add up to giving up.
  for (let t = 200_000; t < 2_000_000; t += 100_000) assert.equal(backoff.recordCrash(t).action, 'restart');
});

const INFO = { protocolVersion: 1, serverVersion: 'test', backend: { name: 'cpu' }, capabilities: { measures: [], estimators: [], kernels: [] } } as unknown as InitializeResult;

interface FakeServer extends LaunchedServer {
  crash(code: number): void;
  readonly stopped: boolean;
  readonly handlers: Map<string, (params: unknown) => void>;
}

function fakeServer(): FakeServer {
  let exit!: (value: { code: number | null; signal: NodeJS.Signals | null }) => void;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => (exit = resolve));
  const handlers = new Map<string, (params: unknown) => void>();
  let stopped = false;
  const connection = {
    onNotification: (type: { method: string }, handler: (params: unknown) => void) => handlers.set(type.method, handler),
    dispose: () => undefined,
  } as unknown as MessageConnection;
  return {
    connection,
    info: INFO,
    process: undefined as never,
    exited,
    handlers,
    get stopped() {
      return stopped;
    },
    crash: (code) => exit({ code, signal: null }),
    async stop() {
      stopped = true;
      exit({ code: 0, signal: null });
    },
  };
}

function harness(options: { failLaunch?: () => boolean } = {}) {
  const launched: FakeServer[] = [];
  const launchOptions: LaunchOptions[] = [];
  const states: ServerState['kind'][] = [];
  const crashes: CrashReport[] = [];
  const lost: string[] = [];
  let backend: 'cpu' | 'wasm' = 'cpu';
  const client = new ComputeServerClient({
    launch: async (opts) => {
      launchOptions.push(opts);
      if (options.failLaunch?.()) throw new Error('the compute server exited during start-up (code 1)');
      const server = fakeServer();
      launched.push(server);
      return server;
    },
    settings: () => ({ backend }),
    onStderr: () => undefined,
    backoff: new CrashBackoff({ maxCrashes: 3, windowMs: 60_000, initialDelayMs: 5, maxDelayMs: 20 }),
  });
  client.onDidChangeState((s) => states.push(s.kind));
  client.onDidCrash((c) => crashes.push(c));
  client.onDidLoseServer((reason) => lost.push(reason));
  return { client, launched, launchOptions, states, crashes, lost, setBackend: (b: 'cpu' | 'wasm') => (backend = b) };
}

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

test('the server starts lazily, once, however many ask at the same time', async () => {
  const h = harness();
  assert.equal(h.client.state.kind, 'stopped');
  assert.equal(h.launched.length, 0);
  const [a, b] = await Promise.all([h.client.connection(), h.client.connection()]);
  assert.equal(a, b);
  assert.equal(h.launched.length, 1);
  assert.equal(h.client.info?.serverVersion, 'test');
  assert.deepEqual(h.states, ['starting', 'running']);
  await h.client.dispose();
  assert.equal(h.launched[0].stopped, true);
});

test('notification handlers are attached to every new connection', async () => {
  const h = harness();
  const seen: unknown[] = [];
  h.client.onNotification(RunStatusChanged, (info) => seen.push(info));
  await h.client.connection();
  h.launched[0].handlers.get(RunStatusChanged.method)!({ runId: 'r1' });
  h.launched[0].crash(1);
  await tick(30);
  assert.equal(h.launched.length, 2, 'restarted after the crash');
  h.launched[1].handlers.get(RunStatusChanged.method)!({ runId: 'r2' });
  assert.deepEqual(seen, [{ runId: 'r1' }, { runId: 'r2' }]);
  await h.client.dispose();
});

test('crashes restart the server with back-off, then it gives up; a user action starts it again', async () => {
  const h = harness();
  await h.client.connection();
  for (let i = 0; i < 2; i++) {
    h.launched[i].crash(134);
    await tick();
    assert.equal(h.client.state.kind, 'restarting');
    await tick(30);
    assert.equal(h.client.state.kind, 'running');
  }
  h.launched[2].crash(134);
  await tick(30);
  assert.equal(h.client.state.kind, 'gave-up');
  assert.equal(h.launched.length, 3);
  assert.deepEqual(
    h.crashes.map((c) => c.decision.action),
    ['restart', 'restart', 'give-up'],
  );
  assert.match(h.lost[0], /stopped unexpectedly \(exit code 134\)/);
  // Background work does not revive it; a command does.
  await assert.rejects(h.client.connection({ userInitiated: false }), ServerUnavailableError);
  await h.client.connection({ userInitiated: true });
  assert.equal(h.client.state.kind, 'running');
  assert.equal(h.launched.length, 4);
  await h.client.dispose();
});

test('a restart that cannot start counts as another crash', async () => {
  let failing = false;
  const h = harness({ failLaunch: () => failing });
  await h.client.connection();
  failing = true;
  h.launched[0].crash(1);
  await tick(100);
  assert.equal(h.client.state.kind, 'gave-up');
  assert.equal(h.crashes.length, 3);
  assert.match(h.crashes[1].error ?? '', /exited during start-up/);
  await h.client.dispose();
});

test('a failed first start rejects the caller and leaves the client able to try again', async () => {
  let failing = true;
  const h = harness({ failLaunch: () => failing });
  await assert.rejects(h.client.connection(), /exited during start-up/);
  assert.equal(h.client.state.kind, 'stopped');
  failing = false;
  await h.client.connection();
  assert.equal(h.client.state.kind, 'running');
  await h.client.dispose();
});

test('restart() picks up new settings; stopping on purpose is not a crash', async () => {
  const h = harness();
  await h.client.restart(); // not started: nothing to do
  assert.equal(h.launched.length, 0);
  await h.client.connection();
  h.setBackend('wasm');
  await h.client.restart();
  assert.equal(h.launched.length, 2);
  assert.equal(h.launched[0].stopped, true);
  assert.equal(h.launchOptions[1].backend, 'wasm');
  assert.deepEqual(h.lost, ['the compute server was restarted']);
  await tick(20);
  assert.equal(h.crashes.length, 0);
  await h.client.dispose();
  assert.equal(h.launched[1].stopped, true);
  await assert.rejects(h.client.connection(), /shutting down/);
});

test('the log merger shows each run message once, at the notification level, however late the notification', () => {
  const lines: [LogLevel, string][] = [];
  const merger = new ServerLogMerger((level, message) => lines.push([level, message]));
  merger.stderrLine('[repsim-server] started (pid 1)');
  merger.stderrLine('[repsim-server] run-abc-1: training resnet-8');
  merger.stderrLine('[repsim-server] run-abc-1: cka undefined for layer x');
  merger.stderrLine('[repsim-server] run-abc-1: Error: boom');
  merger.stderrLine('    at somewhere');
  merger.stderrLine('[repsim-server] backend: wasm');
  assert.deepEqual(lines, [
    ['info', 'started (pid 1)'],
    ['info', 'backend: wasm'],
  ]);
  // The notifications come later (the server was busy).
  merger.notification('info', 'training resnet-8', 'run-abc-1');
  merger.notification('warning', 'cka undefined for layer x', 'run-abc-1');
  // A notification before its stderr copy: the copy is dropped.
  merger.notification('info', 'results in /x', 'run-abc-1');
  merger.stderrLine('[repsim-server] run-abc-1: results in /x');
  merger.runEnded('run-abc-1');
  merger.runEnded('run-abc-1');
  assert.deepEqual(lines.slice(2), [
    ['info', 'run-abc-1: training resnet-8'],
    ['warning', 'run-abc-1: cka undefined for layer x'],
    ['info', 'run-abc-1: results in /x'],
    ['info', 'run-abc-1: Error: boom'],
    ['info', '    at somewhere'],
  ]);
  merger.stderrLine('[repsim-server] run-abc-2: left over');
  merger.flush();
  assert.deepEqual(lines.at(-1), ['info', 'run-abc-2: left over']);
});

test('server errors read as the server wrote them', () => {
  const error = new Error("Request repsim/run failed with message: /w/a.repsim.json: experiments[0].comparisons[0].b: unknown model 'x'");
  assert.equal(serverErrorMessage(error, '/w/a.repsim.json'), "experiments[0].comparisons[0].b: unknown model 'x'");
  assert.equal(serverErrorMessage(error), "/w/a.repsim.json: experiments[0].comparisons[0].b: unknown model 'x'");
  assert.equal(serverErrorMessage('plain'), 'plain');
});
