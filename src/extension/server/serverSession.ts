/**
 * The compute server wired into VS Code: launched with the settings, its log in the output
 * channel, its notifications fed to the run tracker, crashes reported to the user.
 */
import * as vscode from 'vscode';
import { ComparisonDone, Done, Failed, Log, PartialResult, Progress, RunStatusChanged, Training } from '../../protocol/index.js';
import { launchServer } from '../../server/launcher.js';
import type { RunTracker } from '../runs/runTracker.js';
import { resolveSettings, SETTINGS_SECTION, type ResolvedSettings } from '../settings.js';
import { computeBackendDescription } from './backendText.js';
import { ComputeServerClient, describeExit } from './serverClient.js';
import { ServerLogMerger } from './serverLogMerger.js';

export function currentSettings(): ResolvedSettings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return resolveSettings(
    {
      backend: config.get('backend'),
      dataDirectory: config.get('dataDirectory'),
      cacheDirectory: config.get('cacheDirectory'),
      defaultBatchSize: config.get('defaultBatchSize'),
      defaultPasses: config.get('defaultPasses'),
    },
    folder?.scheme === 'file' ? folder.fsPath : undefined,
  );
}

export function createServerSession(log: vscode.LogOutputChannel, tracker: RunTracker): ComputeServerClient {
  const merger = new ServerLogMerger((level, message) => {
    if (level === 'error') log.error(message);
    else if (level === 'warning') log.warn(message);
    else log.info(message);
  });
  tracker.onDidEnd(({ runId, status, error }) => {
    merger.runEnded(runId);
    const experiment = tracker.get(runId)?.info.experiment ?? '';
    if (status === 'failed') log.error(`${runId}: ${experiment} failed: ${error ?? 'unknown error'}`);
    else log.info(`${runId}: ${experiment} ${status}`);
  });
  const client = new ComputeServerClient({
    launch: launchServer,
    settings: () => {
      const { backend, dataDirectory, cacheDirectory } = currentSettings();
      log.info(`starting the compute server (backend ${backend}${cacheDirectory ? `, cache ${cacheDirectory}` : ''}${dataDirectory ? `, data ${dataDirectory}` : ''})`);
      // In desktop VS Code process.execPath is Electron: this makes it behave as Node.
      return { backend, dataDirectory, cacheDirectory, env: { ELECTRON_RUN_AS_NODE: '1' } };
    },
    onStderr: (line) => merger.stderrLine(line),
  });

  client.onNotification(RunStatusChanged, (info) => tracker.status(info));
  client.onNotification(Progress, ({ runId, progress }) => tracker.progress(runId, progress));
  client.onNotification(PartialResult, ({ runId, comparison, a, b, cka }) => tracker.partial(runId, comparison, a, b, cka));
  client.onNotification(ComparisonDone, ({ runId, result }) => tracker.comparison(runId, result));
  client.onNotification(Training, ({ runId, metrics }) => tracker.training(runId, metrics));
  client.onNotification(Done, ({ runId, snapshot }) => tracker.done(runId, snapshot));
  client.onNotification(Failed, ({ runId, error, cancelled, snapshot }) => tracker.failed(runId, error, cancelled, snapshot));
  client.onNotification(Log, ({ level, message, runId }) => merger.notification(level, message, runId));

  client.onDidChangeState((state) => {
    if (state.kind === 'running') log.info(`compute server ${state.info.serverVersion} ready: ${computeBackendDescription(state.info.backend).replace('\n', '; ')}`);
  });
  client.onDidLoseServer((reason) => {
    merger.flush();
    tracker.serverLost(reason);
  });
  client.onDidCrash(({ exit, error, decision }) => {
    const what = error ? `could not be restarted (${error})` : `stopped unexpectedly (${describeExit(exit)})`;
    log.error(`the compute server ${what}`);
    const message =
      decision.action === 'restart'
        ? `The RepSim compute server ${what}; restarting it in ${Math.round(decision.delayMs / 1000)} s. Runs in progress were stopped.`
        : `The RepSim compute server ${what}, ${decision.crashesInWindow} times in a short while; it will not be restarted until you run something again.`;
    const show = decision.action === 'restart' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
    void show(message, 'Show Log').then((choice) => choice && log.show());
  });
  return client;
}
