/**
 * A comparison's evaluation data and each model's entry for `compareModels`, built as a run
 * builds them (runComparison's compareLayerModels): the dataset's test split or the user's own
 * inputs, ONNX models fed through their image layout and normalisation, saved TF.js models
 * through their own normalisation. Used to recompute one cell of a finished run.
 */
import { onnxComparedModel, testSetEvaluation, type ComparedModel, type EvaluationData } from '../../engine/activations/index.js';
import { currentOnnxRuntime } from '../../engine/backend/index.js';
import type { ImageDataset } from '../../engine/data/index.js';
import { InputError } from '../../engine/errors.js';
import { readActivationArrays, readNpyFile } from '../../engine/io/files.js';
import { checkExampleIdCount } from '../../engine/io/exampleIds.js';
import { LINEAR, rbf, type KernelSpec } from '../../engine/similarity/kernel.js';
import type { CkaSettings } from '../../protocol/results.js';
import { checkImageInput, imageExampleShape, layerCandidates, onnxImageTransform, onnxInputsEvaluation, type OnnxLayerCandidate, type OnnxModelFile } from '../../engine/onnx/import/index.js';
import type { DataSpec } from '../../protocol/experiment.js';
import type { ObtainedModel } from './obtainModels.js';

export type RunnableModel = Exclude<ObtainedModel, { kind: 'activations' }>;

/** The user's own inputs (data.inputs, with data.labels), checked against every ONNX model. */
export async function userInputsEvaluation(data: DataSpec, onnxFiles: readonly OnnxModelFile[]): Promise<EvaluationData> {
  const path = data.inputs!;
  const { arrays: entries, ids } = await readActivationArrays(path, { precision: 'float32' });
  if (entries.length !== 1) throw new InputError(`${path}: holds ${entries.length} arrays (${entries.map((e) => e.name).join(', ')}); data.inputs takes one array, and optionally one named 'ids' (the examples' ids)`, path);
  const array = entries[0].array;
  checkExampleIdCount(ids, path, [{ name: entries[0].name, shape: array.shape }]);
  let labels: Int32Array | undefined;
  if (data.labels !== undefined) {
    const read = await readNpyFile(data.labels);
    if (read.shape.length !== 1 || !Array.from(read.data).every((v) => Number.isInteger(v) && v >= 0)) {
      throw new InputError(`${data.labels}: labels must be one non-negative integer class per example (shape [examples]); got shape [${read.shape.join(', ')}], ${read.dtype}`, data.labels);
    }
    labels = Int32Array.from(read.data);
  }
  const limit = data.evaluationExamples;
  const evaluation = onnxInputsEvaluation(array, path, onnxFiles, { labels });
  const count = limit === undefined ? evaluation.count : Math.min(limit, evaluation.count);
  const classes = labels ? Math.max(0, ...labels) + 1 : 0;
  return { ...evaluation, count, classNames: labels ? Array.from({ length: classes }, (_, k) => String(k)) : undefined, ...(ids ? { ids: ids.slice(0, count) } : {}) };
}

/** The evaluation data of a comparison of these models: the dataset's test split, or the user's inputs when `dataset` is undefined. */
export async function comparisonEvaluation(models: readonly RunnableModel[], data: DataSpec, dataset: ImageDataset | undefined): Promise<EvaluationData> {
  const onnxFiles = models.flatMap((m) => (m.kind === 'onnx' ? [m.file] : []));
  return dataset ? testSetEvaluation(dataset, data.evaluationExamples) : userInputsEvaluation(data, onnxFiles);
}

export interface ComparedModelContext {
  readonly data: DataSpec;
  /** The dataset, when the comparison runs on one (not on data.inputs). */
  readonly dataset: ImageDataset | undefined;
  readonly evaluation: EvaluationData;
}

/**
 * One model's entry for `compareModels`, its layers chosen by `select` (from the TF.js model, or
 * from the ONNX model's candidates).
 */
export async function comparedModel(
  model: RunnableModel,
  id: string,
  context: ComparedModelContext,
  select: { readonly tfjs: (model: Extract<RunnableModel, { kind: 'layers' }>) => string[]; readonly onnx: (path: string, candidates: readonly OnnxLayerCandidate[]) => OnnxLayerCandidate[] },
): Promise<ComparedModel> {
  const { dataset, evaluation } = context;
  const label = `model '${id}'`;
  if (model.kind === 'onnx') {
    const runtime = currentOnnxRuntime();
    if (!runtime) throw new InputError(`${model.file.path} (${label}): ONNX models run on ONNX Runtime, which is not running here (see \`repsim backend\`)`, model.file.path);
    let transform;
    if (dataset) {
      checkImageInput(model.file, model.image, dataset.name, evaluation.exampleShape);
      transform = onnxImageTransform(model.image, dataset.normalization, `${model.file.path} (${label})`);
    }
    const exampleShape = dataset ? imageExampleShape(model.image.layout, evaluation.exampleShape) : [...evaluation.exampleShape];
    const candidates = await layerCandidates(runtime, model.file, { exampleShape });
    return onnxComparedModel(model.file, select.onnx(model.file.path, candidates), { label, transform });
  }
  // A saved model may want its images prepared otherwise than RepSim's models (its entry's "normalize").
  const inputs = dataset && model.normalize && model.normalize !== 'dataset' ? testSetEvaluation(dataset, context.data.evaluationExamples, model.normalize).inputs : undefined;
  return { model: model.model, layers: select.tfjs(model), label, inputs };
}

/** A selection of one layer by name, for `comparedModel`: an InputError naming the model when it has no such layer. */
export function oneLayer(name: string, id: string): Parameters<typeof comparedModel>[3] {
  return {
    // compareModels checks the TF.js layer's name against the model (nested models' layers too).
    tfjs: () => [name],
    onnx: (path, candidates) => {
      const found = candidates.filter((c) => c.name === name);
      if (found.length === 0) throw new InputError(`${path} (model '${id}'): no layer named '${name}'`, name);
      return found;
    },
  };
}

/** The kernel a comparison's settings name. */
export function kernelOf(settings: CkaSettings): KernelSpec {
  return settings.kernel === 'rbf' ? rbf(settings.threshold ?? 1) : LINEAR;
}
