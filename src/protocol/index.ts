/**
 * Messages shared by the extension, the compute server and the webview: one source of truth.
 * The server speaks JSON-RPC 2.0 over stdio (vscode-jsonrpc), like a language server.
 */
import { RequestType, RequestType0, NotificationType } from 'vscode-jsonrpc';
import type { BackendReport, BackendName } from '../engine/backend/index.js';

export type { BackendReport, BackendName };

export const PROTOCOL_VERSION = 1;

export interface InitializeParams {
  readonly protocolVersion: number;
  /** 'auto' for the fastest that loads, or a backend to force. */
  readonly backend?: BackendName | 'auto';
}

export interface InitializeResult {
  readonly protocolVersion: number;
  readonly serverVersion: string;
  readonly backend: BackendReport;
  readonly capabilities: {
    readonly measures: readonly string[];
    readonly estimators: readonly string[];
    readonly kernels: readonly string[];
  };
}

export interface LogParams {
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
}

export const Initialize = new RequestType<InitializeParams, InitializeResult, void>('repsim/initialize');
/** Stops accepting work; the client then sends Exit (as in the Language Server Protocol). */
export const Shutdown = new RequestType0<void, void>('repsim/shutdown');
export const Exit = new NotificationType<void>('repsim/exit');
export const Log = new NotificationType<LogParams>('repsim/log');
