/**
 * The VS Code side. The compute runs in its own process (src/server); this host only starts
 * it, shows what it says, and hosts the panel. Commands and the panel arrive with issue 5.
 */
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('RepSim', { log: true });
  context.subscriptions.push(log, vscode.commands.registerCommand('repsim.showLog', () => log.show()));
  log.info(`RepSim ${context.extension.packageJSON.version} activated`);
}

export function deactivate(): void {}
