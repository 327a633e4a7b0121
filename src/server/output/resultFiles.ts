/**
 * The files a run leaves in its output folder:
 *   results.json             the whole run (models, training curves, every comparison)
 *   <comparison>.json/.csv   one comparison's matrix (CSV: rows = layers of model A)
 *   <comparison>.stderr.csv  its standard errors
 *   <comparison>.svg/.png    its heatmap as a publication figure (PNG at 2× for print)
 *   <comparison>.layers.svg/.png  CKA of its corresponding layers, as a line plot
 *   <comparison>.partial.json  the running matrix while it computes (removed when done, and when the run fails)
 *   report.html              the self-contained report
 */
import { constants } from 'node:fs';
import { access, mkdir, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError } from '../../engine/errors.js';
import { writeFileAtomic } from '../../engine/io/files.js';
import type { CkaSnapshot, ComparisonResult, RunSnapshot } from '../../protocol/results.js';
import { matrixToCsv } from '../../engine/io/csv.js';
import { correspondingLayersSvg } from '../../../webview/figures/correspondingLayersSvg.js';
import { DEFAULT_ALPHA, type FigureOrigin } from '../../../webview/figures/figureInput.js';
import { heatmapSvg } from '../../../webview/figures/heatmapSvg.js';
import { svgToPng } from './figurePng.js';

/** A comparison name as a file name: letters, digits, '.', '_' and '-' only. */
export function fileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'comparison';
}

/** The files a comparison writes (the experiment's validation refuses names whose files would clash). */
export function comparisonFiles(name: string): string[] {
  const stem = fileStem(name);
  return [`${stem}.json`, `${stem}.csv`, `${stem}.stderr.csv`, `${stem}.png`, `${stem}.svg`, `${stem}.layers.svg`, `${stem}.layers.png`, `${stem}.partial.json`];
}

/** How the figures are drawn: the experiment's `figures` settings. */
export interface FigureSettings {
  readonly origin?: FigureOrigin;
  /** With a permutation test, cells with p above this are hatched (default DEFAULT_ALPHA, 0.05). */
  readonly alpha?: number;
  /** SVG → PNG (default: resvg, svgToPng); replaceable for tests. */
  readonly rasterize?: (svg: string) => Promise<Buffer>;
}

export class ResultWriter {
  private prepared = false;
  /** Comparison by file stem, in this run: a second name that maps to the same files is refused, not written over the first. */
  private readonly stems = new Map<string, string>();
  /** Partial files written and not yet replaced by their comparison's results. */
  private readonly partials = new Set<string>();
  /** Whether this writer made the folder (then it removes it again if a failed run leaves it empty). */
  private created = false;

  constructor(
    readonly directory: string,
    private readonly figures: FigureSettings = {},
  ) {}

  /** Fails early (InputError) when the folder, or the nearest folder above it that exists, cannot be written to; creates nothing. */
  async checkWritable(): Promise<void> {
    let existing = this.directory;
    for (;;) {
      const found = await stat(existing).catch(() => undefined);
      if (found) {
        if (!found.isDirectory()) throw new InputError(`${this.directory}: cannot write results here (${existing} is not a folder)`, this.directory);
        break;
      }
      if (dirname(existing) === existing) return;
      existing = dirname(existing);
    }
    await access(existing, constants.W_OK).catch(() => {
      throw new InputError(`${this.directory}: cannot write results here (${existing} is not writable)`, this.directory);
    });
  }

  /** Creates the folder (once), before the first file is written into it. */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    this.created = (await mkdir(this.directory, { recursive: true })) !== undefined;
    this.prepared = true;
  }

  /** The file stem of a comparison; an Error when another comparison of this run already writes those files. */
  private stemOf(name: string): string {
    const stem = fileStem(name);
    const key = stem.toLowerCase(); // case-insensitive file systems
    const owner = this.stems.get(key);
    if (owner !== undefined && owner !== name) throw new Error(`comparisons '${owner}' and '${name}' would write the same files (${stem}.json …): give one another name`);
    this.stems.set(key, name);
    return stem;
  }

  async writePartial(name: string, snapshot: CkaSnapshot): Promise<void> {
    await this.prepare();
    const path = join(this.directory, `${this.stemOf(name)}.partial.json`);
    await writeFileAtomic(path, `${JSON.stringify(snapshot)}\n`);
    this.partials.add(path);
  }

  /** Removes the partial files of comparisons that did not finish (a failed run); the cache keeps their state for a rerun. */
  async removePartials(): Promise<void> {
    if (this.partials.size === 0) return;
    for (const path of this.partials) await rm(path, { force: true });
    this.partials.clear();
    if (this.created && (await rmdir(this.directory).then(() => true, () => false))) this.prepared = this.created = false; // only if empty
  }

  /**
   * Writes a comparison's files; returns them. A PNG that cannot be drawn is left out with a
   * line through `warn` (the JSON, CSV and SVG files are written all the same).
   */
  async writeComparison(result: ComparisonResult, warn?: (message: string) => void): Promise<string[]> {
    await this.prepare();
    const stem = join(this.directory, this.stemOf(result.name));
    const files = [`${stem}.json`, `${stem}.csv`, `${stem}.stderr.csv`, `${stem}.svg`, `${stem}.layers.svg`];
    await writeFileAtomic(files[0], `${JSON.stringify(result, null, 1)}\n`);
    await writeFileAtomic(files[1], matrixToCsv(result.layersA, result.layersB, result.matrix));
    await writeFileAtomic(files[2], matrixToCsv(result.layersA, result.layersB, result.stderr));
    const heatmap = heatmapSvg(result, { origin: this.figures.origin, alpha: result.significance ? (this.figures.alpha ?? DEFAULT_ALPHA) : undefined });
    const layers = correspondingLayersSvg(result);
    await writeFileAtomic(files[3], heatmap);
    await writeFileAtomic(files[4], layers);
    const rasterize = this.figures.rasterize ?? svgToPng;
    try {
      for (const [svg, png] of [[heatmap, `${stem}.png`], [layers, `${stem}.layers.png`]]) {
        await writeFileAtomic(png, await rasterize(svg));
        files.push(png);
      }
    } catch (error) {
      if (!warn) throw error;
      warn(`${result.name}: the PNG figures could not be drawn (${(error as Error).message}); the SVG figures are written`);
    }
    await rm(`${stem}.partial.json`, { force: true });
    this.partials.delete(`${stem}.partial.json`);
    return files;
  }

  async writeRun(snapshot: RunSnapshot, reportHtml?: string): Promise<string[]> {
    await this.prepare();
    const files = [join(this.directory, 'results.json')];
    await writeFileAtomic(files[0], `${JSON.stringify(snapshot, null, 1)}\n`);
    if (reportHtml !== undefined) {
      files.push(join(this.directory, 'report.html'));
      await writeFileAtomic(files[1], reportHtml);
    }
    return files;
  }
}
