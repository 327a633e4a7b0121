/**
 * The server's semantic checks of experiment files (unknown model ids, missing files, …) as
 * diagnostics, refreshed on open, save and (debounced) change. Syntax and schema errors are
 * left to VS Code's JSON language service, which validates against the same schema
 * (`contributes.jsonValidation`); the server is asked only once the file passes the schema.
 */
import * as vscode from 'vscode';
import { Validate, type ValidationIssue } from '../../protocol/index.js';
import type { ComputeServerClient } from '../server/serverClient.js';
import type { TrustGate } from '../trust.js';
import { LineIndex } from '../util/textPositions.js';
import { isExperimentFilePath } from './experimentLocations.js';
import { issueRange } from './issueRanges.js';

const DEBOUNCE_MS = 600;

export function isExperimentDocument(document: vscode.TextDocument): boolean {
  return document.uri.scheme === 'file' && isExperimentFilePath(document.uri.fsPath);
}

export function toDiagnostics(text: string, issues: readonly ValidationIssue[]): vscode.Diagnostic[] {
  const lines = new LineIndex(text);
  return issues.map((issue) => {
    const { start, end } = issueRange(text, issue, lines);
    const diagnostic = new vscode.Diagnostic(
      new vscode.Range(start.line, start.character, end.line, end.character),
      issue.message,
      issue.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error,
    );
    diagnostic.source = 'repsim';
    if (issue.path) diagnostic.code = issue.path;
    return diagnostic;
  });
}

export class ExperimentDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('repsim');
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private warnedUnavailable = false;

  constructor(
    private readonly client: ComputeServerClient,
    private readonly trust: TrustGate,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidSaveTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => e.contentChanges.length && this.schedule(e.document, DEBOUNCE_MS)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.validateAll()),
      // A (re)started server: files whose check failed or went stale are checked again.
      client.onDidChangeState((state) => state.kind === 'running' && this.validateAll()),
    );
    this.validateAll();
  }

  validateAll(): void {
    for (const document of vscode.workspace.textDocuments) this.schedule(document, 0);
  }

  schedule(document: vscode.TextDocument, delayMs: number): void {
    if (!isExperimentDocument(document)) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.validate(document);
      }, delayMs),
    );
  }

  /** Checks one document now; resolves when its diagnostics are set (for tests and commands). */
  async validate(document: vscode.TextDocument): Promise<void> {
    if (!isExperimentDocument(document) || document.isClosed) return;
    if (!this.trust.isTrusted) {
      this.collection.delete(document.uri);
      return;
    }
    const version = document.version;
    const text = document.getText();
    try {
      // Lazily loaded: the schema check (ajv) is only needed once an experiment file is open.
      const { parseExperimentText } = await import('../../server/experiments/parse.js');
      if (!parseExperimentText(text).file) {
        this.collection.set(document.uri, []);
        return;
      }
      const connection = await this.client.connection({ userInitiated: false });
      const workspaceFolder = vscode.workspace.getWorkspaceFolder(document.uri)?.uri.fsPath;
      const { issues } = await connection.sendRequest(Validate, { text, filePath: document.uri.fsPath, workspaceFolder });
      if (document.isClosed || document.version !== version) return; // a newer check follows
      this.collection.set(document.uri, toDiagnostics(text, issues));
      this.warnedUnavailable = false;
    } catch (error) {
      if (!this.warnedUnavailable) this.log.warn(`experiment file checks are unavailable: ${(error as Error)?.message ?? error}`);
      this.warnedUnavailable = true;
    }
  }

  private forget(uri: vscode.Uri): void {
    clearTimeout(this.timers.get(uri.toString()));
    this.timers.delete(uri.toString());
    this.collection.delete(uri);
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const subscription of this.subscriptions) subscription.dispose();
    this.collection.dispose();
  }
}
