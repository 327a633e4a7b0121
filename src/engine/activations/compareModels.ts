/**
 * Compares two models on the same evaluation examples: minibatch CKA between every selected
 * layer of A and of B (Nguyen et al. 2021: batches of 256, k passes, sampling without
 * replacement within a pass), streamed batch by batch, plus on request the first-PC variance per
 * layer, prediction agreement, and subspace match for chosen layer pairs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { currentOnnxRuntime } from '../backend/index.js';
import { InputError } from '../errors.js';
import { FusedGramRunner } from '../onnx/activations/fusedGramModel.js';
import { UnsupportedLayerError } from '../onnx/export/index.js';
import { OnnxModelRunner, type OnnxInputTransform, type OnnxLayerCandidate, type OnnxModelFile } from '../onnx/import/index.js';
import type { OnnxRuntime } from '../onnx/runtime.js';
import { OnnxGramEngine, type OnnxCenteredGrams } from '../onnx/similarity/onnxGramEngine.js';
import { isCurrentAccumulatorState, MinibatchCkaAccumulator, sameNames, type AccumulatorState, type CkaMatrixResult } from '../similarity/accumulator.js';
import { batchHsic } from '../similarity/batchHsic.js';
import type { CellDetailsResult } from '../similarity/cellDetails.js';
import { CellEvidence, type CellEvidenceOptions, type CellEvidenceState } from '../similarity/cellEvidence.js';
import type { PermutationTestOptions, PermutationTestResult } from '../similarity/permutationTest.js';
import { TFJS_PERMUTATION_KERNELS } from '../similarity/permutedCross.js';
import { layerBatchStatistics, type CenteredGram } from '../similarity/centeredGrams.js';
import { firstPcPartsFromGram, type FirstPcParts } from '../similarity/principalComponent.js';
import { LINEAR, type KernelSpec } from '../similarity/kernel.js';
import { batchSchedule, blockOfEachRow, scheduleCoverage } from '../similarity/schedule.js';
import { AgreementCounter, type AgreementState, type PredictionAgreement } from './agreement.js';
import { exampleIndices, type EvaluationData } from './evaluationData.js';
import { layerOutputs, planExecution, streamLayerOutputs, type ExecutionPlan } from './layerStream.js';
import { matchLayerPairs, resolvePairs, type LayerPairMatch, type SubspaceMatchRequest } from './layerPairMatch.js';

/** A TensorFlow.js model, or an ONNX model read from a `.onnx` file (OnnxComparedModel). */
export type ComparedModel = TfjsComparedModel | OnnxComparedModel;

/**
 * An ONNX model file: runs on ONNX Runtime only (with its grams fused into its graph), fed the
 * evaluation data's batches through `transform` when given (a dataset's NHWC images turned into
 * its layout and normalisation), else as they are (the user's own inputs array).
 */
export interface OnnxComparedModel {
  readonly onnx: OnnxModelFile;
  /** The selected candidates, in forward order; `layers` are their names. */
  readonly candidates: readonly OnnxLayerCandidate[];
  readonly layers: readonly string[];
  readonly label?: string;
  readonly transform?: OnnxInputTransform;
  readonly inputs?: undefined;
  readonly model?: undefined;
}

export function isOnnxCompared(compared: ComparedModel): compared is OnnxComparedModel {
  return (compared as OnnxComparedModel).onnx !== undefined;
}

/** An ONNX model's entry for `compareModels`, its layers named by the candidates' names. */
export function onnxComparedModel(file: OnnxModelFile, candidates: readonly OnnxLayerCandidate[], options: { label?: string; transform?: OnnxInputTransform } = {}): OnnxComparedModel {
  return { onnx: file, candidates, layers: candidates.map((c) => c.name), label: options.label, transform: options.transform };
}

function sameModel(a: ComparedModel, b: ComparedModel): boolean {
  if (!sameNames(a.layers, b.layers)) return false;
  if (isOnnxCompared(a) || isOnnxCompared(b)) return isOnnxCompared(a) && isOnnxCompared(b) && a.onnx === b.onnx && a.transform === b.transform;
  return a.model === b.model && a.inputs === b.inputs;
}

