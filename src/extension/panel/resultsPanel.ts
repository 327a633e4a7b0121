/**
 * One results panel: a webview showing one run. The webview is torn down whenever the panel
 * is hidden (retainContextWhenHidden: false) and says 'ready' each time it loads again; the
 * host then sends the run's snapshot, followed by live updates.
 */
import * as vscode from 'vscode';
import type { RunSnapshot } from '../../protocol/index.js';
import { isWebviewMessage, type HostMessage } from '../../protocol/webview.js';
import type { ExportRequest } from './exportFile.js';
import { panelCancel } from './panelCancel.js';
import { answerDrillDown, type DrillDownHost } from './panelDrillDown.js';
import { buildPanelHtml, createNonce } from './panelHtml.js';

export const RESULTS_VIEW_TYPE = 'repsim.results';

export interface ResultsPanelHost {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.LogOutputChannel;
  /** The run's current snapshot as the server or tracker knows it; undefined if neither does. */
  snapshotFor(runId: string): Promise<RunSnapshot | undefined>;
  cancel(runId: string): Promise<void>;
  exportFile(request: ExportRequest, snapshot: RunSnapshot | undefined): Promise<void>;
  /** Where the webview's drill-down requests (thumbnails, recomputed cells) go. */
  readonly drillDown: DrillDownHost;
  disposed(panel: ResultsPanel): void;
}

export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function panelTitle(experiment: string | undefined): string {
  return experiment ? `RepSim: ${experiment}` : 'RepSim Results';
}

export class ResultsPanel implements vscode.Disposable {
  /** The webview has loaded and said 'ready' (reset whenever it is hidden, i.e. torn down). */
  private ready = false;
  /** Between 'ready' and the snapshot reply, updates are already part of the snapshot. */
  private awaitingSnapshot = false;
  private readonly subscriptions: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly runId: string,
    private readonly host: ResultsPanelHost,
    /** Shown when neither server nor tracker knows the run (opened from a file, restored). */
    private lastSnapshot?: RunSnapshot,
  ) {
    panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(host.extensionUri, 'media')] };
    panel.webview.html = this.html();
    this.subscriptions.push(
      panel.webview.onDidReceiveMessage((message: unknown) => void this.receive(message)),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  get snapshot(): RunSnapshot | undefined {
    return this.lastSnapshot;
  }

  reveal(preserveFocus = false): void {
    this.panel.reveal(undefined, preserveFocus);
  }

  /** A live update; dropped while the webview is not listening (the next 'ready' resyncs it). */
  post(message: HostMessage): void {
    if (!this.ready || this.awaitingSnapshot || this.disposed) return;
    void this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }

  /** The answer to a request of the webview: it is listening, having just asked (unless the panel has gone since). */
  private answer(message: HostMessage): void {
    if (!this.disposed) void this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }

  /** Replaces what the panel shows with a snapshot (e.g. a run's final results). */
  showSnapshot(snapshot: RunSnapshot): void {
    this.lastSnapshot = snapshot;
    this.panel.title = panelTitle(snapshot.experiment);
    if (this.ready && !this.disposed) void this.panel.webview.postMessage({ type: 'snapshot', snapshot } satisfies HostMessage).then(undefined, () => undefined);
  }

  private html(): string {
    const webview = this.panel.webview;
    const media = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.host.extensionUri, 'media', file)).toString();
    return buildPanelHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: media('webview.js'),
      codiconCssUri: media('codicon.css'),
      title: this.panel.title,
    });
  }

  private async receive(message: unknown): Promise<void> {
    if (!isWebviewMessage(message)) {
      this.host.log.warn(`results panel: ignored an unexpected message ${JSON.stringify(message)?.slice(0, 200)}`);
      return;
    }
    try {
      switch (message.type) {
        case 'ready':
          await this.sendSnapshot();
          break;
        case 'cancel': {
          // Only this panel's own run: the webview's message is untrusted.
          const decision = panelCancel(message, this.runId);
          if ('cancel' in decision) await this.host.cancel(decision.cancel);
          else this.host.log.warn(decision.refused);
          break;
        }
        case 'export':
          await this.host.exportFile(message, this.lastSnapshot);
          break;
        case 'exampleThumbnails':
        case 'recomputeCell':
          this.answer(await answerDrillDown(message, this.runId, this.host.drillDown));
          break;
      }
    } catch (error) {
      this.host.log.error(`results panel: ${message.type} failed: ${(error as Error)?.stack ?? error}`);
      void vscode.window.showErrorMessage(`RepSim: ${message.type} failed: ${(error as Error)?.message ?? error}`);
    }
  }

  private async sendSnapshot(): Promise<void> {
    this.ready = true;
    this.awaitingSnapshot = true;
    try {
      const snapshot = (await this.host.snapshotFor(this.runId).catch(() => undefined)) ?? this.lastSnapshot;
      if (!snapshot || this.disposed) return;
      this.lastSnapshot = snapshot;
      await this.panel.webview.postMessage({ type: 'snapshot', snapshot } satisfies HostMessage);
    } finally {
      this.awaitingSnapshot = false;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const subscription of this.subscriptions) subscription.dispose();
    this.host.disposed(this);
    this.panel.dispose();
  }
}
