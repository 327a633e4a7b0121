/**
 * Runs one comparison: minibatch CKA over the evaluation set (streamed, resumable from the
 * workspace cache), then the measures asked for. Partial results go out after every batch.
 */
import { stat } from 'node:fs/promises';
import { compareModels, type ComparedModel, type CompareState, type ModelComparison } from '../../engine/activations/index.js';
import { assertSameExampleIds } from '../../engine/io/exampleIds.js';
import { parseOnnxLayerSelection, selectOnnxLayers } from '../../engine/onnx/import/index.js';
import type { ImageDataset } from '../../engine/data/index.js';
import { InputError } from '../../engine/errors.js';
import { selectLayers, type LayerSelection } from '../../engine/models/index.js';
import { assertSameExamples } from '../../engine/similarity/layers.js';
import { ckaMatrix, defaultGramEngine, type AccumulatorState, type LayerActivations } from '../../engine/similarity/index.js';
import { layerNameMatcher } from '../../engine/models/index.js';
import type { DataSpec } from '../../protocol/experiment.js';
import type { SingleEstimatorComparison } from '../experiments/semantics.js';
import type { CellDetails, CkaSettings, CkaSnapshot, ComparisonResult } from '../../protocol/results.js';
import type { CellDetailsResult } from '../../engine/similarity/cellDetails.js';
import { permutationCellMask, type PermutationTestOptions } from '../../engine/similarity/permutationTest.js';
import { hashKey, type WorkspaceCache } from '../cache/workspaceCache.js';
import type { ObtainedModel } from './obtainModels.js';
import { comparedModel, comparisonEvaluation, kernelOf, type RunnableModel } from './comparedModels.js';
import { imageLayoutOf } from './exampleImages.js';

