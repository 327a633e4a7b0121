/**
 * A finished run's data and models, got again for its drill-down (example thumbnails,
 * recomputed cells): the dataset, the user's inputs array, and the models as the run obtained
 * them, trained ones only from the workspace cache. Each is kept for the next request, the
 * dataset and inputs for the latest data asked for, the models for the latest run asked for.
 */
import { loadDataset, type ImageDataset } from '../../engine/data/index.js';
import { InputError } from '../../engine/errors.js';
import { readActivationFile } from '../../engine/io/files.js';
import type { NdArray } from '../../engine/io/ndarray.js';
import { isActivationsModel, type DataSpec } from '../../protocol/experiment.js';
import { comparisonName, type SingleEstimatorComparison } from '../experiments/semantics.js';
import type { RunSetup } from './experimentRunner.js';
import { obtainModel, type ObtainedModel } from './obtainModels.js';

/** The comparison of a run by its name (an InputError listing the run's comparisons when none has it). */
export function findComparison(runId: string, setup: RunSetup, name: string): SingleEstimatorComparison {
  const found = setup.experiment.comparisons.find((c) => comparisonName(c) === name);
  if (!found) throw new InputError(`run ${runId} has no comparison named '${name}' (it has: ${setup.experiment.comparisons.map(comparisonName).join(', ')})`, name);
  return found;
}

/** Whether a comparison is of activation files (no models to run, no images). */
export function comparesActivationFiles(setup: RunSetup, spec: SingleEstimatorComparison): boolean {
  return [spec.a, spec.b].some((id) => {
    const entry = setup.experiment.models[id];
    return entry !== undefined && isActivationsModel(entry);
  });
}

/** The latest value asked for, by key; a load that fails is not kept, so the next request tries again. */
class Latest<T> {
  private kept: { readonly key: string; readonly value: Promise<T> } | undefined;

  get(key: string, load: () => Promise<T>): Promise<T> {
    if (this.kept?.key === key) return this.kept.value;
    const entry = { key, value: load() };
    this.kept = entry;
    entry.value.catch(() => {
      if (this.kept === entry) this.kept = undefined;
    });
    return entry.value;
  }

  clear(): void {
    this.kept = undefined;
  }
}

export class RunSources {
  private readonly keptDataset = new Latest<ImageDataset>();
  private readonly keptInputs = new Latest<NdArray>();
  private keptModels: { readonly runId: string; readonly byId: Map<string, Promise<ObtainedModel>> } | undefined;

  /** The run's dataset, read where the run found or downloaded it (not downloaded again). */
  dataset(data: DataSpec): Promise<ImageDataset> {
    const name = data.dataset ?? 'fashion-mnist-subset';
    return this.keptDataset.get(JSON.stringify([name, data.dataDir ?? null]), () => loadDataset(name, { dataDir: data.dataDir, download: false }));
  }

  /** The one array of the run's `data.inputs`. */
  inputs(path: string): Promise<NdArray> {
    return this.keptInputs.get(path, async () => {
      const entries = await readActivationFile(path, { precision: 'float32' });
      if (entries.length !== 1) throw new InputError(`${path}: holds ${entries.length} arrays (${entries.map((e) => e.name).join(', ')}); data.inputs takes one array`, path);
      return entries[0].array;
    });
  }

  /** Model `id` of the run, as the run obtained it, but never trained: a trained model missing from the cache is an InputError. */
  model(runId: string, setup: RunSetup, id: string, log: (message: string) => void): Promise<ObtainedModel> {
    const entry = setup.experiment.models[id];
    if (!entry) throw new InputError(`run ${runId} has no model '${id}'`, id);
    if (this.keptModels?.runId !== runId) {
      this.disposeModels();
      this.keptModels = { runId, byId: new Map() };
    }
    const byId = this.keptModels.byId;
    let pending = byId.get(id);
    if (!pending) {
      pending = obtainModel(id, entry, {
        filePath: setup.filePath,
        data: setup.data,
        dataset: () => this.dataset(setup.data),
        cache: setup.cache,
        backend: setup.backend,
        signal: new AbortController().signal, // shared by later requests: not one request's
        cachedOnly: true,
        onTraining: () => undefined,
        onProgress: () => undefined,
        log,
      });
      byId.set(id, pending);
      pending.catch(() => byId.get(id) === pending && byId.delete(id));
    }
    return pending;
  }

  /** Frees every model kept (TF.js weights live outside the garbage collector). */
  dispose(): void {
    this.disposeModels();
    this.keptDataset.clear();
    this.keptInputs.clear();
  }

  private disposeModels(): void {
    for (const pending of this.keptModels?.byId.values() ?? []) {
      pending.then((m) => m.kind === 'layers' && m.model.dispose()).catch(() => undefined);
    }
    this.keptModels = undefined;
  }
}
