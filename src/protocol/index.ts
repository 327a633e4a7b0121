/**
 * Messages shared by the extension, the compute server and the webview: one source of truth.
 * The server speaks JSON-RPC 2.0 over stdio (vscode-jsonrpc), like a language server.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { BackendName, BackendReport, OnnxBackendName, RequestedBackend } from '../engine/backend/index.js';
import type { ValidationIssue } from './experiment.js';
import type { CkaSnapshot, ComparisonResult, RunProgress, RunSnapshot, RunStatus, TrainingMetrics } from './results.js';
import type { ExampleThumbnail, RecomputeCellRequest, RecomputedCell } from './webview.js';

export type { BackendReport, BackendName, OnnxBackendName, RequestedBackend };
export * from './experiment.js';
export * from './results.js';

export const PROTOCOL_VERSION = 1;

/**
 * The error code of a request refused because of what the user gave (a missing or invalid
 * experiment file, an unknown experiment): its message is one line for people, sent as is.
 */
export const INPUT_ERROR_CODE = 1001;

export interface InitializeParams {
  readonly protocolVersion: number;
  /** 'auto' for the fastest that loads, or a backend to force. */
  readonly backend?: RequestedBackend;
  /** The workspace cache (trained models, partial results); default: `.repsim` beside each experiment file. */
  readonly cacheDirectory?: string;
  /** Where datasets are read from and downloaded to, unless an experiment names its own. */
  readonly dataDirectory?: string;
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

export interface ValidateParams {
  /** The file's text (possibly unsaved) and its path (relative paths resolve against it). */
  readonly text: string;
  readonly filePath: string;
  /** The workspace folder holding the file: a relative `output` must stay inside it (default: the file's folder). */
  readonly workspaceFolder?: string;
}

export interface RunParams {
  readonly filePath: string;
  /** One experiment by name; all of the file's experiments when absent. */
  readonly experiment?: string;
  /** The results folder; when the request runs several experiments, each gets `outDir/<experiment name>`. */
  readonly outDir?: string;
  /** As in ValidateParams. */
  readonly workspaceFolder?: string;
  /** Permutations per cell for every comparison of the run, in place of the file's (`repsim run --permutations`). */
  readonly permutations?: number;
}

export interface RunInfo {
  readonly runId: string;
  readonly experiment: string;
  readonly filePath: string;
  readonly status: RunStatus;
  readonly error?: string;
}

export interface LogParams {
  readonly level: 'info' | 'warning' | 'error';
  readonly message: string;
  readonly runId?: string;
}

export const Initialize = new RequestType<InitializeParams, InitializeResult, void>('repsim/initialize');
export const Validate = new RequestType<ValidateParams, { issues: ValidationIssue[] }, void>('repsim/validate');
/** Queues the experiment(s); answers at once with their run ids. */
export const Run = new RequestType<RunParams, { runs: RunInfo[] }, void>('repsim/run');
export const Cancel = new RequestType<{ runId: string }, { cancelled: boolean }, void>('repsim/cancel');
export const ListRuns = new RequestType0<{ runs: RunInfo[] }, void>('repsim/listRuns');
export const GetResults = new RequestType<{ runId: string }, RunSnapshot | null, void>('repsim/getResults');
/** PNG thumbnails of a finished run's evaluation examples (its dataset's images), for a cell's drill-down. */
export const ExampleThumbnails = new RequestType<{ runId: string; comparison: string; examples: readonly number[] }, { thumbnails: ExampleThumbnail[] }, void>('repsim/exampleThumbnails');
/** One cell of a finished comparison recomputed with some examples left out (models and data from the workspace cache). */
export const RecomputeCell = new RequestType<{ runId: string } & RecomputeCellRequest, RecomputedCell, void>('repsim/recomputeCell');
/** Stops accepting work; the client then sends Exit (as in the Language Server Protocol). */
export const Shutdown = new RequestType0<void, void>('repsim/shutdown');
export const Exit = new NotificationType<void>('repsim/exit');

export const RunStatusChanged = new NotificationType<RunInfo>('repsim/runStatus');
export const Progress = new NotificationType<{ runId: string; progress: RunProgress }>('repsim/progress');
export const PartialResult = new NotificationType<{ runId: string; comparison: string; a: string; b: string; cka: CkaSnapshot }>('repsim/partialResult');
export const ComparisonDone = new NotificationType<{ runId: string; result: ComparisonResult }>('repsim/comparisonDone');
export const Training = new NotificationType<{ runId: string; metrics: TrainingMetrics }>('repsim/training');
export const Log = new NotificationType<LogParams>('repsim/log');
export const Done = new NotificationType<{ runId: string; snapshot: RunSnapshot }>('repsim/done');
export const Failed = new NotificationType<{ runId: string; error: string; cancelled: boolean; snapshot: RunSnapshot | null }>('repsim/failed');