export interface ComparisonContext {
  readonly name: string;
  readonly spec: SingleEstimatorComparison;
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

export function ckaSettings(spec: SingleEstimatorComparison): CkaSettings {
  return {
    kernel: spec.kernel ?? 'linear',
    threshold: spec.kernel === 'rbf' ? (spec.threshold ?? 1) : undefined,
    estimator: spec.estimator ?? 'minibatch',
    batchSize: spec.batchSize ?? 256,
    passes: spec.passes ?? 1,
    seed: spec.seed ?? 0,
    permutations: spec.permutations ?? DEFAULT_PERMUTATIONS,
  };
}

/** Permutations per cell when an experiment does not say (0 turns the test off). */
export const DEFAULT_PERMUTATIONS = 100;

/** The engine's permutation-test options for a comparison (undefined: no test); unknown layers in permutationCells are an InputError naming the comparison. */
function permutationOptions(settings: CkaSettings, spec: SingleEstimatorComparison, name: string, layersA: readonly string[], layersB: readonly string[]): PermutationTestOptions | undefined {
  if (!settings.permutations) return undefined;
  const options = { permutations: settings.permutations, seed: settings.seed, cells: spec.permutationCells };
  try {
    permutationCellMask(layersA, layersB, options.cells);
  } catch (error) {
    throw new InputError(`${name}: ${(error as Error).message}`);
  }
  return options;
}

/** The protocol's cell details from the engine's, with whether the examples are images the server can draw. */
function cellDetails(details: CellDetailsResult | undefined, images: boolean): CellDetails | undefined {
  return details && { ...details, images };
}


export async function runComparison(a: ObtainedModel, b: ObtainedModel, context: ComparisonContext): Promise<ComparisonResult> {
  const { spec } = context;
  const settings = ckaSettings(spec);
  const selectionA = spec.layersA ?? spec.layers ?? 'blocks';
  const selectionB = spec.layersB ?? spec.layers ?? 'blocks';
  // estimatorVersion 2: jackknife standard errors, leftover examples used (earlier results differ).
  const inputsFiles = await Promise.all(
    [context.data.inputs, context.data.labels].map(async (path) => {
      if (path === undefined) return undefined;
      const info = await stat(path).catch(() => null);
      return { path, modified: info?.mtimeMs, size: info?.size };
    }),
  );
  const key = hashKey({ estimatorVersion: 3, a: a.key, b: b.key, settings, selectionA, selectionB, data: context.data, inputsFiles, firstPc: spec.firstPc, subspaceMatch: spec.subspaceMatch, permutationCells: spec.permutationCells });
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
      ? await compareActivations(a, b, settings, selectionA, selectionB, context, saved?.state as AccumulatorState | undefined, save)
      : a.kind !== 'activations' && b.kind !== 'activations'
        ? await compareLayerModels(a, b, settings, selectionA, selectionB, context, saved?.state as CompareState | undefined, save)
        : (() => {
            throw new InputError(`${context.name}: an activations file can only be compared with another activations file`);
          })();
  await context.cache.writeJson(statePath, { complete: true, result } satisfies SavedComparison);
  return result;
}

/** An ONNX model's selection: blocks, all, a glob / regex, or a pattern 'op:Relu,Add'. */
function onnxSelection(selection: LayerSelection) {
  return typeof selection === 'string' ? selection : parseOnnxLayerSelection(selection.pattern);
}

async function compareLayerModels(
  a: RunnableModel,
  b: RunnableModel,
  settings: CkaSettings,
  selectionA: LayerSelection,
  selectionB: LayerSelection,
  context: ComparisonContext,
  resumeFrom: CompareState | undefined,
  save: (state: CompareState) => Promise<void>,
): Promise<ComparisonResult> {
  const { spec } = context;
  const dataset = context.data.inputs !== undefined ? undefined : await context.dataset();
  const evaluation = await comparisonEvaluation([a, b], context.data, dataset);
  const compared = (model: RunnableModel, selection: LayerSelection, id: string): Promise<ComparedModel> =>
    comparedModel(model, id, { data: context.data, dataset, evaluation }, { tfjs: (m) => selectLayers(m.model, selection), onnx: (path, candidates) => selectOnnxLayers(path, candidates, onnxSelection(selection)) });
  const comparedA = await compared(a, selectionA, spec.a);
  const comparedB = b === a && selectionA === selectionB ? comparedA : await compared(b, selectionB, spec.b);
  const layersA = [...comparedA.layers];
  const layersB = [...comparedB.layers];
  const comparison: ModelComparison = await compareModels(
    comparedA,
    comparedB,
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
      permutations: permutationOptions(settings, spec, context.name, layersA, layersB),
      details: true,
    },
    async (progress) => {
      if (progress.phase === 'subspace-match') {
        context.onProgress('subspace-match', progress.step, progress.total, 0, 'pairs');
        return;
      }
      await save(progress.state!());
      const { result } = progress;
      context.onProgress('compare', progress.step, progress.total, progress.imagesPerSecond, 'images/s');
      await context.onPartial({ layersA: result!.layersA, layersB: result!.layersB, matrix: result!.matrix, stderr: result!.stderr, batchesDone: progress.step, totalBatches: progress.total, significance: progress.significance });
    },
  );
  const agreement = comparison.agreement;
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
    significance: comparison.significance,
    details: cellDetails(comparison.details, dataset !== undefined || imageLayoutOf([evaluation.count, ...evaluation.exampleShape]) !== undefined),
    batches: comparison.cka.batches,
    examples: comparison.cka.examples,
    accuracy: { a: agreement?.accuracyA ?? null, b: agreement?.accuracyB ?? null },
    firstPc: comparison.firstPc,
    firstPcMethod: comparison.firstPc ? comparison.firstPcMethod : undefined,
    agreement: spec.agreement === false || !agreement ? undefined : { agreement: agreement.agreement, perClass: agreement.perClass },
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
  modelA: Extract<ObtainedModel, { kind: 'activations' }>,
  modelB: Extract<ObtainedModel, { kind: 'activations' }>,
  settings: CkaSettings,
  selectionA: LayerSelection,
  selectionB: LayerSelection,
  context: ComparisonContext,
  resumeFrom: AccumulatorState | undefined,
  save: (state: AccumulatorState) => Promise<void>,
): Promise<ComparisonResult> {
  const { spec } = context;
  const a = selectArrays(modelA.layers, selectionA, spec.a);
  const b = spec.a === spec.b && selectionA === selectionB ? a : selectArrays(modelB.layers, selectionB, spec.b);
  assertSameExamples(a, b, { a: `model '${spec.a}'`, b: `model '${spec.b}'` }); // named as in the experiment file
  // Rows are examples: with ids in both files they must agree row by row; in one file only, a warning.
  const idsWarning = assertSameExampleIds(modelA.ids, modelB.ids, modelA.path, modelB.path);
  if (idsWarning) context.log(`${context.name}: ${idsWarning}`);
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
    permutations: permutationOptions(settings, spec, context.name, a.map((l) => l.name), b.map((l) => l.name)),
    details: true,
    onBatch: async (update) => {
      if (settings.estimator === 'minibatch') await save(update.state());
      const seconds = (performance.now() - started) / 1000;
      context.onProgress('compare', update.batchesDone, update.totalBatches, update.batchesDone / Math.max(seconds, 1e-9), 'batches/s');
      await context.onPartial({ layersA: update.result.layersA, layersB: update.result.layersB, matrix: update.result.matrix, stderr: update.result.stderr, batchesDone: update.batchesDone, totalBatches: update.totalBatches, significance: update.significance });
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
    significance: result.significance,
    details: cellDetails(result.details, false),
    batches: result.batches,
    examples: result.examples,
    accuracy: { a: null, b: null },
    warnings: [...result.warnings, ...(idsWarning ? [idsWarning] : [])],
  };
}
