/**
 * The runs this window started, as the server reports them: status, latest progress, and the
 * final snapshot. Turns server notifications into the webview's HostMessages. Free of `vscode`.
 */
import type { CkaSnapshot, ComparisonResult, RunInfo, RunProgress, RunSnapshot, RunStatus, TrainingMetrics } from '../../protocol/index.js';
import type { HostMessage } from '../../protocol/webview.js';
import { Emitter } from '../util/emitter.js';

export interface TrackedRun {
  readonly info: RunInfo;
  readonly progress?: RunProgress;
  /** The final snapshot (Done, or Failed with what finished), once the run ended. */
  readonly snapshot?: RunSnapshot;
  readonly error?: string;
  readonly startedAt: number;
}

export interface RunEnd {
  readonly runId: string;
  readonly status: Extract<RunStatus, 'done' | 'failed' | 'cancelled'>;
  readonly error?: string;
}

const FINISHED: ReadonlySet<RunStatus> = new Set(['done', 'failed', 'cancelled']);

export function isFinished(status: RunStatus): boolean {
  return FINISHED.has(status);
}

/** A snapshot with what is known of a run before the server has anything to say about it. */
export function placeholderSnapshot(info: RunInfo): RunSnapshot {
  return { runId: info.runId, experiment: info.experiment, file: info.filePath || undefined, status: info.status, error: info.error, models: [], training: {}, comparisons: [] };
}

export class RunTracker {
  private readonly runs = new Map<string, TrackedRun>();
  private readonly ended = new Set<string>();
  private readonly changeEmitter = new Emitter<TrackedRun>();
  private readonly messageEmitter = new Emitter<{ readonly runId: string; readonly message: HostMessage }>();
  private readonly endEmitter = new Emitter<RunEnd>();
  /** A run's status or progress changed. */
  readonly onDidChange = this.changeEmitter.event;
  /** Something a results panel showing the run should be told. */
  readonly onHostMessage = this.messageEmitter.event;
  /** A run ended (once per run). */
  readonly onDidEnd = this.endEmitter.event;

  constructor(private readonly now: () => number = Date.now) {}

  get(runId: string): TrackedRun | undefined {
    return this.runs.get(runId);
  }

  all(): TrackedRun[] {
    return [...this.runs.values()];
  }

  active(): TrackedRun[] {
    return this.all().filter((run) => !isFinished(run.info.status));
  }

  /** The run to show in the status bar: the running one, else the first queued one. */
  current(): TrackedRun | undefined {
    const active = this.active();
    return active.find((run) => run.info.status === 'running') ?? active[0];
  }

  finished(): TrackedRun[] {
    return this.all().filter((run) => isFinished(run.info.status));
  }

  /** The runs a Run request answered with. Its notifications may have overtaken the answer: they are newer. */
  register(infos: readonly RunInfo[]): void {
    for (const info of infos) {
      const known = this.runs.get(info.runId);
      if (!known) this.status(info);
      else if (!known.info.filePath) this.update(info.runId, { info: { ...known.info, filePath: info.filePath } });
    }
  }

  status(info: RunInfo): void {
    const previous = this.runs.get(info.runId);
    // Keep the file path the Run answer gave when a later status lacks it.
    const merged: RunInfo = { ...info, filePath: info.filePath || previous?.info.filePath || '' };
    this.update(info.runId, { info: merged, error: info.error ?? previous?.error });
    // A finished status is followed by Done or Failed (with the snapshot): those end the run.
  }

  progress(runId: string, progress: RunProgress): void {
    if (!this.runs.has(runId)) return;
    this.update(runId, { progress });
    this.post(runId, { type: 'progress', runId, progress });
  }

  partial(runId: string, comparison: string, a: string, b: string, cka: CkaSnapshot): void {
    this.post(runId, { type: 'partial', runId, comparison, a, b, cka });
  }

  comparison(runId: string, result: ComparisonResult): void {
    this.post(runId, { type: 'comparison', runId, result });
  }

  training(runId: string, metrics: TrainingMetrics): void {
    this.post(runId, { type: 'training', runId, metrics });
  }

  done(runId: string, snapshot: RunSnapshot): void {
    this.finish(runId, 'done', snapshot);
    this.post(runId, { type: 'done', runId });
  }

  failed(runId: string, error: string, cancelled: boolean, snapshot: RunSnapshot | null): void {
    this.finish(runId, cancelled ? 'cancelled' : 'failed', snapshot ?? undefined, error);
    this.post(runId, { type: 'failed', runId, error, cancelled });
  }

  /** The server went away: every run not finished has failed with `reason`. */
  serverLost(reason: string): void {
    for (const run of this.active()) this.failed(run.info.runId, reason, false, run.snapshot ?? null);
  }

  private finish(runId: string, status: RunEnd['status'], snapshot?: RunSnapshot, error?: string): void {
    const run = this.runs.get(runId);
    if (!run) return;
    const finalSnapshot = snapshot ? { ...snapshot, status, error: snapshot.error ?? error } : run.snapshot;
    this.update(runId, { info: { ...run.info, status, error }, snapshot: finalSnapshot, error });
    this.end(runId, status, error);
  }

  private end(runId: string, status: RunEnd['status'], error?: string): void {
    if (this.ended.has(runId)) return;
    this.ended.add(runId);
    this.endEmitter.fire({ runId, status, error });
  }

  private update(runId: string, change: Partial<TrackedRun>): void {
    const previous = this.runs.get(runId);
    const info = change.info ?? previous?.info;
    if (!info) return;
    const run: TrackedRun = { startedAt: previous?.startedAt ?? this.now(), ...previous, ...change, info };
    this.runs.set(runId, run);
    this.changeEmitter.fire(run);
  }

  private post(runId: string, message: HostMessage): void {
    this.messageEmitter.fire({ runId, message });
  }

  /** Waits for a run's end (resolves at once when it has ended). */
  whenEnded(runId: string): Promise<RunEnd> {
    const run = this.runs.get(runId);
    if (run && this.ended.has(runId)) return Promise.resolve({ runId, status: run.info.status as RunEnd['status'], error: run.error });
    return new Promise((resolve) => {
      const subscription = this.onDidEnd((end) => {
        if (end.runId !== runId) return;
        subscription.dispose();
        resolve(end);
      });
    });
  }

  dispose(): void {
    this.changeEmitter.dispose();
    this.messageEmitter.dispose();
    this.endEmitter.dispose();
  }
}
