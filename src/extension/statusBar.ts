/**
 * The status bar item: the compute server's backend when idle, the current run's progress
 * (percentage, ETA) while one goes; hidden until the server first starts. Clicking it shows
 * the results panel.
 */
import * as vscode from 'vscode';
import { progressSummary, phaseName } from './runs/progressText.js';
import type { RunTracker } from './runs/runTracker.js';
import { computeBackendDescription, computeBackendLabel } from './server/backendText.js';
import type { ComputeServerClient } from './server/serverClient.js';

export const SHOW_PANEL_COMMAND = 'repsim.showPanel';

export class RepSimStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('repsim.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly client: ComputeServerClient,
    private readonly tracker: RunTracker,
  ) {
    this.item.name = 'RepSim';
    this.item.command = SHOW_PANEL_COMMAND;
    this.subscriptions.push(client.onDidChangeState(() => this.update()), tracker.onDidChange(() => this.update()));
    this.update();
  }

  private update(): void {
    const state = this.client.state;
    const run = this.tracker.current();
    const info = this.client.info?.backend;
    const backend = info ? computeBackendLabel(info) : undefined;
    this.item.backgroundColor = undefined;
    if (run) {
      const summary = progressSummary(run.progress);
      const phase = run.info.status === 'queued' ? 'queued' : run.progress ? phaseName(run.progress.phase) : 'starting';
      this.item.text = `$(sync~spin) RepSim ${summary || phase}`;
      this.item.tooltip = `${run.info.experiment}: ${run.progress?.label ?? phase}${backend ? `\nbackend: ${backend}` : ''}\nClick to show the results panel`;
    } else if (state.kind === 'gave-up') {
      this.item.text = '$(error) RepSim';
      this.item.tooltip = 'The compute server crashed repeatedly and was not restarted. Run an experiment to start it again.';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else if (state.kind === 'starting' || state.kind === 'restarting') {
      this.item.text = '$(loading~spin) RepSim';
      this.item.tooltip = 'Starting the compute server…';
    } else if (backend) {
      this.item.text = `$(graph) RepSim: ${backend}`;
      this.item.tooltip = `${computeBackendDescription(info!)}\nClick to show the results panel`;
    } else if (this.tracker.all().length > 0) {
      this.item.text = '$(graph) RepSim';
      this.item.tooltip = 'The compute server is stopped; it starts with the next run or check';
    } else {
      // Nothing started yet (the extension also activates for any JSONC file): stay out of the way.
      this.item.hide();
      return;
    }
    this.item.show();
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.item.dispose();
  }
}

