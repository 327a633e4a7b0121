/**
 * The experiment file format (`*.repsim.json`, JSON with comments). `schemas/repsim.schema.json`
 * is its one schema (editor validation and completion, and the server's validation); these
 * types mirror it.
 */

export type DatasetName = 'fashion-mnist-subset' | 'fashion-mnist' | 'cifar10';
/** For ONNX models a pattern may also be `op:Relu,Add` (the candidates of these op types). */
export type LayerSelectionSpec = 'all' | 'blocks' | { readonly pattern: string };

export interface ExperimentFile {
  readonly version?: 1;
  readonly experiments: readonly Experiment[];
}

export interface Experiment {
  readonly name: string;
  readonly description?: string;
  readonly data?: DataSpec;
  readonly models: Readonly<Record<string, ModelEntry>>;
  readonly comparisons: readonly ComparisonSpec[];
  readonly output?: string;
  readonly figures?: FigureSpec;
}

/** How the PNG and SVG figures are drawn. */
export interface FigureSpec {
  /** Where layer 1 of both models sits (default 'bottom-left', as in Nguyen et al.'s figures). */
  readonly origin?: 'bottom-left' | 'top-left';
}

export interface DataSpec {
  readonly dataset?: DatasetName;
  readonly dataDir?: string;
  readonly download?: boolean;
  readonly evaluationExamples?: number;
  /**
   * The user's own examples (.npy, or an .npz with one array and optionally an `ids` array of
   * per-example ids), fed to every model as they are (their preprocessing; examples on the first
   * axis) in place of the dataset's test split.
   */
  readonly inputs?: string;
  /** Integer class labels for `inputs` (.npy), one per example: accuracy and per-class agreement need them. */
  readonly labels?: string;
}

export interface TrainingSpec {
  /** 0: the untrained network, at its seeded initialization. */
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  readonly momentum?: number;
  readonly weightDecay?: number;
  readonly schedule?: 'constant' | 'step' | 'cosine';
  readonly warmupEpochs?: number;
  readonly augment?: boolean;
}

/**
 * How a saved model's input images are prepared: 'dataset' (default; RepSim's per-channel
 * normalisation measured on the training split), 'none' (raw pixel values 0‥255), or
 * (pixel / 255 − mean) / std with one number for every channel or one per channel.
 */
export type InputNormalizationSpec = 'dataset' | 'none' | { readonly mean: number | readonly number[]; readonly std: number | readonly number[] };

/**
 * How a dataset's images are prepared for an ONNX model: 'dataset' (RepSim's own per-channel
 * normalisation, as its models are trained), 'scale' (pixels scaled to [0, 1]), or
 * (pixel / 255 − mean) / std per channel (torchvision's convention).
 */
export type OnnxNormalizationSpec = 'dataset' | 'scale' | { readonly mean: number | readonly number[]; readonly std: number | readonly number[] };

export type ModelEntry =
  | { readonly architecture: string; readonly seed?: number; readonly training?: TrainingSpec }
  | { readonly path: string; readonly normalize?: InputNormalizationSpec }
  | { readonly onnx: string; readonly layout?: 'NCHW' | 'NHWC'; readonly normalize?: OnnxNormalizationSpec }
  | { readonly activations: string };

export interface SubspaceMatchSpec {
  readonly epsilons: readonly number[];
  readonly pairs?: 'corresponding' | readonly (readonly [string, string])[];
  readonly examples?: number;
  readonly maxRows?: number;
}

export type EstimatorName = 'minibatch' | 'biased' | 'debiased';

/** 'all' cells, the 'diagonal' (layer i of A with layer i of B), or explicit [layerA, layerB] pairs. */
export type PermutationCellsSpec = 'all' | 'diagonal' | readonly (readonly [string, string])[];

export interface ComparisonSpec {
  readonly name?: string;
  readonly a: string;
  readonly b: string;
  readonly kernel?: 'linear' | 'rbf';
  readonly threshold?: number;
  /** One estimator, or several: the comparison runs once per estimator (named `<name>-<estimator>`). */
  readonly estimator?: EstimatorName | readonly EstimatorName[];
  readonly batchSize?: number;
  readonly passes?: number;
  readonly seed?: number;
  /** Permutations for each cell's null distribution and p-value (default 100; 0: none). */
  readonly permutations?: number;
  /** Which cells get the permutation test (default 'all'). */
  readonly permutationCells?: PermutationCellsSpec;
  readonly layers?: LayerSelectionSpec;
  readonly layersA?: LayerSelectionSpec;
  readonly layersB?: LayerSelectionSpec;
  readonly firstPc?: boolean;
  readonly agreement?: boolean;
  readonly subspaceMatch?: SubspaceMatchSpec;
}

/** One problem in an experiment file, located by JSON path and, when known, by text offset. */
export interface ValidationIssue {
  readonly severity: 'error' | 'warning';
  /** Dotted JSON path, e.g. `experiments[0].models.small.training.epochs` ('' for the file). */
  readonly path: string;
  readonly message: string;
  /** Offset and length in the file's text, for editor diagnostics. */
  readonly offset?: number;
  readonly length?: number;
}

export function isTrainedModel(entry: ModelEntry): entry is Extract<ModelEntry, { architecture: string }> {
  return 'architecture' in entry;
}
export function isSavedModel(entry: ModelEntry): entry is Extract<ModelEntry, { path: string }> {
  return 'path' in entry;
}
export function isOnnxModel(entry: ModelEntry): entry is Extract<ModelEntry, { onnx: string }> {
  return 'onnx' in entry;
}
export function isActivationsModel(entry: ModelEntry): entry is Extract<ModelEntry, { activations: string }> {
  return 'activations' in entry;
}
