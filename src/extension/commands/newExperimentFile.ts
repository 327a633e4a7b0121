/** "RepSim: New Experiment File": a commented template in the workspace, opened for editing. */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { experimentTemplate } from './experimentTemplate.js';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export function newExperimentFileCommand() {
  return async (requestedName?: unknown): Promise<vscode.Uri | undefined> => {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    const name =
      typeof requestedName === 'string' && NAME_PATTERN.test(requestedName)
        ? requestedName
        : await vscode.window.showInputBox({
            title: 'RepSim: New Experiment File',
            prompt: 'Experiment name (also the file name: NAME.repsim.json)',
            value: 'my-experiment',
            validateInput: (value) => (NAME_PATTERN.test(value) ? undefined : "letters, digits, '.', '_' and '-', starting with a letter or digit"),
          });
    if (!name) return undefined;
    const text = experimentTemplate(name);
    if (folders.length === 0) {
      // No folder to write into: an untitled JSONC document (saving it as *.repsim.json enables checks).
      const document = await vscode.workspace.openTextDocument({ language: 'jsonc', content: text });
      await vscode.window.showTextDocument(document);
      return document.uri;
    }
    const folder = folders.length === 1 ? folders[0] : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder for the experiment file' });
    if (!folder) return undefined;
    const path = join(folder.uri.fsPath, `${name}.repsim.json`);
    if (await exists(path)) throw new Error(`${vscode.workspace.asRelativePath(path)} already exists`);
    await writeFile(path, text, 'utf8');
    const uri = vscode.Uri.file(path);
    await vscode.window.showTextDocument(uri);
    return uri;
  };
}
