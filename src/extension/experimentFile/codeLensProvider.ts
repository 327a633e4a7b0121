/**
 * CodeLens over each experiment of a `*.repsim.json` file: "▶ Run", and "Open results" once its
 * results folder holds a results.json. While one of its runs goes: its progress and "Cancel".
 */
import { stat } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { RunTracker } from '../runs/runTracker.js';
import { progressSummary } from '../runs/progressText.js';
import { experimentResultsFile, locateExperiments } from './experimentLocations.js';

export const EXPERIMENT_FILE_SELECTOR: vscode.DocumentSelector = [{ pattern: '**/*.repsim.json' }];

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export class ExperimentCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changeEmitter.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly statuses = new Map<string, string>();

  constructor(private readonly tracker: RunTracker) {
    // Status changes (not every progress tick) and new results files change the lenses.
    this.subscriptions.push(
      tracker.onDidChange((run) => {
        if (this.statuses.get(run.info.runId) === run.info.status) return;
        this.statuses.set(run.info.runId, run.info.status);
        this.refresh();
      }),
    );
    const watcher = vscode.workspace.createFileSystemWatcher('**/results.json');
    this.subscriptions.push(watcher, watcher.onDidCreate(() => this.refresh()), watcher.onDidDelete(() => this.refresh()));
  }

  refresh(): void {
    this.changeEmitter.fire();
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (document.uri.scheme !== 'file') return [];
    const filePath = document.uri.fsPath;
    const lenses = await Promise.all(
      locateExperiments(document.getText()).map(async (location) => {
        const name = location.name;
        if (!name) return [];
        const range = new vscode.Range(location.range.start.line, location.range.start.character, location.range.start.line, location.range.start.character);
        const active = this.tracker.active().find((run) => run.info.filePath === filePath && run.info.experiment === name);
        if (active) {
          const summary = active.info.status === 'queued' ? 'queued' : progressSummary(active.progress) || 'running';
          return [
            new vscode.CodeLens(range, { title: `$(sync~spin) ${summary}`, command: 'repsim.showPanel', arguments: [active.info.runId], tooltip: 'Show the results panel' }),
            new vscode.CodeLens(range, { title: 'Cancel', command: 'repsim.cancelRun', arguments: [active.info.runId], tooltip: `Cancel the run of ${name}` }),
          ];
        }
        const run = new vscode.CodeLens(range, { title: '▶ Run', command: 'repsim.runExperiment', arguments: [document.uri, name], tooltip: `Run experiment ${name}` });
        const results = experimentResultsFile(filePath, { name, output: location.output });
        if (!(await fileExists(results))) return [run];
        return [run, new vscode.CodeLens(range, { title: 'Open results', command: 'repsim.openResults', arguments: [vscode.Uri.file(results)], tooltip: results })];
      }),
    );
    return lenses.flat();
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changeEmitter.dispose();
  }
}