export interface TfjsComparedModel {
  readonly model: tfl.LayersModel;
  readonly onnx?: undefined;
  /** Hidden layers to compare, in forward order. */
  readonly layers: readonly string[];
  readonly label?: string;
  /** This model's inputs for a batch, when they differ from the evaluation data's (a model that expects other input normalisation). */
  readonly inputs?: EvaluationData['inputs'];
}

export interface CompareModelsOptions {
  readonly kernel?: KernelSpec;
  readonly batchSize?: number;
  readonly passes?: number;
  readonly seed?: number;
  readonly firstPc?: boolean;
  readonly agreement?: boolean;
  readonly subspaceMatch?: SubspaceMatchRequest;
  readonly signal?: AbortSignal;
  /** Continue an interrupted comparison with the same settings from its saved state. */
  readonly resumeFrom?: CompareState;
  /**
   * Where the forward passes and grams run: ONNX Runtime (default: the one `initBackend` chose,
   * when it runs), or null for TensorFlow.js. A model with a layer the ONNX exporter does not
   * know runs on TensorFlow.js, with the layer named through `log`.
   */
  readonly runtime?: OnnxRuntime | null;
  readonly log?: (message: string) => void;
  /** A permutation test per cell (similarity/permutationTest.ts); none when absent or with 0 permutations. */
  readonly permutations?: PermutationTestOptions;
  /** Keep each cell's per-batch values and per-example shares for its drill-down (similarity/cellDetails.ts). */
  readonly details?: CellEvidenceOptions['details'];
}

/**
 * Everything a comparison has accumulated after some batches, as plain JSON. A state whose
 * accumulator an older version saved (isCurrentAccumulatorState) is not resumed: the comparison
 * starts again, with a warning.
 */
export interface CompareState extends CellEvidenceState {
  readonly batchesDone: number;
  readonly accumulator: AccumulatorState;
  readonly firstPc: { readonly a: FirstPcState; readonly b: FirstPcState };
  readonly agreement: AgreementState;
}

export interface CompareProgress {
  readonly phase: 'cka' | 'subspace-match';
  readonly pass: number;
  readonly step: number;
  readonly total: number;
  readonly imagesPerSecond: number;
  /** The running CKA matrix and its standard errors (cka phase). */
  readonly result?: CkaMatrixResult;
  /** The permutation test over the batches so far (cka phase, when it runs). */
  readonly significance?: PermutationTestResult;
  /** The state to save so that a rerun can resume after this batch (cka phase). */
  readonly state?: () => CompareState;
}

export interface ModelComparison {
  /** `examples`: the examples used (all but fewer than 4 left over per pass, which a warning counts). */
  readonly cka: CkaMatrixResult & { readonly kernel: KernelSpec; readonly batchSize: number; readonly passes: number; readonly seed: number; readonly examples: number };
  /**
   * Each layer's share of variance on its first principal component (null: no variance), pooled
   * over batches: Σ_b λ₁(b) / Σ_b tr(b), each batch's activations centred on the batch's own
   * mean (see `firstPcMethod`).
   */
  readonly firstPc?: { readonly a: (number | null)[]; readonly b: (number | null)[] };
  /** What `firstPc` is, in words, with its batch size. */
  readonly firstPcMethod?: string;
  readonly agreement?: PredictionAgreement;
  readonly subspaceMatch?: readonly LayerPairMatch[];
  /** What ran each model's forward pass and grams, e.g. 'ONNX Runtime cpu' or 'TensorFlow.js'. */
  readonly engines: { readonly a: string; readonly b: string };
  readonly significance?: PermutationTestResult;
  readonly details?: CellDetailsResult;
}

const DEFAULT_BATCH_SIZE = 256;

