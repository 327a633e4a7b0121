/**
 * Gets each model a comparison needs: trained (or reused from the workspace cache when its
 * architecture, data, training config, seed and backend match; with 0 epochs, the untrained
 * network at its seeded initialization), loaded from a saved
 * TensorFlow.js model, or read as activations from an .npz.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { BackendReport } from '../../engine/backend/index.js';
import type { ImageDataset } from '../../engine/data/index.js';
import { InputError } from '../../engine/errors.js';
import { architectureName, buildModel, parseArchitecture } from '../../engine/models/index.js';
import type { LayerActivations } from '../../engine/similarity/layers.js';
import { datasetTrainingData, hasTrainingCheckpoint, loadLayersModelFromPath, resumeTraining, savedModelFingerprint, saveLayersModel, trainModel, type EpochSummary, type TrainOptions, type LearningRateSchedule, type TrainConfigInput } from '../../engine/train/index.js';
import { loadOnnxModel, type OnnxImageInputSpec, type OnnxModelFile } from '../../engine/onnx/import/index.js';
import { isActivationsModel, isOnnxModel, isSavedModel, type DataSpec, type InputNormalizationSpec, type ModelEntry, type TrainingSpec } from '../../protocol/experiment.js';
import type { ModelSummary, TrainingMetrics } from '../../protocol/results.js';
import { loadActivationFile } from '../../engine/io/activationFiles.js';
import { hashKey, type WorkspaceCache } from '../cache/workspaceCache.js';
import { resolveAgainst } from '../experiments/semantics.js';

/** Bumped when a change to training makes cached models stale. */
const TRAINING_FORMAT = 1;
const CHECKPOINT_EVERY_STEPS = 10;

export type ObtainedModel =
  | { readonly kind: 'layers'; readonly model: tfl.LayersModel; readonly key: string; readonly summary: ModelSummary; readonly normalize?: InputNormalizationSpec }
  | { readonly kind: 'onnx'; readonly file: OnnxModelFile; readonly image: OnnxImageInputSpec; readonly key: string; readonly summary: ModelSummary }
  | {
      readonly kind: 'activations';
      readonly layers: LayerActivations[];
      /** The activation file. */
      readonly path: string;
      /** Its example ids, when it has an `ids` array (one per example, checked). */
      readonly ids?: readonly string[];
      readonly key: string;
      readonly summary: ModelSummary;
    };

export interface ModelContext {
  readonly filePath: string;
  readonly data: DataSpec;
  readonly dataset: () => Promise<ImageDataset>;
  readonly cache: WorkspaceCache;
  readonly backend: BackendReport;
  readonly signal: AbortSignal;
  readonly onTraining: (metrics: TrainingMetrics) => void;
  readonly onProgress: (label: string, step: number, total: number, imagesPerSecond: number, imagesPerStep: number) => void;
  readonly log: (message: string) => void;
  /**
   * A trained model must come from the workspace cache (recomputing a finished run's cell): one
   * that is not there, or cannot be read, is an InputError rather than trained again.
   */
  readonly cachedOnly?: boolean;
}

interface TrainedModelMeta {
  readonly complete: boolean;
  readonly history: readonly EpochSummary[];
  readonly parameters: number;
}

/** The training settings of the experiment file, with RepSim's defaults, as the trainer takes them. */
export function trainConfig(spec: TrainingSpec | undefined, seed: number): TrainConfigInput {
  const epochs = spec?.epochs ?? 10;
  const learningRate = spec?.learningRate ?? 0.1;
  const warmupEpochs = spec?.warmupEpochs;
  const schedules: Record<NonNullable<TrainingSpec['schedule']>, LearningRateSchedule> = {
    constant: { kind: 'constant', learningRate, warmupEpochs },
    // He et al. 2016: ×0.1 at half and three quarters of the run.
    step: { kind: 'piecewise', learningRate, boundaries: [Math.round(epochs * 0.5), Math.round(epochs * 0.75)], factors: [0.1, 0.01], warmupEpochs },
    cosine: { kind: 'cosine', learningRate, warmupEpochs },
  };
  return {
    epochs,
    batchSize: spec?.batchSize ?? 128,
    momentum: spec?.momentum ?? 0.9,
    weightDecay: spec?.weightDecay ?? 5e-4,
    augment: spec?.augment ?? true,
    dataSeed: seed,
    schedule: schedules[spec?.schedule ?? 'cosine'],
  };
}

export async function obtainModel(id: string, entry: ModelEntry, context: ModelContext): Promise<ObtainedModel> {
  if (isActivationsModel(entry)) {
    const path = resolveAgainst(context.filePath, entry.activations);
    const { layers, ids } = await loadActivationFile(path);
    const { mtimeMs: modified, size } = await stat(path);
    return { kind: 'activations', layers, path, ...(ids ? { ids } : {}), key: hashKey({ activations: path, modified, size }), summary: { id, source: 'activations' } };
  }
  if (isSavedModel(entry)) {
    const path = resolveAgainst(context.filePath, entry.path);
    const model = await loadLayersModelFromPath(path);
    // Keyed by the files' content: weights rewritten in place leave the folder's mtime as it was.
    const normalize = entry.normalize ?? 'dataset';
    const key = hashKey({ saved: await savedModelFingerprint(path), normalize });
    return { kind: 'layers', model, key, normalize, summary: { id, source: 'saved', parameters: model.countParams() } };
  }
  if (isOnnxModel(entry)) {
    const path = resolveAgainst(context.filePath, entry.onnx);
    const file = await loadOnnxModel(path);
    const normalize = entry.normalize ?? 'dataset';
    const image: OnnxImageInputSpec = {
      layout: entry.layout ?? 'NCHW',
      normalization: typeof normalize === 'string' ? normalize : { mean: [normalize.mean].flat(), std: [normalize.std].flat() },
    };
    // Keyed by the file's content, as saved models are: a re-export under the same name is another model.
    const digest = createHash('sha256').update(await readFile(path)).digest('hex');
    return { kind: 'onnx', file, image, key: hashKey({ onnx: digest, image }), summary: { id, source: 'saved' } };
  }
  return trainOrReuse(id, entry, context);
}

