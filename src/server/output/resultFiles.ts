/**
 * The files a run leaves in its output folder:
 *   results.json             the whole run (models, training curves, every comparison)
 *   <comparison>.json/.csv   one comparison's matrix (CSV: rows = layers of model A)
 *   <comparison>.stderr.csv  its standard errors
 *   <comparison>.png         its heatmap
 *   <comparison>.partial.json  the running matrix while it computes (removed when done)
 *   report.html              the self-contained report
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../engine/io/files.js';
import type { CkaSnapshot, ComparisonResult, RunSnapshot } from '../../protocol/results.js';
import { matrixToCsv } from '../../engine/io/csv.js';
import { heatmapPng } from './heatmapPng.js';

/** A comparison name as a file name: letters, digits, '.', '_' and '-' only. */
export function fileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'comparison';
}

export class ResultWriter {
  constructor(readonly directory: string) {}

  async prepare(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
  }

  async writePartial(name: string, snapshot: CkaSnapshot): Promise<void> {
    await writeFileAtomic(join(this.directory, `${fileStem(name)}.partial.json`), `${JSON.stringify(snapshot)}\n`);
  }

  async writeComparison(result: ComparisonResult): Promise<string[]> {
    const stem = join(this.directory, fileStem(result.name));
    const files = [`${stem}.json`, `${stem}.csv`, `${stem}.stderr.csv`, `${stem}.png`];
    await writeFileAtomic(files[0], `${JSON.stringify(result, null, 1)}\n`);
    await writeFileAtomic(files[1], matrixToCsv(result.layersA, result.layersB, result.matrix));
    await writeFileAtomic(files[2], matrixToCsv(result.layersA, result.layersB, result.stderr));
    await writeFileAtomic(files[3], heatmapPng(result.matrix));
    await rm(`${stem}.partial.json`, { force: true });
    return files;
  }

  async writeRun(snapshot: RunSnapshot, reportHtml?: string): Promise<string[]> {
    const files = [join(this.directory, 'results.json')];
    await writeFileAtomic(files[0], `${JSON.stringify(snapshot, null, 1)}\n`);
    if (reportHtml !== undefined) {
      files.push(join(this.directory, 'report.html'));
      await writeFileAtomic(files[1], reportHtml);
    }
    return files;
  }
}
