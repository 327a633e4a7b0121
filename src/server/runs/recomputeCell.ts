/**
 * One cell of a finished comparison recomputed without some evaluation examples: the two models
 * rebuilt as the run obtained them (trained ones from the workspace cache, never retrained), each
 * restricted to the cell's layer, run over the evaluation data less those examples with the
 * comparison's settings (kernel, batch size, passes, seed; no permutations). Activation files:
 * the kept rows of the two arrays. Bad input is an InputError.
 */
import { compareModels, inputsOfKept, keptExamples, layerOfKept, withKeptExamples, type ComparedModel } from '../../engine/activations/index.js';
import { InputError } from '../../engine/errors.js';
import { ckaMatrix, defaultGramEngine, type LayerActivations } from '../../engine/similarity/index.js';
import type { CkaSettings, ComparisonResult } from '../../protocol/results.js';
import type { RecomputeCellRequest, RecomputedCell } from '../../protocol/webview.js';
import { comparedModel, comparisonEvaluation, kernelOf, oneLayer, type RunnableModel } from './comparedModels.js';
import type { RunSetup } from './experimentRunner.js';
import { findComparison, type RunSources } from './runSources.js';

export interface RecomputeOptions {
  readonly signal: AbortSignal;
  readonly log: (message: string) => void;
}


/** The layer of a finished comparison's model, by name (an InputError listing its layers when it has none so named). */
function checkLayer(name: string, layers: readonly string[], model: string, comparison: string): void {
  if (!layers.includes(name)) throw new InputError(`comparison '${comparison}' has no layer '${name}' of model '${model}' (it has: ${layers.join(', ')})`, name);
}

/**
 * Recomputes the cell (layerA, layerB) of `result`, the finished comparison of the run whose setup
 * is given, without the examples in `request.exclude`.
 */
export async function recomputeCell(
  request: { readonly runId: string } & RecomputeCellRequest,
  setup: RunSetup,
  result: ComparisonResult | undefined,
  sources: RunSources,
  options: RecomputeOptions,
): Promise<RecomputedCell> {
  const { runId, comparison, layerA, layerB, exclude } = request;
  const spec = findComparison(runId, setup, comparison);
  if (!result) throw new InputError(`comparison '${comparison}' of run ${runId} has not finished: its cells can be recomputed once it has`, comparison);
  checkLayer(layerA, result.layersA, spec.a, comparison);
  checkLayer(layerB, result.layersB, spec.b, comparison);
  const [a, b] = [await sources.model(runId, setup, spec.a, options.log), await sources.model(runId, setup, spec.b, options.log)];
  const settings = result.settings;
  const started = performance.now();
  options.log(`recomputing ${comparison} (${layerA}, ${layerB}) without ${exclude.length} example${exclude.length === 1 ? '' : 's'}`);
  let cell: { value: number | null; stderr: number | null; examples: number };
  if (a.kind === 'activations' && b.kind === 'activations') {
    cell = await activationsCell(layerOf(a.layers, layerA, spec.a), layerOf(b.layers, layerB, spec.b), exclude, settings, options.signal);
  } else if (a.kind !== 'activations' && b.kind !== 'activations') {
    cell = await modelsCell(a, b, { ...request, a: spec.a, b: spec.b }, setup, sources, settings, options);
  } else {
    throw new InputError(`${comparison}: an activations file can only be compared with another activations file`, comparison);
  }
  options.log(`${comparison} (${layerA}, ${layerB}) over ${cell.examples} examples: ${cell.value?.toFixed(4) ?? 'undefined'} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return { comparison, layerA, layerB, exclude: [...exclude], ...cell };
}

function layerOf(layers: readonly LayerActivations[], name: string, model: string): LayerActivations {
  const found = layers.find((l) => l.name === name);
  if (!found) throw new InputError(`model '${model}' has no array named '${name}' (it has: ${layers.map((l) => l.name).join(', ')})`, name);
  return found;
}

async function activationsCell(a: LayerActivations, b: LayerActivations, exclude: readonly number[], settings: CkaSettings, signal: AbortSignal) {
  const count = a.shape[0];
  if (b.shape[0] !== count) throw new InputError(`layer '${a.name}' has ${count} examples but layer '${b.name}' has ${b.shape[0]}: both models must see the same examples`, b.name);
  const kept = keptExamples(count, exclude);
  const [keptA, keptB] = kept.length === count ? [a, b] : [layerOfKept(a, kept), layerOfKept(b, kept)];
  const result = await ckaMatrix([keptA], [keptB], {
    engine: defaultGramEngine(),
    kernel: kernelOf(settings),
    estimator: settings.estimator,
    batchSize: Math.min(settings.batchSize, kept.length),
    passes: settings.passes,
    seed: settings.seed,
    signal,
  });
  return { value: result.matrix[0][0], stderr: result.stderr[0][0], examples: result.examples };
}

async function modelsCell(
  a: RunnableModel,
  b: RunnableModel,
  cell: { readonly a: string; readonly b: string; readonly layerA: string; readonly layerB: string; readonly exclude: readonly number[] },
  setup: RunSetup,
  sources: RunSources,
  settings: CkaSettings,
  options: RecomputeOptions,
) {
  const { data } = setup;
  const dataset = data.inputs === undefined ? await sources.dataset(data) : undefined;
  const evaluation = await comparisonEvaluation([a, b], data, dataset);
  const context = { data, dataset, evaluation };
  const kept = keptExamples(evaluation.count, cell.exclude);
  const subset = kept.length === evaluation.count ? evaluation : withKeptExamples(evaluation, kept);
  // A model's own inputs (another normalisation) are read for the kept examples as well.
  const restricted = (compared: ComparedModel): ComparedModel => (compared.inputs && subset !== evaluation ? { ...compared, inputs: inputsOfKept(compared.inputs, kept) } : compared);
  const comparedA = restricted(await comparedModel(a, cell.a, context, oneLayer(cell.layerA, cell.a)));
  const comparedB = a === b && cell.layerA === cell.layerB ? comparedA : restricted(await comparedModel(b, cell.b, context, oneLayer(cell.layerB, cell.b)));
  const comparison = await compareModels(comparedA, comparedB, subset, {
    kernel: kernelOf(settings),
    batchSize: settings.batchSize,
    passes: settings.passes,
    seed: settings.seed,
    firstPc: false,
    agreement: false,
    signal: options.signal,
    log: options.log,
  });
  return { value: comparison.cka.matrix[0][0], stderr: comparison.cka.stderr[0][0], examples: comparison.cka.examples };
}
