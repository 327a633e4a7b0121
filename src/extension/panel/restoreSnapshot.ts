/**
 * What a results panel restored after a reload shows. Its saved snapshot may be older than the
 * run's end (the webview saves its state now and then), and a run that was live died with the
 * previous extension host. The run's results.json, written when it ended, has the last word
 * when it belongs to that run; otherwise the saved snapshot is shown, marked interrupted.
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

/** The snapshot to show for a panel restored without a live run behind it. */
export async function restoredSnapshot(saved: RunSnapshot): Promise<RunSnapshot> {
  if (saved.status !== 'running' && saved.status !== 'queued') return saved;
  return (await finishedSnapshotOnDisk(saved)) ?? interruptedSnapshot(saved);
}