export async function compareModels(
  a: ComparedModel,
  b: ComparedModel,
  data: EvaluationData,
  options: CompareModelsOptions = {},
  onProgress?: (progress: CompareProgress) => void | Promise<void>,
): Promise<ModelComparison> {
  const kernel = options.kernel ?? LINEAR;
  const batchSize = Math.min(options.batchSize ?? DEFAULT_BATCH_SIZE, data.count);
  const passes = options.passes ?? 1;
  const seed = options.seed ?? 0;
  const same = sameModel(a, b);
  const runtime = options.runtime === undefined ? currentOnnxRuntime() : options.runtime;
  const firstPc = options.firstPc === true;
  if (options.subspaceMatch && (isOnnxCompared(a) || isOnnxCompared(b))) resolvePairs(a, b, options.subspaceMatch.pairs); // refused for ONNX models before any work
  const runnerA = await chooseRunner(a, 'model A', kernel, firstPc, batchSize, runtime, options.log);
  const runnerB = same ? null : await chooseRunner(b, 'model B', kernel, firstPc, batchSize, runtime, options.log);
  const hsicEngine = runtime ? new OnnxGramEngine(runtime) : null;
  const schedule = { examples: data.count, batchSize, passes, seed };
  const plans = [...batchSchedule(schedule)];
  const coverage = scheduleCoverage(schedule);
  const stale = options.resumeFrom !== undefined && !isCurrentAccumulatorState(options.resumeFrom.accumulator);
  const resume = stale ? undefined : options.resumeFrom;
  const runWarnings = [
    ...(coverage.warning ? [coverage.warning] : []),
    ...(stale ? ['the saved state of the interrupted comparison is from an older version of RepSim: the comparison started again from the first batch'] : []),
  ];
  const accumulator = resume ? MinibatchCkaAccumulator.fromJSON(resume.accumulator) : new MinibatchCkaAccumulator(a.layers, b.layers, { groupExamples: batchSize });
  if (!sameNames(accumulator.layersA, a.layers) || !sameNames(accumulator.layersB, b.layers)) throw new Error('the saved comparison state is over different layers');
  const current = (): CkaMatrixResult => {
    const result = accumulator.result();
    return { ...result, warnings: [...runWarnings, ...result.warnings] };
  };
  const pcSums = { a: new PcPool(a.layers.length, resume?.firstPc.a), b: new PcPool(b.layers.length, resume?.firstPc.b) };
  const agreement = new AgreementCounter(data.classNames, resume?.agreement);
  const skipped = resume?.batchesDone ?? 0;
  const evidence = CellEvidence.start({
    layersA: a.layers,
    layersB: b.layers,
    permutations: options.permutations,
    details: options.details,
    examples: data.count,
    batches: plans.length,
    skipped,
    resumed: resume,
    warn: (message) => runWarnings.push(message),
  });
  const kernels = hsicEngine?.permutationKernels ?? TFJS_PERMUTATION_KERNELS;
  const state = (): CompareState => ({
    batchesDone: accumulator.batches,
    accumulator: accumulator.toJSON(),
    firstPc: { a: pcSums.a.toJSON(), b: pcSums.b.toJSON() },
    agreement: agreement.toJSON(),
    ...evidence.toJSON(),
  });
  const started = performance.now();
  let images = 0;
  let noPredictions: string | undefined;

  try {
    for (const [step, plan] of plans.entries()) {
      if (step < skipped) continue;
      options.signal?.throwIfAborted();
      const rows = plan.rows;
      const inputs = a.inputs && b.inputs ? undefined : data.inputs(plan.examples);
      const resultA = await runnerA.run(a.inputs?.(plan.examples) ?? inputs!, rows, data.exampleShape);
      const resultB = runnerB ? await runnerB.run(b.inputs?.(plan.examples) ?? inputs!, rows, data.exampleShape) : resultA;
      const gramsB = runnerB ? resultB.grams : 'same';
      const groups = blockOfEachRow(plan.examples, batchSize);
      const hsic = hsicEngine ? await hsicEngine.batchHsic(resultA.grams, gramsB, rows, 'unbiased', groups) : await batchHsic(resultA.grams, gramsB, rows, 'unbiased', groups);
      accumulator.add(hsic, plan.weight);
      await evidence.add({ hsic, gramsA: resultA.grams, gramsB, centering: 'unbiased' }, exampleIndices(plan.examples), plan.weight, step, kernels);
      pcSums.a.add(resultA.firstPc);
      pcSums.b.add(resultB.firstPc);
      // Each example once, the first time a batch holds it: every used example, whatever the passes.
      if (options.agreement && resultA.predictions && resultB.predictions) agreement.add(exampleIndices(plan.examples), data.labels, resultA.predictions, resultB.predictions);
      else if (options.agreement && !noPredictions) {
        noPredictions = [resultA.predictions ? null : (a.label ?? 'model A'), resultB.predictions ? null : (b.label ?? 'model B')].filter((x) => x !== null).join(' and ');
        options.log?.(`${noPredictions}: the model's first output is not [examples, classes] (a classifier's), so there is no prediction agreement or accuracy for this comparison`);
      }
      images += rows;
      const seconds = (performance.now() - started) / 1000;
      const imagesPerSecond = images / seconds;
      await onProgress?.({ phase: 'cka', pass: plan.pass, step: step + 1, total: plans.length, imagesPerSecond, result: current(), significance: evidence.significance(accumulator.sums()), state });
    }
  } finally {
    await Promise.all([runnerA.dispose(), runnerB?.dispose()]);
  }

  const subspaceMatch = options.subspaceMatch
    ? await matchLayerPairs(a, b, data, options.subspaceMatch, { batchSize, signal: options.signal }, (step, total) =>
        onProgress?.({ phase: 'subspace-match', pass: 0, step, total, imagesPerSecond: 0 }),
      )
    : undefined;

  return {
    cka: { ...current(), kernel, batchSize, passes, seed, examples: coverage.used },
    firstPc: options.firstPc ? { a: pcSums.a.result(), b: pcSums.b.result() } : undefined,
    firstPcMethod: options.firstPc ? firstPcMethod(batchSize, accumulator.batches) : undefined,
    agreement: options.agreement && !noPredictions ? agreement.result() : undefined,
    subspaceMatch,
    engines: { a: runnerA.description, b: (runnerB ?? runnerA).description },
    ...evidence.result(accumulator.sums(), data.ids),
  };
}

