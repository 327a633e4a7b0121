/**
 * Runs queue and compute one at a time. Cancelling a queued run drops it; cancelling the running
 * one aborts its signal, which the engine checks between batches.
 */
import type { RunStatus } from '../../protocol/results.js';

export interface QueuedRun<T> {
  readonly id: string;
  readonly label: string;
  status: RunStatus;
  result?: T;
  error?: string;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

export class RunQueue<T> {
  private readonly runs = new Map<string, QueuedRun<T>>();
  private tail: Promise<void> = Promise.resolve();
  private counter = 0;

  constructor(private readonly onStatus: (run: QueuedRun<T>) => void = () => undefined) {}

  /** Queues `work`; it starts when every run queued before it has finished. */
  enqueue(label: string, work: (signal: AbortSignal, run: QueuedRun<T>) => Promise<T>): QueuedRun<T> {
    const id = `run-${Date.now().toString(36)}-${(++this.counter).toString(36)}`;
    const controller = new AbortController();
    let settle!: () => void;
    const run: QueuedRun<T> = { id, label, status: 'queued', controller, done: new Promise((resolve) => (settle = resolve)) };
    this.runs.set(id, run);
    this.onStatus(run);
    this.tail = this.tail.then(async () => {
      if (run.status !== 'cancelled') await this.execute(run, work);
      settle();
    });
    return run;
  }

  private async execute(run: QueuedRun<T>, work: (signal: AbortSignal, run: QueuedRun<T>) => Promise<T>): Promise<void> {
    run.status = 'running';
    this.onStatus(run);
    try {
      run.result = await work(run.controller.signal, run);
      run.status = 'done';
    } catch (error) {
      const aborted = run.controller.signal.aborted || (error as Error)?.name === 'AbortError';
      run.status = aborted ? 'cancelled' : 'failed';
      run.error = aborted ? 'cancelled' : String((error as Error)?.message ?? error);
    }
    this.onStatus(run);
  }

  cancel(id: string): boolean {
    const run = this.runs.get(id);
    if (!run || (run.status !== 'queued' && run.status !== 'running')) return false;
    if (run.status === 'queued') {
      run.status = 'cancelled';
      run.error = 'cancelled before it started';
      this.onStatus(run);
    }
    run.controller.abort();
    return true;
  }

  get(id: string): QueuedRun<T> | undefined {
    return this.runs.get(id);
  }

  list(): QueuedRun<T>[] {
    return [...this.runs.values()];
  }
}
