/**
 * The VS Code side of RepSim. The compute runs in its own process (src/server), started on
 * first use; this host starts it, shows what it says (panel, status bar, progress, log), and
 * puts experiment files to work (CodeLens, diagnostics). Each part lives in its own module.
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands/registerCommands.js';
import { EXPERIMENT_FILE_SELECTOR, ExperimentCodeLensProvider } from './experimentFile/codeLensProvider.js';
import { ExperimentDiagnostics } from './experimentFile/diagnostics.js';
import { RESULTS_VIEW_TYPE } from './panel/resultsPanel.js';
import { ResultsPanels } from './panel/resultsPanels.js';
import { RunEndRecord } from './panel/restoreSnapshot.js';
import { RunLauncher } from './runs/runLauncher.js';
import { RunTracker } from './runs/runTracker.js';
import { currentSettings, createServerSession } from './server/serverSession.js';
import type { ComputeServerClient } from './server/serverClient.js';
import { SERVER_SETTINGS, SETTINGS_SECTION } from './settings.js';
import { RepSimStatusBar } from './statusBar.js';
import { TrustGate } from './trust.js';

/** What `activate` returns: used by the extension's own tests in a real VS Code. */
export interface RepSimApi {
  readonly testing: {
    readonly serializerRegistered: boolean;
    setTrustOverride(trusted: boolean | undefined): void;
    serverState(): string;
    serverPid(): number | undefined;
    validateNow(uri: vscode.Uri): Promise<void>;
    openPanels(): number;
  };
}

let client: ComputeServerClient | undefined;

export function activate(context: vscode.ExtensionContext): RepSimApi {
  const log = vscode.window.createOutputChannel('RepSim', { log: true });
  log.info(`RepSim ${context.extension.packageJSON.version} activated (${vscode.workspace.isTrusted ? 'trusted' : 'untrusted'} workspace)`);
  const trust = new TrustGate(() => vscode.workspace.isTrusted);
  const tracker = new RunTracker();
  const server = createServerSession(log, tracker);
  client = server;

  let launcher: RunLauncher | undefined;
  const panels = new ResultsPanels(
    context.extensionUri,
    tracker,
    server,
    log,
    trust,
    async (runId) => {
      await launcher?.cancel(runId);
    },
    new RunEndRecord(context.workspaceState),
  );
  launcher = new RunLauncher(server, tracker, panels, log);
  const codeLens = new ExperimentCodeLensProvider(tracker);
  const diagnostics = new ExperimentDiagnostics(server, trust, log);

  context.subscriptions.push(
    log,
    { dispose: () => tracker.dispose() },
    panels,
    vscode.window.registerWebviewPanelSerializer(RESULTS_VIEW_TYPE, panels),
    codeLens,
    vscode.languages.registerCodeLensProvider(EXPERIMENT_FILE_SELECTOR, codeLens),
    diagnostics,
    new RepSimStatusBar(server, tracker),
    ...registerCommands({ trust, launcher, tracker, panels, log, settings: currentSettings }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (SERVER_SETTINGS.some((key) => event.affectsConfiguration(`${SETTINGS_SECTION}.${key}`))) restartForSettings(server, tracker, log);
    }),
  );

  return {
    testing: {
      serializerRegistered: true,
      setTrustOverride: (trusted) => trust.setOverride(trusted),
      serverState: () => server.state.kind,
      serverPid: () => server.pid,
      validateNow: async (uri) => diagnostics.validate(await vscode.workspace.openTextDocument(uri)),
      openPanels: () => panels.count,
    },
  };
}

/** New backend, data or cache settings take effect with a new server: now if idle, else after the runs. */
function restartForSettings(server: ComputeServerClient, tracker: RunTracker, log: vscode.LogOutputChannel): void {
  const restart = () => server.restart().catch((error: Error) => log.error(`restart with the new settings failed: ${error.message}`));
  if (server.state.kind !== 'running' && server.state.kind !== 'starting') return;
  if (tracker.active().length === 0) {
    log.info('settings changed: restarting the compute server');
    void restart();
    return;
  }
  void vscode.window.showInformationMessage('RepSim: the new settings apply once the current run ends (the compute server restarts then).');
  const subscription = tracker.onDidEnd(() => {
    if (tracker.active().length > 0) return;
    subscription.dispose();
    void restart();
  });
}

export async function deactivate(): Promise<void> {
  await client?.dispose();
  client = undefined;
}
