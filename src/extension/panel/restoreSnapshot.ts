/**
 * What a results panel restored after a reload shows. Its saved snapshot may be older than the
 * run's end (the webview saves its state now and then), and a run that was live died with the
 * previous extension host. The run's results.json, written when it ended, has the last word
 * when it belongs to that run; then how the run ended as this extension recorded it (a run
 * that failed or was cancelled before any result leaves no results folder); otherwise the saved
 * snapshot is shown, marked interrupted.
 */
import { readFile } from 'node:fs/promises';
import type { RunSnapshot } from '../../protocol/index.js';
import { experimentResultsFile, locateExperiments } from '../experimentFile/experimentLocations.js';
import { interruptedSnapshot, parseResultsJson } from './resultsFile.js';

export async function finishedSnapshotOnDisk(saved: RunSnapshot): Promise<RunSnapshot | undefined> {
  if (!saved.file) return undefined;
  try {
    const experiment = locateExperiments(await readFile(saved.file, 'utf8')).find((e) => e.name === saved.experiment);
    if (!experiment?.name) return undefined;
    const resultsFile = experimentResultsFile(saved.file, { name: experiment.name, output: experiment.output });
    const onDisk = parseResultsJson(await readFile(resultsFile, 'utf8'), resultsFile);
    return onDisk.runId === saved.runId ? onDisk : undefined;
  } catch {
    return undefined;
  }
}

/** How a run ended, as the extension saw it. */
export interface RecordedRunEnd {
  readonly status: 'done' | 'failed' | 'cancelled';
  readonly error?: string;
  readonly finishedAt?: string;
}

/** The snapshot to show for a panel restored without a live run behind it. */
export async function restoredSnapshot(saved: RunSnapshot, ended?: RecordedRunEnd): Promise<RunSnapshot> {
  if (saved.status !== 'running' && saved.status !== 'queued') return saved;
  const onDisk = await finishedSnapshotOnDisk(saved);
  if (onDisk) return onDisk;
  if (ended) return { ...saved, status: ended.status, error: ended.error, progress: undefined, partial: undefined, finishedAt: ended.finishedAt ?? saved.finishedAt };
  return interruptedSnapshot(saved);
}

/** The part of vscode.Memento used here. */
export interface RunEndStore {
  get<T>(key: string, defaultValue: T): T;
  update(key: string, value: unknown): Thenable<void>;
}

const RUN_ENDS_KEY = 'repsim.runEnds';

/** How the latest runs ended, kept in the workspace state across reloads (the last `keep`). */
export class RunEndRecord {
  constructor(
    private readonly store: RunEndStore,
    private readonly keep = 50,
  ) {}

  get(runId: string): RecordedRunEnd | undefined {
    return this.store.get<Record<string, RecordedRunEnd>>(RUN_ENDS_KEY, {})[runId];
  }

  async record(runId: string, end: RecordedRunEnd): Promise<void> {
    const entries = Object.entries(this.store.get<Record<string, RecordedRunEnd>>(RUN_ENDS_KEY, {})).filter(([id]) => id !== runId);
    entries.push([runId, end]);
    await this.store.update(RUN_ENDS_KEY, Object.fromEntries(entries.slice(-this.keep)));
  }
}
