/** Registers every RepSim command, each guarded so that its errors become messages. */
import * as vscode from 'vscode';
import { SHOW_PANEL_COMMAND } from '../statusBar.js';
import { cancelRunCommand } from './cancelRun.js';
import { guarded, type CommandContext } from './commandContext.js';
import { compareModelsCommand } from './compareModels.js';
import { newExperimentFileCommand } from './newExperimentFile.js';
import { openResultsCommand } from './openResults.js';
import { runExperimentCommand } from './runExperiment.js';

export const COMMAND_IDS = ['repsim.compareModels', 'repsim.runExperiment', 'repsim.cancelRun', 'repsim.openResults', 'repsim.newExperimentFile', 'repsim.showLog'] as const;

export function registerCommands(context: CommandContext): vscode.Disposable[] {
  const { log } = context;
  const handlers: Record<(typeof COMMAND_IDS)[number] | typeof SHOW_PANEL_COMMAND, (...args: never[]) => Promise<unknown>> = {
    'repsim.compareModels': compareModelsCommand(context),
    'repsim.runExperiment': runExperimentCommand(context),
    'repsim.cancelRun': cancelRunCommand(context),
    'repsim.openResults': openResultsCommand(context),
    'repsim.newExperimentFile': newExperimentFileCommand(),
    'repsim.showLog': async () => log.show(),
    [SHOW_PANEL_COMMAND]: async (runId?: unknown) => {
      if (typeof runId === 'string' && runId) context.panels.show(runId);
      else if (!context.panels.revealCurrent()) log.show();
    },
  };
  return Object.entries(handlers).map(([id, handler]) => vscode.commands.registerCommand(id, guarded(id, log, handler as (...args: unknown[]) => Promise<unknown>)));
}
