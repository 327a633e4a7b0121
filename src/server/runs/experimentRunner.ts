/**
 * Runs one experiment of an experiment file: data, then each model a comparison needs (trained
 * or reused, loaded, or read), then each comparison, writing results as they arrive. A run that
 * is cancelled or fails keeps every comparison it finished, on disk and in its snapshot.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { computeBackendName, formatBackendReport, type BackendReport } from '../../engine/backend/index.js';
import { loadDataset, type ImageDataset } from '../../engine/data/index.js';
import { InputError } from '../../engine/errors.js';
import type { DataSpec, Experiment } from '../../protocol/experiment.js';
import type { CkaSnapshot, ComparisonResult, ModelSummary, RunProgress, RunSnapshot, RunStatus, TrainingMetrics } from '../../protocol/results.js';
import type { WorkspaceCache } from '../cache/workspaceCache.js';
import { comparisonName, expandedExperiment, resolveAgainst, validateExperimentText, type SemanticOptions } from '../experiments/semantics.js';
import { ResultWriter } from '../output/resultFiles.js';
import { runFinding, withFindings } from '../../protocol/findings.js';
import { obtainModel, type ObtainedModel } from './obtainModels.js';
import { runComparison } from './runComparison.js';

export interface RunEvents {
  progress(progress: RunProgress): void;
  partial(comparison: string, a: string, b: string, cka: CkaSnapshot): void;
  comparison(result: ComparisonResult): void;
  training(metrics: TrainingMetrics): void;
  log(level: 'info' | 'warning' | 'error', message: string): void;
}

export interface ExperimentRunRequest {
  readonly runId: string;
  readonly filePath: string;
  readonly experiment: string;
  /** Results folder; default: the experiment's `output`, else repsim-results/<name> beside the file. */
  readonly outDir?: string;
  /** Default data folder for datasets (the `repsim.dataDirectory` setting, `--data-dir`). */
  readonly dataDir?: string;
  readonly cache: WorkspaceCache;
  readonly backend: BackendReport;
  readonly signal: AbortSignal;
  readonly events: RunEvents;
  /** Renders the HTML report; absent when report assets are unavailable. */
  readonly renderReport?: (snapshot: RunSnapshot) => Promise<string>;
  /** The workspace folder of the file: a relative `output` must stay inside it (default: the file's folder). */
  readonly workspaceFolder?: string;
  /** Permutations per cell for every comparison, in place of the file's. */
  readonly permutations?: number;
}

