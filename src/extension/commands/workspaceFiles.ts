/** Finding experiment files, models and results in the workspace for the quick picks. */
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { locateExperiments } from '../experimentFile/experimentLocations.js';

/** Folders never searched: dependencies, RepSim's own cache (its trained models), VCS data. */
export const EXCLUDED = '{**/node_modules/**,**/.repsim/cache/**,**/.git/**}';

export interface ExperimentEntry {
  readonly uri: vscode.Uri;
  readonly name: string;
  readonly description?: string;
}

/** The text of a file, from its open editor when there is one (it may be unsaved). */
export async function documentText(uri: vscode.Uri): Promise<string> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  return open ? open.getText() : readFile(uri.fsPath, 'utf8');
}

export async function findExperimentFiles(includeAdhoc = false): Promise<vscode.Uri[]> {
  const files = await vscode.workspace.findFiles('**/*.repsim.json', EXCLUDED, 500);
  return files.filter((uri) => uri.scheme === 'file' && (includeAdhoc || !uri.path.includes('/.repsim/'))).sort((a, b) => a.path.localeCompare(b.path));
}

export async function listExperiments(files: readonly vscode.Uri[]): Promise<ExperimentEntry[]> {
  const perFile = await Promise.all(
    files.map(async (uri) => {
      try {
        return locateExperiments(await documentText(uri)).flatMap((location) => (location.name ? [{ uri, name: location.name }] : []));
      } catch {
        return [];
      }
    }),
  );
  return perFile.flat();
}
