/**
 * Runs one comparison: minibatch CKA over the evaluation set (streamed, resumable from the
 * workspace cache), then the measures asked for. Partial results go out after every batch.
 */
import { compareModels, testSetEvaluation, type CompareState, type ModelComparison } from '../../engine/activations/index.js';
import type { ImageDataset } from '../../engine/data/index.js';
import { InputError } from '../../engine/errors.js';
import { selectLayers, type LayerSelection } from '../../engine/models/index.js';
import { ckaMatrix, defaultGramEngine, LINEAR, rbf, type AccumulatorState, type KernelSpec, type LayerActivations } from '../../engine/similarity/index.js';
import { layerNameMatcher } from '../../engine/models/index.js';
import type { ComparisonSpec, DataSpec } from '../../protocol/experiment.js';
import type { CkaSettings, CkaSnapshot, ComparisonResult } from '../../protocol/results.js';
import { hashKey, type WorkspaceCache } from '../cache/workspaceCache.js';
import type { ObtainedModel } from './obtainModels.js';

export interface ComparisonContext {
  readonly name: string;
  readonly spec: ComparisonSpec;
  readonly data: DataSpec;
  readonly dataset: () => Promise<ImageDataset>;
  readonly cache: WorkspaceCache;
  readonly signal: AbortSignal;
  readonly onPartial: (snapshot: CkaSnapshot) => Promise<void>;
  readonly onProgress: (phase: 'compare' | 'subspace-match', step: number, total: number, rate: number, rateUnit: string) => void;
  readonly log: (message: string) => void;
}

interface SavedComparison {
  readonly complete: boolean;
  readonly state?: CompareState | AccumulatorState;
  readonly result?: ComparisonResult;
}

export function ckaSettings(spec: ComparisonSpec): CkaSettings {
  return {
    kernel: spec.kernel ?? 'linear',
    threshold: spec.kernel === 'rbf' ? (spec.threshold ?? 1) : undefined,
    estimator: spec.estimator ?? 'minibatch',
    batchSize: spec.batchSize ?? 256,
    passes: spec.passes ?? 1,
    seed: spec.seed ?? 0,
  };
}

function kernelOf(settings: CkaSettings): KernelSpec {
  return settings.kernel === 'rbf' ? rbf(settings.threshold ?? 1) : LINEAR;
}

export async function runComparison(a: ObtainedModel, b: ObtainedModel, context: ComparisonContext): Promise<ComparisonResult> {
  const { spec } = context;
  const settings = ckaSettings(spec);
  const selectionA = spec.layersA ?? spec.layers ?? 'blocks';
  const selectionB = spec.layersB ?? spec.layers ?? 'blocks';
  // estimatorVersion 2: jackknife standard errors, leftover examples used (earlier results differ).
  const key = hashKey({ estimatorVersion: 2, a: a.key, b: b.key, settings, selectionA, selectionB, data: context.data, firstPc: spec.firstPc, subspaceMatch: spec.subspaceMatch });
  const statePath = context.cache.comparisonStatePath(key);
  const saved = await context.cache.readJson<SavedComparison>(statePath);
  if (saved?.complete && saved.result) {
    context.log(`${context.name}: reusing the finished comparison from the cache`);
    return { ...saved.result, name: context.name };
  }
  if (saved?.state) context.log(`${context.name}: resuming from the cache`);
  const save = (state: CompareState | AccumulatorState) => context.cache.writeJson(statePath, { complete: false, state } satisfies SavedComparison);

  const result =
    a.kind === 'activations' && b.kind === 'activations'
      ? await compareActivations(a.layers, b.layers, settings, selectionA, selectionB, context, saved?.state as AccumulatorState | undefined, save)
      : a.kind === 'layers' && b.kind === 'layers'
        ? await compareLayerModels(a, b, settings, selectionA, selectionB, context, saved?.state as CompareState | undefined, save)
        : (() => {
            throw new InputError(`${context.name}: an activations file can only be compared with another activations file`);
          })();
  await context.cache.writeJson(statePath, { complete: true, result } satisfies SavedComparison);
  return result;
}

