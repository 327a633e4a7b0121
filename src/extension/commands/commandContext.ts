/** What the command handlers share, and the guard that keeps their errors off the extension host. */
import * as vscode from 'vscode';
import type { ResultsPanels } from '../panel/resultsPanels.js';
import type { RunLauncher } from '../runs/runLauncher.js';
import type { RunTracker } from '../runs/runTracker.js';
import type { ResolvedSettings } from '../settings.js';
import type { TrustedAction, TrustGate } from '../trust.js';

export interface CommandContext {
  readonly trust: TrustGate;
  readonly launcher: RunLauncher;
  readonly tracker: RunTracker;
  readonly panels: ResultsPanels;
  readonly log: vscode.LogOutputChannel;
  readonly settings: () => ResolvedSettings;
}

/** What a command refused to do, returned so callers (and tests) can tell. */
export interface Refusal {
  readonly refused: string;
}

/** Refuses with a message (and a way to trust the workspace) when it is not trusted. */
export function refuseIfUntrusted(context: CommandContext, action: TrustedAction): Refusal | undefined {
  const refusal = context.trust.refusal(action);
  if (!refusal) return undefined;
  void vscode.window.showWarningMessage(refusal, 'Manage Workspace Trust').then((choice) => choice && vscode.commands.executeCommand('workbench.trust.manage'));
  return { refused: refusal };
}

/** Wraps a command: any error becomes a message and a log entry, never an unhandled rejection. */
export function guarded<A extends unknown[], R>(id: string, log: vscode.LogOutputChannel, handler: (...args: A) => Promise<R>): (...args: A) => Promise<R | undefined> {
  return async (...args: A) => {
    try {
      return await handler(...args);
    } catch (error) {
      log.error(`${id}: ${(error as Error)?.stack ?? error}`);
      void vscode.window.showErrorMessage(`RepSim: ${(error as Error)?.message ?? error}`, 'Show Log').then((choice) => choice && log.show());
      return undefined;
    }
  };
}

/** A command argument that names a file: a Uri, or a path string. */
export function asUri(value: unknown): vscode.Uri | undefined {
  if (value instanceof vscode.Uri) return value;
  if (typeof value === 'string' && value) return value.includes('://') ? vscode.Uri.parse(value) : vscode.Uri.file(value);
  if (typeof value === 'object' && value !== null && 'scheme' in value && 'path' in value) return vscode.Uri.from(value as vscode.Uri);
  return undefined;
}