async function trainOrReuse(id: string, entry: Extract<ModelEntry, { architecture: string }>, context: ModelContext): Promise<ObtainedModel> {
  const spec = parseArchitecture(entry.architecture);
  const seed = entry.seed ?? 0;
  const config = trainConfig(entry.training, seed);
  const dataset = await context.dataset();
  const inputShape = [dataset.train.height, dataset.train.width, dataset.train.channels] as const;
  const key = hashKey({
    format: TRAINING_FORMAT,
    architecture: architectureName(spec),
    dataset: dataset.name,
    examples: [dataset.train.count, dataset.test.count],
    config,
    seed,
    backend: context.backend.name,
  });
  const directory = context.cache.modelDirectory(key);
  const metaPath = join(directory, 'meta.json');
  const summary = (meta: TrainedModelMeta, source: 'trained' | 'cache'): ModelSummary => ({
    id,
    source,
    architecture: architectureName(spec),
    seed,
    parameters: meta.parameters,
    testAccuracy: meta.history.at(-1)?.testAccuracy ?? null,
  });

  if (config.epochs === 0) {
    // Nothing to train or cache: the seeded initializers give the same weights every time.
    const model = buildModel(spec, { inputShape, numClasses: dataset.classNames.length, seed });
    context.log(`${id}: ${architectureName(spec)} (seed ${seed}) untrained, at its initialization (0 epochs)`);
    return { kind: 'layers', model, key, summary: { id, source: 'untrained', architecture: architectureName(spec), seed, parameters: model.countParams(), testAccuracy: null } };
  }

  const cached = await context.cache.readJson<TrainedModelMeta>(metaPath);
  if (cached?.complete) {
    try {
      const model = await loadLayersModelFromPath(join(directory, 'model'));
      context.log(`${id}: reusing the trained ${architectureName(spec)} (seed ${seed}) from the cache`);
      cached.history.forEach((epoch) => context.onTraining(epochMetrics(id, epoch)));
      return { kind: 'layers', model, key, summary: summary(cached, 'cache') };
    } catch (error) {
      if (context.cachedOnly) throw new InputError(`model '${id}' is no longer in the cache (${(error as Error).message}): run the experiment again`, id);
      context.log(`${id}: the cached model could not be read (${(error as Error).message}); training again`);
      await rm(directory, { recursive: true, force: true });
    }
  }

  if (context.cachedOnly) throw new InputError(`model '${id}' is no longer in the cache: run the experiment again`, id);
  const checkpointDirectory = join(directory, 'checkpoint');
  const options: TrainOptions = {
    signal: context.signal,
    // Every few steps as well as at each epoch's end, so a killed server loses little training.
    checkpoint: { directory: checkpointDirectory, everySteps: CHECKPOINT_EVERY_STEPS },
    onBatch: (p) => {
      context.onProgress(`training ${id}`, p.epoch * p.batchesPerEpoch + p.batch + 1, p.epochs * p.batchesPerEpoch, p.imagesPerSecond, config.batchSize ?? 128);
      if (p.batch % 5 === 0 || p.batch === p.batchesPerEpoch - 1) {
        context.onTraining({ model: id, epoch: p.epoch + (p.batch + 1) / p.batchesPerEpoch, batch: p.batch, batches: p.batchesPerEpoch, loss: p.loss, accuracy: p.accuracy, learningRate: p.learningRate, imagesPerSecond: p.imagesPerSecond });
      }
    },
    onEpoch: (epoch) => context.onTraining(epochMetrics(id, epoch)),
  };
  const data = datasetTrainingData(dataset);
  let model: tfl.LayersModel;
  let result: Awaited<ReturnType<typeof trainModel>>;
  if (await hasTrainingCheckpoint(checkpointDirectory)) {
    context.log(`${id}: resuming the interrupted training of ${architectureName(spec)} (seed ${seed}) from its checkpoint`);
    ({ model, result } = await resumeTraining(checkpointDirectory, data, options));
  } else {
    model = buildModel(spec, { inputShape, numClasses: dataset.classNames.length, seed });
    context.log(`${id}: training ${architectureName(spec)} (seed ${seed}, ${model.countParams().toLocaleString('en-US')} parameters) for ${config.epochs} epochs`);
    result = await trainModel(model, data, config, options);
  }
  await saveLayersModel(model, join(directory, 'model'));
  const meta: TrainedModelMeta = { complete: true, history: result.history, parameters: model.countParams() };
  await context.cache.writeJson(metaPath, meta);
  await rm(join(directory, 'checkpoint'), { recursive: true, force: true });
  return { kind: 'layers', model, key, summary: summary(meta, 'trained') };
}

function epochMetrics(model: string, epoch: EpochSummary): TrainingMetrics {
  return { model, epoch: epoch.epoch + 1, loss: epoch.trainLoss, accuracy: epoch.trainAccuracy, testLoss: epoch.testLoss, testAccuracy: epoch.testAccuracy, imagesPerSecond: epoch.imagesPerSecond };
}