/** Reads and validates the file, then returns the named experiment (InputError if invalid). */
export async function loadExperiment(filePath: string, name?: string, options: SemanticOptions = {}): Promise<RunExperiment[]> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    throw new InputError(`${filePath}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, filePath);
  }
  const { file, issues } = await validateExperimentText(text, filePath, options);
  const errors = issues.filter((i) => i.severity === 'error');
  if (!file || errors.length) throw new InputError(`${filePath}: ${errors.map((i) => i.message).join('; ')}`, filePath);
  if (name === undefined) return file.experiments.map(expandedExperiment);
  const found = file.experiments.find((e) => e.name === name);
  if (!found) throw new InputError(`${filePath}: no experiment named '${name}' (it has: ${file.experiments.map((e) => e.name).join(', ')})`, name);
  return [expandedExperiment(found)];
}

/** An experiment as runs take it: each comparison with one estimator (expandedComparisons). */
export type RunExperiment = ReturnType<typeof expandedExperiment>;

/**
 * What a run compares with, once it has read its experiment: the experiment as it was then, its
 * data (paths resolved against the file), and the workspace cache and backend of its models.
 */
export interface RunSetup {
  readonly filePath: string;
  readonly experiment: RunExperiment;
  readonly data: DataSpec;
  readonly cache: WorkspaceCache;
  readonly backend: BackendReport;
}

/** An experiment's data with its paths resolved against the file, and `dataDir` (the default data folder) where it names none. */
export function resolvedDataSpec(experiment: Experiment, filePath: string, dataDir: string | undefined): DataSpec {
  return {
    ...experiment.data,
    dataDir: experiment.data?.dataDir ? resolveAgainst(filePath, experiment.data.dataDir) : dataDir,
    // The user's own examples (and labels), fed to the models as they are.
    inputs: experiment.data?.inputs === undefined ? undefined : resolveAgainst(filePath, experiment.data.inputs),
    labels: experiment.data?.labels === undefined ? undefined : resolveAgainst(filePath, experiment.data.labels),
  };
}

export function defaultOutputDirectory(filePath: string, experiment: Experiment): string {
  return experiment.output ? resolveAgainst(filePath, experiment.output) : join(dirname(filePath), 'repsim-results', experiment.name);
}

export class ExperimentRun {
  private status: RunStatus = 'running';
  private progress: RunProgress | undefined;
  private readonly models = new Map<string, ModelSummary>();
  private readonly training: Record<string, TrainingMetrics[]> = {};
  private readonly comparisons: ComparisonResult[] = [];
  private partial: RunSnapshot['partial'];
  private error: string | undefined;
  /** The results folder, once something has been written there. */
  private output: string | undefined;
  private readonly startedAt = new Date().toISOString();
  private finishedAt: string | undefined;
  private experimentName: string;
  private runSetup: RunSetup | undefined;

  constructor(private readonly request: ExperimentRunRequest) {
    this.experimentName = request.experiment;
  }

  /** What the run compares with; undefined until it has read its experiment. */
  get setup(): RunSetup | undefined {
    return this.runSetup;
  }

  snapshot(): RunSnapshot {
    return {
      runId: this.request.runId,
      experiment: this.experimentName,
      file: this.request.filePath,
      status: this.status,
      backend: computeBackendName(this.request.backend),
      backendDetail: formatBackendReport(this.request.backend).replace('\n', '; '),
      progress: this.progress,
      models: [...this.models.values()],
      training: this.training,
      comparisons: [...this.comparisons],
      partial: this.partial,
      finding: runFinding(this.comparisons),
      output: this.output,
      error: this.error,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
    };
  }

  async execute(): Promise<RunSnapshot> {
    const { request } = this;
    const [loaded] = await loadExperiment(request.filePath, request.experiment, { workspaceFolder: request.workspaceFolder });
    const experiment = request.permutations === undefined ? loaded : { ...loaded, comparisons: loaded.comparisons.map((c) => ({ ...c, permutations: request.permutations })) };
    // The folder is made with the first result, so that a run that fails early leaves none.
    const writer = new ResultWriter(request.outDir ?? defaultOutputDirectory(request.filePath, experiment), { origin: experiment.figures?.origin });
    await writer.checkWritable();
    await request.cache.ensure();
    try {
      await this.compareAll(experiment, writer);
      this.status = 'done';
    } catch (error) {
      const cancelled = request.signal.aborted || (error as Error)?.name === 'AbortError';
      this.status = cancelled ? 'cancelled' : 'failed';
      this.error = cancelled ? 'cancelled' : String((error as Error)?.message ?? error);
      throw error;
    } finally {
      this.finishedAt = new Date().toISOString();
      this.partial = undefined;
      // A failed comparison's running matrix is no result (a cancelled one's stays, as far as it got; the cache keeps both states).
      if (this.status === 'failed') await writer.removePartials();
      await this.writeRunFiles(writer);
    }
    return this.snapshot();
  }

  /** results.json and report.html: for a finished run, or one that failed or was cancelled with comparisons to keep. */
  private async writeRunFiles(writer: ResultWriter): Promise<void> {
    if (this.status !== 'done' && this.comparisons.length === 0) return;
    this.output = writer.directory;
    const snapshot = this.snapshot();
    let report: string | undefined;
    try {
      report = await this.request.renderReport?.(snapshot);
    } catch (error) {
      this.request.events.log('warning', `the HTML report could not be drawn: ${(error as Error).message}`);
    }
    const files = await writer.writeRun(snapshot, report);
    this.request.events.log('info', `results in ${writer.directory} (${files.map((f) => basename(f)).join(', ')})`);
  }

  private setProgress(progress: RunProgress): void {
    this.progress = progress;
    this.request.events.progress(progress);
  }

  private async compareAll(experiment: RunExperiment, writer: ResultWriter): Promise<void> {
    const { request } = this;
    const data = resolvedDataSpec(experiment, request.filePath, request.dataDir);
    this.runSetup = { filePath: request.filePath, experiment, data, cache: request.cache, backend: request.backend };
    let datasetPromise: Promise<ImageDataset> | undefined;
    const dataset = () =>
      (datasetPromise ??= loadDataset(data.dataset ?? 'fashion-mnist-subset', {
        dataDir: data.dataDir,
        download: data.download ?? true,
        signal: request.signal,
        onProgress: (p) => this.setProgress({ phase: 'data', label: `${p.phase} ${basename(p.file)}`, step: p.done, total: p.total, rateUnit: p.phase === 'read' ? 'files' : 'bytes' }),
      }));
    const obtained = new Map<string, Promise<ObtainedModel>>();
    const model = (id: string) => {
      let pending = obtained.get(id);
      if (!pending) {
        pending = obtainModel(id, experiment.models[id], {
          filePath: request.filePath,
          data,
          dataset,
          cache: request.cache,
          backend: request.backend,
          signal: request.signal,
          onTraining: (metrics) => {
            (this.training[id] ??= []).push(metrics);
            request.events.training(metrics);
          },
          onProgress: (label, step, total, rate, perStep) => this.setProgress({ phase: 'train', label, step, total, rate, rateUnit: 'images/s', etaSeconds: eta(step, total, rate, perStep) }),
          log: (message) => request.events.log('info', message),
        }).then((m) => {
          this.models.set(id, m.summary);
          return m;
        });
        obtained.set(id, pending);
      }
      return pending;
    };

    for (const [index, spec] of experiment.comparisons.entries()) {
      request.signal.throwIfAborted();
      const name = comparisonName(spec);
      const [a, b] = [await model(spec.a), await model(spec.b)];
      const batchSize = spec.batchSize ?? 256;
      const computed = await runComparison(a, b, {
        name,
        spec,
        data,
        dataset,
        cache: request.cache,
        signal: request.signal,
        log: (message) => request.events.log('info', message),
        onPartial: async (cka) => {
          this.partial = { comparison: name, a: spec.a, b: spec.b, cka };
          request.events.partial(name, spec.a, spec.b, cka);
          await writer.writePartial(name, cka);
        },
        onProgress: (phase, step, total, rate, rateUnit) =>
          this.setProgress({
            phase,
            label: `${phase === 'compare' ? 'comparing' : 'subspace match'} ${name} (${index + 1}/${experiment.comparisons.length})`,
            step,
            total,
            rate,
            rateUnit,
            etaSeconds: eta(step, total, rate, rateUnit === 'images/s' ? batchSize : 1),
          }),
      });
      const found = withFindings(computed);
      for (const warning of found.warnings) request.events.log('warning', `${name}: ${warning}`);
      this.comparisons.push(found);
      this.partial = undefined;
      this.output = writer.directory;
      await writer.writeComparison(found, (message) => request.events.log('warning', message));
      request.events.comparison(found);
    }
  }
}

/** Seconds left at `rate` items/s, where one step is `perStep` items (1 when rate counts steps). */
function eta(step: number, total: number, rate: number, perStep: number): number | undefined {
  if (!(rate > 0) || total <= 0) return undefined;
  return ((total - step) * (perStep || 1)) / rate;
}