interface BatchResult {
  readonly grams: CenteredGram[];
  /** Per layer, λ₁ and Σλ of the batch's centred activations (undefined: not asked for; null: no variance). */
  readonly firstPc: (FirstPcParts | null | undefined)[];
  /** null: the model has no classifier output (an ONNX model whose first output is not [n, classes]). */
  readonly predictions: Int32Array | null;
}

/** Runs one model on a batch and turns each selected layer's output into its centred gram. */
interface BatchRunner {
  readonly description: string;
  run(inputs: Float32Array, rows: number, exampleShape: readonly number[]): Promise<BatchResult>;
  /** Frees what the runner holds beyond the comparison (ONNX Runtime sessions). */
  dispose(): Promise<void>;
}

function checkLayers(compared: TfjsComparedModel, label: string): void {
  const names = new Set(layerOutputs(compared.model).map((l) => l.name)); // nested models' layers and shared layers' applications too
  const missing = compared.layers.filter((name) => !names.has(name));
  if (missing.length) throw new InputError(`${compared.label ?? label} has no layer named ${missing.map((m) => `'${m}'`).join(', ')}`, missing[0]);
  if (compared.layers.length === 0) throw new InputError(`${compared.label ?? label}: no layers selected to compare`);
}

/** ONNX Runtime with the grams fused into the model's graph where it runs and can export the model; else TensorFlow.js. */
async function chooseRunner(
  compared: ComparedModel,
  label: string,
  kernel: KernelSpec,
  firstPc: boolean,
  batchSize: number,
  runtime: OnnxRuntime | null,
  log?: (message: string) => void,
): Promise<BatchRunner> {
  if (isOnnxCompared(compared)) {
    const name = compared.label ?? label;
    if (!runtime) {
      throw new InputError(`${compared.onnx.path} (${name}): ONNX models run on ONNX Runtime, which is not running here (see \`repsim backend\`; a --backend that forces TensorFlow.js turns it off)`, compared.onnx.path);
    }
    const runner = new OnnxModelRunner(runtime, compared.onnx, compared.candidates, { kernel, linear: firstPc, transform: compared.transform });
    return new OnnxBatchRunner(runner, firstPc, `ONNX Runtime ${runtime.provider}`);
  }
  checkLayers(compared, label);
  if (runtime) {
    const fused = new FusedGramRunner(runtime, compared.model, compared.layers, { kernel, linear: firstPc });
    try {
      await fused.prepare(batchSize);
      return new OnnxBatchRunner(fused, firstPc, `ONNX Runtime ${runtime.provider}`);
    } catch (error) {
      if (!(error instanceof UnsupportedLayerError)) throw error;
      log?.(`${compared.label ?? label}: ${error.message}; its forward pass and grams run on TensorFlow.js`);
    }
  }
  return new TfjsLayerRunner(compared, label, kernel, firstPc);
}