async function compareLayerModels(
  a: Extract<ObtainedModel, { kind: 'layers' }>,
  b: Extract<ObtainedModel, { kind: 'layers' }>,
  settings: CkaSettings,
  selectionA: LayerSelection,
  selectionB: LayerSelection,
  context: ComparisonContext,
  resumeFrom: CompareState | undefined,
  save: (state: CompareState) => Promise<void>,
): Promise<ComparisonResult> {
  const { spec } = context;
  const dataset = await context.dataset();
  const evaluation = testSetEvaluation(dataset, context.data.evaluationExamples);
  // A saved model may want its images prepared otherwise than RepSim's models (its entry's "normalize").
  const inputsFor = (model: typeof a) => (model.normalize && model.normalize !== 'dataset' ? testSetEvaluation(dataset, context.data.evaluationExamples, model.normalize).inputs : undefined);
  const inputsA = inputsFor(a);
  const inputsB = b === a ? inputsA : inputsFor(b);
  const layersA = selectLayers(a.model, selectionA);
  const layersB = selectLayers(b.model, selectionB);
  const comparison: ModelComparison = await compareModels(
    { model: a.model, layers: layersA, label: `model '${spec.a}'`, inputs: inputsA },
    { model: b.model, layers: layersB, label: `model '${spec.b}'`, inputs: inputsB },
    evaluation,
    {
      kernel: kernelOf(settings),
      batchSize: settings.batchSize,
      passes: settings.passes,
      seed: settings.seed,
      firstPc: spec.firstPc !== false,
      agreement: true,
      subspaceMatch: spec.subspaceMatch ? { ...spec.subspaceMatch, seed: settings.seed } : undefined,
      signal: context.signal,
      resumeFrom,
      log: context.log,
    },
    async (progress) => {
      if (progress.phase === 'subspace-match') {
        context.onProgress('subspace-match', progress.step, progress.total, 0, 'pairs');
        return;
      }
      await save(progress.state!());
      const { result } = progress;
      context.onProgress('compare', progress.step, progress.total, progress.imagesPerSecond, 'images/s');
      await context.onPartial({ layersA: result!.layersA, layersB: result!.layersB, matrix: result!.matrix, stderr: result!.stderr, batchesDone: progress.step, totalBatches: progress.total });
    },
  );
  const agreement = comparison.agreement!;
  return {
    name: context.name,
    a: spec.a,
    b: spec.b,
    measure: 'cka',
    settings,
    layersA,
    layersB,
    matrix: comparison.cka.matrix,
    stderr: comparison.cka.stderr,
    stderrMethod: comparison.cka.stderrMethod,
    batches: comparison.cka.batches,
    examples: comparison.cka.examples,
    accuracy: { a: agreement.accuracyA, b: agreement.accuracyB },
    firstPc: comparison.firstPc,
    firstPcMethod: comparison.firstPc ? comparison.firstPcMethod : undefined,
    agreement: spec.agreement === false ? undefined : { agreement: agreement.agreement, perClass: agreement.perClass },
    subspaceMatch: comparison.subspaceMatch?.map((pair) => ({ layerA: pair.layerA, layerB: pair.layerB, results: pair.results.map(({ epsilon, similarity, a: x, b: y, simpleMatchSizes }) => ({ epsilon, similarity, a: x, b: y, simpleMatchSizes })) })),
    warnings: [...comparison.cka.warnings],
  };
}

/** Layer selection for activation files: 'all' and 'blocks' keep every array; a pattern filters by name. */
function selectArrays(layers: LayerActivations[], selection: LayerSelection, model: string): LayerActivations[] {
  if (typeof selection === 'string') return layers;
  const matches = layerNameMatcher(selection.pattern);
  const chosen = layers.filter((l) => matches(l.name));
  if (chosen.length === 0) throw new InputError(`model '${model}': no array matches the pattern '${selection.pattern}' (it has: ${layers.map((l) => l.name).join(', ')})`);
  return chosen;
}

async function compareActivations(
  layersA: LayerActivations[],
  layersB: LayerActivations[],
  settings: CkaSettings,
  selectionA: LayerSelection,
  selectionB: LayerSelection,
  context: ComparisonContext,
  resumeFrom: AccumulatorState | undefined,
  save: (state: AccumulatorState) => Promise<void>,
): Promise<ComparisonResult> {
  const { spec } = context;
  const a = selectArrays(layersA, selectionA, spec.a);
  const b = spec.a === spec.b && selectionA === selectionB ? a : selectArrays(layersB, selectionB, spec.b);
  const examples = a[0].shape[0];
  const started = performance.now();
  const result = await ckaMatrix(a, b, {
    engine: defaultGramEngine(),
    kernel: kernelOf(settings),
    estimator: settings.estimator,
    batchSize: Math.min(settings.batchSize, examples),
    passes: settings.passes,
    seed: settings.seed,
    signal: context.signal,
    resumeFrom,
    onBatch: async (update) => {
      if (settings.estimator === 'minibatch') await save(update.state());
      const seconds = (performance.now() - started) / 1000;
      context.onProgress('compare', update.batchesDone, update.totalBatches, update.batchesDone / Math.max(seconds, 1e-9), 'batches/s');
      await context.onPartial({ layersA: update.result.layersA, layersB: update.result.layersB, matrix: update.result.matrix, stderr: update.result.stderr, batchesDone: update.batchesDone, totalBatches: update.totalBatches });
    },
  });
  return {
    name: context.name,
    a: spec.a,
    b: spec.b,
    measure: 'cka',
    settings: { ...settings, batchSize: result.batchSize },
    layersA: result.layersA,
    layersB: result.layersB,
    matrix: result.matrix,
    stderr: result.stderr,
    stderrMethod: result.stderrMethod,
    batches: result.batches,
    examples: result.examples,
    accuracy: { a: null, b: null },
    warnings: [...result.warnings],
  };
}
