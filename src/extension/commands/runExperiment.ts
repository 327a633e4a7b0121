/**
 * "RepSim: Run Experiment" (and the ▶ Run lens): an experiment of a `*.repsim.json` file —
 * the one given, else picked from the active file or the workspace's files — saved, then run.
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { isExperimentFilePath, locateExperiments } from '../experimentFile/experimentLocations.js';
import { asUri, refuseIfUntrusted, type CommandContext, type Refusal } from './commandContext.js';
import { documentText, findExperimentFiles } from './workspaceFiles.js';

export interface Started {
  readonly runIds: string[];
}

const ALL = Symbol('all experiments');

export async function runExperimentFile(context: CommandContext, uri: vscode.Uri, experiment: string | typeof ALL): Promise<Started> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  // The server reads the file from disk: unsaved edits would be ignored without this.
  if (open?.isDirty && !(await open.save())) throw new Error(`${basename(uri.fsPath)} could not be saved`);
  const runs = await context.launcher.start(uri.fsPath, experiment === ALL ? undefined : experiment);
  return { runIds: runs.map((r) => r.runId) };
}

async function pickFile(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === 'file' && isExperimentFilePath(active.fsPath)) return active;
  const files = await findExperimentFiles(true);
  if (files.length === 0) {
    const choice = await vscode.window.showInformationMessage('RepSim: there is no *.repsim.json experiment file in this workspace.', 'New Experiment File');
    if (choice) await vscode.commands.executeCommand('repsim.newExperimentFile');
    return undefined;
  }
  if (files.length === 1) return files[0];
  const picked = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri), uri })),
    { title: 'RepSim: Run Experiment', placeHolder: 'Experiment file' },
  );
  return picked?.uri;
}

async function pickExperiment(uri: vscode.Uri): Promise<string | typeof ALL | undefined> {
  const names = locateExperiments(await documentText(uri)).flatMap((l) => (l.name ? [l.name] : []));
  if (names.length === 0) throw new Error(`${basename(uri.fsPath)} has no named experiments`);
  if (names.length === 1) return names[0];
  const items: (vscode.QuickPickItem & { value: string | typeof ALL })[] = [
    ...names.map((name) => ({ label: name, value: name })),
    { label: '$(run-all) All experiments', description: `${names.length}, one after another`, value: ALL },
  ];
  const picked = await vscode.window.showQuickPick(
    items,
    { title: `RepSim: Run Experiment — ${basename(uri.fsPath)}`, placeHolder: 'Experiment' },
  );
  return picked?.value;
}

export function runExperimentCommand(context: CommandContext) {
  return async (target?: unknown, experiment?: unknown): Promise<Started | Refusal | undefined> => {
    const refusal = refuseIfUntrusted(context, 'run experiments');
    if (refusal) return refusal;
    const uri = asUri(target) ?? (await pickFile());
    if (!uri) return undefined;
    const name = typeof experiment === 'string' && experiment ? experiment : await pickExperiment(uri);
    if (name === undefined) return undefined;
    return runExperimentFile(context, uri, name);
  };
}

export { ALL as ALL_EXPERIMENTS };
