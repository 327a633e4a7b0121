/**
 * All results panels, one per run: opens or reveals them beside the editor, forwards each
 * run's updates to its panel, saves exports, and restores panels after a reload (the webview
 * saved its snapshot in its state; a run that was live then is gone with the old server).
 */
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { GetResults, type RunSnapshot } from '../../protocol/index.js';
import type { ComputeServerClient } from '../server/serverClient.js';
import type { TrustGate } from '../trust.js';
import { isFinished, placeholderSnapshot, type RunTracker } from '../runs/runTracker.js';
import { decodeExport, type ExportRequest } from './exportFile.js';
import { isSnapshotLike } from './resultsFile.js';
import { restoredSnapshot, type RunEndRecord } from './restoreSnapshot.js';
import { panelOptions, panelTitle, RESULTS_VIEW_TYPE, ResultsPanel, type ResultsPanelHost } from './resultsPanel.js';

export class ResultsPanels implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly panels = new Map<string, ResultsPanel>();
  private lastActive: ResultsPanel | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly host: ResultsPanelHost;

  constructor(
    extensionUri: vscode.Uri,
    private readonly tracker: RunTracker,
    private readonly client: ComputeServerClient,
    log: vscode.LogOutputChannel,
    trust: TrustGate,
    cancel: (runId: string) => Promise<void>,
    /** How runs ended, for panels restored after a reload (absent: not recorded). */
    private readonly runEnds?: RunEndRecord,
  ) {
    this.host = {
      extensionUri,
      log,
      snapshotFor: (runId) => this.snapshotFor(runId),
      cancel,
      exportFile: (request, snapshot) => this.exportFile(request, snapshot),
      // Only the server that ran a run knows it: none is started for a drill-down.
      drillDown: { isTrusted: () => trust.isTrusted, connection: () => client.runningConnection },
      disposed: (panel) => {
        if (this.panels.get(panel.runId) === panel) this.panels.delete(panel.runId);
        if (this.lastActive === panel) this.lastActive = undefined;
      },
    };
    this.subscriptions.push(tracker.onHostMessage(({ runId, message }) => this.panels.get(runId)?.post(message)));
    this.subscriptions.push(tracker.onDidEnd(({ runId, status, error }) => void runEnds?.record(runId, { status, error, finishedAt: new Date().toISOString() })));
  }

  get count(): number {
    return this.panels.size;
  }

  /** Opens (or reveals) the panel of a run, beside the active editor. */
  show(runId: string, options: { readonly snapshot?: RunSnapshot; readonly preserveFocus?: boolean } = {}): ResultsPanel {
    const existing = this.panels.get(runId);
    if (existing) {
      if (options.snapshot) existing.showSnapshot(options.snapshot);
      existing.reveal(options.preserveFocus);
      return existing;
    }
    const experiment = options.snapshot?.experiment ?? this.tracker.get(runId)?.info.experiment;
    // Beside the editor; once results panels are open, new ones join them rather than add a column each.
    const viewColumn = (this.lastActive ?? [...this.panels.values()].pop())?.panel.viewColumn ?? vscode.ViewColumn.Beside;
    const panel = vscode.window.createWebviewPanel(RESULTS_VIEW_TYPE, panelTitle(experiment), { viewColumn, preserveFocus: options.preserveFocus ?? false }, panelOptions(this.host.extensionUri));
    return this.adopt(panel, runId, options.snapshot);
  }

  /** The panel the status bar opens: the current run's, else the last one looked at. */
  revealCurrent(): boolean {
    const current = this.tracker.current();
    if (current) {
      this.show(current.info.runId);
      return true;
    }
    const panel = this.lastActive ?? [...this.panels.values()].pop();
    if (panel) panel.reveal();
    else {
      const latest = this.tracker.finished().pop();
      if (!latest) return false;
      this.show(latest.info.runId, { snapshot: latest.snapshot });
    }
    return true;
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const saved = (state as { snapshot?: unknown } | undefined)?.snapshot;
    if (!isSnapshotLike(saved)) {
      // Nothing to show (the webview never received a run): a blank panel helps nobody.
      panel.dispose();
      return;
    }
    const tracked = this.tracker.get(saved.runId);
    // Live only if this extension host knows the run; otherwise it ended, or died with the previous host.
    const snapshot = tracked && !isFinished(tracked.info.status) ? saved : (tracked?.snapshot ?? (await restoredSnapshot(saved, this.runEnds?.get(saved.runId))));
    panel.title = panelTitle(snapshot.experiment);
    this.adopt(panel, saved.runId, snapshot);
  }

  private adopt(panel: vscode.WebviewPanel, runId: string, snapshot: RunSnapshot | undefined): ResultsPanel {
    const results = new ResultsPanel(panel, runId, this.host, snapshot);
    this.panels.set(runId, results);
    this.lastActive = results;
    panel.onDidChangeViewState((e) => {
      if (e.webviewPanel.active) this.lastActive = results;
    });
    return results;
  }

  private async snapshotFor(runId: string): Promise<RunSnapshot | undefined> {
    const tracked = this.tracker.get(runId);
    if (!tracked) return undefined;
    if (tracked.snapshot) return tracked.snapshot;
    const connection = this.client.runningConnection;
    if (connection && !isFinished(tracked.info.status)) {
      try {
        const live = await connection.sendRequest(GetResults, { runId });
        if (live) return live;
      } catch {
        // the server went away meanwhile: what the tracker knows will do
      }
    }
    return placeholderSnapshot(tracked.info);
  }

  private async exportFile(request: ExportRequest, snapshot: RunSnapshot | undefined): Promise<void> {
    let file;
    try {
      file = decodeExport(request);
    } catch (error) {
      void vscode.window.showErrorMessage(`RepSim: cannot export ${request.comparison}: ${(error as Error).message}`);
      return;
    }
    const folder = snapshot?.file ? vscode.Uri.file(dirname(snapshot.file)) : vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      title: `Export ${request.comparison} as ${request.format.toUpperCase()}`,
      saveLabel: 'Export',
      defaultUri: folder ? vscode.Uri.joinPath(folder, file.fileName) : undefined,
      filters: file.filters,
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, file.bytes);
    const choice = await vscode.window.showInformationMessage(`RepSim: exported ${vscode.workspace.asRelativePath(target)}`, 'Open');
    if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', target);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const panel of [...this.panels.values()]) panel.dispose();
  }
}
