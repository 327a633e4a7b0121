/**
 * Starting and cancelling runs: the Run request (starting the server when needed), a results
 * panel per run, a cancellable progress notification while it goes, and a message if it fails.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { Cancel, Run, type RunInfo } from '../../protocol/index.js';
import type { ResultsPanels } from '../panel/resultsPanels.js';
import { serverErrorMessage } from '../server/serverErrors.js';
import type { ComputeServerClient } from '../server/serverClient.js';
import { progressMessage } from './progressText.js';
import type { RunTracker } from './runTracker.js';

export class RunLauncher {
  constructor(
    private readonly client: ComputeServerClient,
    private readonly tracker: RunTracker,
    private readonly panels: ResultsPanels,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Queues one experiment of a file (all of them without a name); returns the runs. */
  async start(filePath: string, experiment?: string): Promise<RunInfo[]> {
    const connection = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'RepSim: starting the compute server' },
      () => this.client.connection({ userInitiated: true }),
    );
    let runs: RunInfo[];
    try {
      // Relative outputs may go anywhere inside the file's workspace folder.
      const workspaceFolder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(filePath))?.uri.fsPath;
      ({ runs } = await connection.sendRequest(Run, { filePath, experiment, workspaceFolder }));
    } catch (error) {
      // The server refuses a file it cannot run (invalid, unknown experiment, missing model) with a readable message.
      throw new Error(`cannot run ${experiment ? `'${experiment}' of ` : ''}${basename(filePath)}: ${serverErrorMessage(error, filePath)}`);
    }
    this.tracker.register(runs);
    runs.forEach((run, i) => {
      this.log.info(`${run.runId}: ${run.experiment} (${basename(filePath)}) ${run.status}`);
      // Open each run's panel; focus stays in the editor for all but the first.
      this.panels.show(run.runId, { preserveFocus: i > 0 });
      this.showProgress(run);
    });
    return runs;
  }

  async cancel(runId: string): Promise<boolean> {
    const connection = this.client.runningConnection;
    if (!connection) return false;
    const { cancelled } = await connection.sendRequest(Cancel, { runId });
    if (cancelled) this.log.info(`${runId}: cancel requested`);
    return cancelled;
  }

  private showProgress(run: RunInfo): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `RepSim: ${run.experiment}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => void this.cancel(run.runId).catch(() => undefined));
        let last = '';
        const report = () => {
          const tracked = this.tracker.get(run.runId);
          const message = tracked?.info.status === 'queued' ? 'queued behind another run' : progressMessage(tracked?.progress);
          if (message !== last) progress.report({ message: (last = message) });
        };
        report();
        const subscription = this.tracker.onDidChange((changed) => changed.info.runId === run.runId && report());
        try {
          const end = await this.tracker.whenEnded(run.runId);
          if (end.status === 'failed') {
            void vscode.window.showErrorMessage(`RepSim: ${run.experiment} failed: ${end.error ?? 'unknown error'}`, 'Show Log').then((choice) => choice && this.log.show());
          } else if (end.status === 'cancelled') {
            void vscode.window.setStatusBarMessage(`RepSim: ${run.experiment} cancelled`, 5000);
          } else {
            void vscode.window.setStatusBarMessage(`RepSim: ${run.experiment} done`, 5000);
          }
        } finally {
          subscription.dispose();
        }
      },
    );
  }
}
