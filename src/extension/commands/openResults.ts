/**
 * "RepSim: Open Results": a run of this session, or a results folder's results.json (found in
 * the workspace, or browsed to), shown in a results panel.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { RunSnapshot } from '../../protocol/index.js';
import { parseResultsJson } from '../panel/resultsFile.js';
import { asUri, type CommandContext } from './commandContext.js';
import { EXCLUDED } from './workspaceFiles.js';

type Choice = { readonly runId: string; readonly snapshot?: RunSnapshot } | { readonly file: vscode.Uri } | 'browse';

export async function readResults(uri: vscode.Uri): Promise<RunSnapshot> {
  let path = uri.fsPath;
  if ((await stat(path)).isDirectory()) path = join(path, 'results.json');
  return parseResultsJson(await readFile(path, 'utf8'), vscode.workspace.asRelativePath(path));
}

function describeTime(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '';
}

async function pickResults(context: CommandContext): Promise<Choice | undefined> {
  const runs = context.tracker.finished().reverse();
  const files = (await vscode.workspace.findFiles('**/results.json', EXCLUDED, 200)).filter((u) => u.scheme === 'file');
  const items: (vscode.QuickPickItem & { value?: Choice })[] = [
    ...(runs.length ? [{ label: 'Runs in this window', kind: vscode.QuickPickItemKind.Separator }] : []),
    ...runs.map((run) => ({
      label: `$(${run.info.status === 'done' ? 'pass' : run.info.status === 'cancelled' ? 'circle-slash' : 'error'}) ${run.info.experiment}`,
      description: `${run.info.status}${run.snapshot ? ` · ${run.snapshot.comparisons.length} comparison(s) · ${describeTime(run.snapshot.finishedAt)}` : ''}`,
      value: { runId: run.info.runId, snapshot: run.snapshot },
    })),
    ...(files.length ? [{ label: 'Results folders', kind: vscode.QuickPickItemKind.Separator }] : []),
    ...files.map((file) => ({ label: `$(file) ${basename(dirname(file.fsPath))}`, description: vscode.workspace.asRelativePath(file), value: { file } })),
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(folder-opened) Browse for a results.json…', value: 'browse' as const },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'RepSim: Open Results', placeHolder: 'A finished run or a results folder', matchOnDescription: true });
  return picked?.value;
}

export function openResultsCommand(context: CommandContext) {
  return async (target?: unknown): Promise<{ runId: string } | undefined> => {
    let choice: Choice | undefined = asUri(target) ? { file: asUri(target)! } : await pickResults(context);
    if (choice === 'browse') {
      const [file] =
        (await vscode.window.showOpenDialog({ title: 'Open RepSim results', canSelectMany: false, filters: { 'RepSim results': ['json'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri })) ?? [];
      choice = file && { file };
    }
    if (!choice) return undefined;
    if ('runId' in choice) {
      context.panels.show(choice.runId, { snapshot: choice.snapshot });
      return { runId: choice.runId };
    }
    const snapshot = await readResults(choice.file);
    context.panels.show(snapshot.runId, { snapshot });
    return { runId: snapshot.runId };
  };
}
