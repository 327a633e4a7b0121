/** The server's JSON-RPC methods over one connection. */
import { dirname, join } from 'node:path';
import { ResponseError, type CancellationToken, type MessageConnection } from 'vscode-jsonrpc';
import { formatBackendReport, initBackend, type BackendReport } from '../engine/backend/index.js';
import { defaultDataDirectory } from '../engine/data/defaultDirectory.js';
import { InputError, isInputError } from '../engine/errors.js';
import {
  Cancel,
  ComparisonDone,
  Done,
  ExampleThumbnails,
  Exit,
  Failed,
  INPUT_ERROR_CODE,
  GetResults,
  Initialize,
  ListRuns,
  Log,
  PartialResult,
  Progress,
  PROTOCOL_VERSION,
  RecomputeCell,
  Run,
  RunStatusChanged,
  Shutdown,
  Training,
  Validate,
  type InitializeParams,
  type RunInfo,
  type RunSnapshot,
} from '../protocol/index.js';
import { WorkspaceCache } from './cache/workspaceCache.js';
import { validateExperimentText } from './experiments/semantics.js';
import { loadReportAssets, renderReportHtml } from './report/html.js';
import { exampleThumbnails } from './runs/exampleThumbnails.js';
import { ExperimentRun, loadExperiment, type RunSetup } from './runs/experimentRunner.js';
import { recomputeCell } from './runs/recomputeCell.js';
import { RunQueue, type QueuedRun } from './runs/runQueue.js';
import { RunSources } from './runs/runSources.js';

export const SERVER_VERSION = '0.1.0';

interface RunRecord {
  readonly experiment: string;
  readonly filePath: string;
  run?: ExperimentRun;
}

