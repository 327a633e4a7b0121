/** "RepSim: Cancel Run": the given run, the only one going, or one picked from those going. */
import * as vscode from 'vscode';
import type { CommandContext } from './commandContext.js';

export function cancelRunCommand(context: CommandContext) {
  return async (runId?: unknown): Promise<{ cancelled: string[] }> => {
    const active = context.tracker.active();
    let targets: string[];
    if (typeof runId === 'string' && runId) targets = [runId];
    else if (active.length === 0) {
      void vscode.window.showInformationMessage('RepSim: no run is in progress.');
      return { cancelled: [] };
    } else if (active.length === 1) targets = [active[0].info.runId];
    else {
      const picked = await vscode.window.showQuickPick(
        active.map((run) => ({ label: run.info.experiment, description: `${run.info.status}${run.progress ? ` · ${run.progress.label}` : ''}`, picked: run.info.status === 'running', runId: run.info.runId })),
        { title: 'RepSim: Cancel Run', placeHolder: 'Runs to cancel', canPickMany: true },
      );
      targets = (picked ?? []).map((p) => p.runId);
    }
    const cancelled: string[] = [];
    for (const target of targets) if (await context.launcher.cancel(target)) cancelled.push(target);
    if (targets.length && cancelled.length === 0) void vscode.window.showInformationMessage('RepSim: that run had already finished.');
    return { cancelled };
  };
}