/** What an ONNX Runtime runner gives per batch: grams fused into the model's graph (an exported TF.js model or an ONNX file). */
interface FusedGramSource {
  run(inputs: Float32Array, rows: number, exampleShape: readonly number[]): Promise<OnnxCenteredGrams & { readonly predictions: Int32Array | null }>;
  dispose(): Promise<void>;
}

class OnnxBatchRunner implements BatchRunner {
  constructor(
    private readonly source: FusedGramSource,
    private readonly firstPc: boolean,
    readonly description: string,
  ) {}

  async run(inputs: Float32Array, rows: number, exampleShape: readonly number[]): Promise<BatchResult> {
    const { grams, linear, linearScales, predictions } = await this.source.run(inputs, rows, exampleShape);
    const firstPc = grams.map((g, i) => (!this.firstPc ? undefined : g.degenerate ? null : unscaled(firstPcPartsFromGram(linear![i], rows), linearScales![i])));
    return { grams, firstPc, predictions };
  }

  dispose(): Promise<void> {
    return this.source.dispose();
  }
}

class TfjsLayerRunner implements BatchRunner {
  readonly description = 'TensorFlow.js';
  async dispose(): Promise<void> {}
  private readonly plan: ExecutionPlan;
  private readonly selected: ReadonlySet<string>;
  private readonly position: ReadonlyMap<string, number>;

  constructor(
    private readonly compared: TfjsComparedModel,
    label: string,
    private readonly kernel: KernelSpec,
    private readonly firstPc: boolean,
  ) {
    checkLayers(compared, label);
    this.plan = planExecution(compared.model);
    this.selected = new Set(compared.layers);
    this.position = new Map(compared.layers.map((name, i) => [name, i]));
  }

  async run(inputs: Float32Array, rows: number, exampleShape: readonly number[]): Promise<BatchResult> {
    const input = tf.tensor(inputs, [rows, ...exampleShape]);
    const grams = new Array<CenteredGram>(this.compared.layers.length);
    const pcs = new Array<FirstPcParts | null | undefined>(this.compared.layers.length);
    try {
      const output = streamLayerOutputs(this.compared.model, this.plan, input, this.selected, (name, activations) => {
        const i = this.position.get(name)!;
        const stats = layerBatchStatistics(activations, this.kernel, 'unbiased', this.firstPc);
        grams[i] = stats.gram;
        pcs[i] = stats.firstPcParts;
      });
      const predictions = tf.tidy(() => tf.argMax(tf.reshape(output, [output.shape[0], -1]), 1));
      const values = predictions.dataSync() as Int32Array;
      tf.dispose([output, predictions]);
      return { grams, firstPc: pcs, predictions: values };
    } finally {
      input.dispose();
    }
  }
}

/** Pooled first-PC sums of a comparison so far, per layer (to resume). */
export interface FirstPcState {
  readonly top: number[];
  readonly trace: number[];
}

/** Σ_b λ₁(b) and Σ_b tr(b) per layer; the share is their ratio. */
class PcPool {
  private readonly top: Float64Array;
  private readonly trace: Float64Array;
  constructor(size: number, state?: FirstPcState) {
    this.top = state ? Float64Array.from(state.top) : new Float64Array(size);
    this.trace = state ? Float64Array.from(state.trace) : new Float64Array(size);
  }
  toJSON(): FirstPcState {
    return { top: Array.from(this.top), trace: Array.from(this.trace) };
  }
  add(values: readonly (FirstPcParts | null | undefined)[]): void {
    values.forEach((v, i) => {
      if (!v) return;
      this.top[i] += v.top;
      this.trace[i] += v.trace;
    });
  }
  result(): (number | null)[] {
    return Array.from(this.top, (top, i) => (this.trace[i] > 0 ? top / this.trace[i] : null));
  }
}

function unscaled(parts: FirstPcParts | null, scale: number): FirstPcParts | null {
  return parts && { top: parts.top * scale, trace: parts.trace * scale };
}

function firstPcMethod(batchSize: number, batches: number): string {
  return (
    `share of variance on the first principal component, λ₁/Σλ, pooled over ${batches} batch${batches === 1 ? '' : 'es'} of up to ${batchSize} examples ` +
    `(Σ λ₁ / Σ trace, each batch centred on its own mean); a batch's λ₁ includes sampling noise of order Σλ/${batchSize}, ` +
    `so for layers with more features than ${batchSize} the share is biased upward, most for layers without a dominant direction`
  );
}