export class ComputeServer {
  private settings: InitializeParams | undefined;
  private backend: BackendReport | undefined;
  private shuttingDown = false;
  private readonly records = new Map<string, RunRecord>();
  private readonly queue = new RunQueue<RunSnapshot>((run) => this.statusChanged(run));
  /** A finished run's data and models, for its drill-down. */
  private readonly sources = new RunSources();
  /** Drill-down requests run one at a time, each after the one before it. */
  private drillDownTail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly connection: MessageConnection,
    private readonly log: (message: string) => void,
  ) {}

  listen(): void {
    const c = this.connection;
    c.onRequest(Initialize, (params) => this.initialize(params));
    c.onRequest(Validate, async ({ text, filePath, workspaceFolder }) => ({ issues: (await validateExperimentText(text, filePath, { workspaceFolder })).issues }));
    c.onRequest(Run, async (params) => {
      this.requireInitialized();
      // Refused with the message alone (no "Request repsim/run failed with message: …").
      const experiments = await loadExperiment(params.filePath, params.experiment, { workspaceFolder: params.workspaceFolder }).catch((error) => {
        throw isInputError(error) ? new ResponseError(INPUT_ERROR_CODE, error.message, { input: error.input }) : error;
      });
      // One results folder per experiment: several experiments in one --out folder would overwrite each other's files.
      const outDir = (name: string) => (params.outDir && experiments.length > 1 ? join(params.outDir, name) : params.outDir);
      if (params.permutations !== undefined && !(Number.isInteger(params.permutations) && params.permutations >= 0)) {
        throw new ResponseError(INPUT_ERROR_CODE, `permutations: expected a whole number ≥ 0, got ${params.permutations}`);
      }
      return { runs: experiments.map((e) => this.info(this.enqueue(params.filePath, e.name, outDir(e.name), params.workspaceFolder, params.permutations))) };
    });
    c.onRequest(Cancel, ({ runId }) => ({ cancelled: this.queue.cancel(runId) }));
    c.onRequest(ListRuns, () => ({ runs: this.queue.list().map((r) => this.info(r)) }));
    c.onRequest(GetResults, ({ runId }) => this.snapshotOf(runId));
    c.onRequest(ExampleThumbnails, async (params) => ({
      thumbnails: await this.drillDown(params.runId, undefined, (setup) => exampleThumbnails(params, setup, this.sources)),
    }));
    c.onRequest(RecomputeCell, (params, token) =>
      this.drillDown(params.runId, token, (setup, signal, log) =>
        recomputeCell(params, setup, this.snapshotOf(params.runId)?.comparisons.find((r) => r.name === params.comparison), this.sources, { signal, log }),
      ),
    );
    c.onRequest(Shutdown, () => {
      this.shuttingDown = true;
      for (const run of this.queue.list()) this.queue.cancel(run.id);
    });
    c.onNotification(Exit, () => process.exit(this.shuttingDown ? 0 : 1));
  }

  private async initialize(params: InitializeParams) {
    if (params.protocolVersion !== PROTOCOL_VERSION) {
      throw new Error(`protocol version ${params.protocolVersion} is not supported (server speaks ${PROTOCOL_VERSION})`);
    }
    this.settings = params;
    this.backend = await initBackend(params.backend ?? 'auto');
    for (const line of formatBackendReport(this.backend).split('\n')) this.log(line);
    return {
      protocolVersion: PROTOCOL_VERSION,
      serverVersion: SERVER_VERSION,
      backend: this.backend,
      capabilities: { measures: ['cka', 'subspace-match', 'first-pc', 'agreement'], estimators: ['minibatch', 'biased', 'debiased'], kernels: ['linear', 'rbf'] },
    };
  }

  private snapshotOf(runId: string): RunSnapshot | null {
    return this.queue.get(runId)?.result ?? this.records.get(runId)?.run?.snapshot() ?? null;
  }

  /**
   * Runs one drill-down request on a run this server knows, after the drill-down requests before
   * it; cancelled with the request. Its messages go to the log as the run's; bad input is refused
   * with the message alone (INPUT_ERROR_CODE).
   */
  private drillDown<T>(runId: string, token: CancellationToken | undefined, work: (setup: RunSetup, signal: AbortSignal, log: (message: string) => void) => Promise<T>): Promise<T> {
    const log = (message: string) => {
      this.log(`${runId}: ${message}`);
      void this.connection.sendNotification(Log, { level: 'info', message, runId });
    };
    const controller = new AbortController();
    const subscription = token?.onCancellationRequested(() => controller.abort());
    const start = async () => {
      this.requireInitialized();
      const record = this.records.get(runId);
      if (!record) throw new InputError(`the compute server knows no run ${runId} (runs are forgotten when it restarts): run the experiment again`, runId);
      const setup = record.run?.setup;
      if (!setup) throw new InputError(`run ${runId} has not started yet`, runId);
      controller.signal.throwIfAborted();
      return work(setup, controller.signal, log);
    };
    const result = this.drillDownTail.then(start, start);
    this.drillDownTail = result.catch(() => undefined);
    return result
      .catch((error) => {
        if (isInputError(error)) throw new ResponseError(INPUT_ERROR_CODE, error.message, { input: error.input });
        // Not prefixed with the run id: the extension would hold such a line until the (long finished) run ends.
        if (!controller.signal.aborted) this.log(`drill-down of ${runId} failed: ${(error as Error)?.stack ?? error}`);
        throw error;
      })
      .finally(() => subscription?.dispose());
  }

  private requireInitialized(): BackendReport {
    if (!this.backend) throw new Error('the server is not initialized: send repsim/initialize first');
    return this.backend;
  }

  /** Status first, then for a finished run its Done or Failed with the snapshot. */
  private statusChanged(run: QueuedRun<RunSnapshot>): void {
    const notify = this.connection.sendNotification.bind(this.connection);
    void notify(RunStatusChanged, this.info(run));
    const snapshot = run.result ?? this.records.get(run.id)?.run?.snapshot() ?? null;
    if (run.status === 'done' && snapshot) void notify(Done, { runId: run.id, snapshot });
    if (run.status === 'failed' || run.status === 'cancelled') void notify(Failed, { runId: run.id, error: run.error ?? run.status, cancelled: run.status === 'cancelled', snapshot });
  }

  private info(run: QueuedRun<RunSnapshot>): RunInfo {
    const record = this.records.get(run.id);
    return { runId: run.id, experiment: record?.experiment ?? run.label, filePath: record?.filePath ?? '', status: run.status, error: run.error };
  }

  private enqueue(filePath: string, experiment: string, outDir?: string, workspaceFolder?: string, permutations?: number): QueuedRun<RunSnapshot> {
    const backend = this.requireInitialized();
    const cache = new WorkspaceCache(this.settings?.cacheDirectory ?? join(dirname(filePath), '.repsim'));
    const queued = this.queue.enqueue(experiment, async (signal, self) => {
      const notify = this.connection.sendNotification.bind(this.connection);
      const runId = self.id;
      const run = new ExperimentRun({
        runId,
        filePath,
        experiment,
        outDir,
        workspaceFolder,
        permutations,
        dataDir: this.settings?.dataDirectory || defaultDataDirectory(),
        cache,
        backend,
        signal,
        renderReport: async (snapshot) => renderReportHtml(snapshot, await loadReportAssets()),
        events: {
          progress: (progress) => void notify(Progress, { runId, progress }),
          partial: (comparison, a, b, cka) => void notify(PartialResult, { runId, comparison, a, b, cka }),
          comparison: (result) => void notify(ComparisonDone, { runId, result }),
          training: (metrics) => void notify(Training, { runId, metrics }),
          log: (level, message) => {
            this.log(`${runId}: ${message}`);
            void notify(Log, { level, message, runId });
          },
        },
      });
      this.records.get(runId)!.run = run;
      try {
        return await run.execute();
      } catch (error) {
        if (!signal.aborted && !isInputError(error)) this.log(`${runId}: ${(error as Error)?.stack ?? error}`);
        throw error;
      }
    });
    this.records.set(queued.id, { experiment, filePath });
    return queued;
  }
}
