/**
 * Running an ONNX model read from a file, as `FusedGramRunner` runs an exported TF.js model:
 * each selected layer's centred gram is appended to the model's own graph (so only n × n grams
 * leave ONNX Runtime), with the model's predicted class when its output is [n, classes]. One
 * session run per batch; sessions cached per model, layers, batch size and kernel.
 *
 * `extractActivations` instead makes the selected values graph outputs and returns them whole
 * (for `repsim extract`).
 */
import type * as Ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import type { EvaluationData } from '../../activations/evaluationData.js';
import { InputError } from '../../errors.js';
import type { KernelSpec } from '../../similarity/kernel.js';
import type { LayerActivations } from '../../similarity/layers.js';
import { encodeModel, GraphBuilder } from '../graph.js';
import { kernelKey, objectKey, type OnnxRuntime } from '../runtime.js';
import { appendPredictions, appendStackedGrams, type StackedGramOutputs } from '../similarity/gramGraph.js';
import { centeredGramsFromOutputs, type OnnxCenteredGrams } from '../similarity/onnxGramEngine.js';
import { createSession, probeOnnxModel, QUIET, runtimeMessage, type OnnxLayerCandidate, type OnnxProbe } from './candidates.js';
import { editableCopy, MIN_APPEND_OPSET, retargetAppendedNodes } from './graphEdit.js';
import { formatDims, type OnnxModelFile } from './modelFile.js';
import { floatData, inputTensor } from './tensors.js';


/** Turns a batch as the comparison holds it (e.g. a dataset's NHWC images) into this model's input. */
export type OnnxInputTransform = (batch: Float32Array, rows: number, exampleShape: readonly number[]) => { readonly data: Float32Array; readonly exampleShape: readonly number[] };

export interface OnnxRunnerSpec {
  readonly kernel: KernelSpec;
  /** Also return Xs·Xsᵀ per layer (first-PC variance). */
  readonly linear: boolean;
  /** Applied to every batch before it is fed (default: fed as it is). */
  readonly transform?: OnnxInputTransform;
}

/** Per selected layer, in the order given: its U-centred gram, and with `linear` Xs·Xsᵀ and its scale s². */
export interface OnnxBatchResult extends OnnxCenteredGrams {
  /** The predicted class per example, when the model's first output is [n, classes]; else null. */
  readonly predictions: Int32Array | null;
}

export interface OnnxGramModel {
  readonly bytes: Uint8Array;
  readonly input: string;
  readonly outputs: StackedGramOutputs & { readonly predictions: string | null };
}

function checkOpset(file: OnnxModelFile): void {
  if (file.opset < MIN_APPEND_OPSET) {
    throw new InputError(`${file.path}: the model uses opset ${file.opset}; RepSim needs opset ${MIN_APPEND_OPSET} or later (re-export it, e.g. torch.onnx.export(…, opset_version=17))`, file.path);
  }
}

/** The model's first output when it is [n, classes] floats (a classifier's logits or probabilities). */
export function classifierOutput(probe: OnnxProbe): string | null {
  const first = probe.outputs[0];
  if (!first || !['float32', 'float16', 'float64'].includes(first.elementType) || !first.exampleShape) return null;
  const classes = first.exampleShape.reduce((a, b) => a * b, 1);
  return first.exampleShape.filter((d) => d > 1).length === 1 && classes >= 2 ? first.name : null;
}

/** The model with each layer's centred gram appended (and the predicted class), for batches of `rows`. */
export function buildOnnxGramModel(file: OnnxModelFile, layers: readonly OnnxLayerCandidate[], rows: number, spec: OnnxRunnerSpec, predictFrom: string | null): OnnxGramModel {
  checkOpset(file);
  const copy = editableCopy(file.model);
  const { builder: g } = GraphBuilder.edit(copy);
  g.clearOutputs();
  const graph = copy.graph!;
  const firstAppended = graph.node!.length;
  const float = onnx.TensorProto.DataType.FLOAT;
  const values = layers.map((layer) => (layer.elementType === 'float32' ? layer.value : g.op('Cast', [layer.value], { to: float }, { name: `repsim/${layer.name}/cast` })));
  const grams = appendStackedGrams(g, values, { rows, kernel: spec.kernel, centering: 'unbiased', linear: spec.linear }, layers.map((l) => `repsim/${l.name}`));
  let predictions: string | null = null;
  if (predictFrom) predictions = appendPredictions(g, predictFrom, rows);
  retargetAppendedNodes(g, graph, firstAppended, file.opset);
  return { bytes: encodeModel(copy), input: file.input.name, outputs: { ...grams, predictions } };
}

/** Runs an ONNX model file with fused grams on ONNX Runtime (the counterpart of FusedGramRunner). */
export class OnnxModelRunner {
  private readonly built = new Set<string>();
  readonly layerNames: readonly string[];

  constructor(
    private readonly runtime: OnnxRuntime,
    readonly file: OnnxModelFile,
    private readonly layers: readonly OnnxLayerCandidate[],
    private readonly spec: OnnxRunnerSpec,
  ) {
    if (layers.length === 0) throw new InputError(`${file.path}: no layers selected to compare`, file.path);
    this.layerNames = layers.map((l) => l.name);
  }

  private key(rows: number, exampleShape: readonly number[]): string {
    return `onnx-file|model=${objectKey(this.file)}|n=${rows}|x=${exampleShape.join(',')}|${kernelKey(this.spec.kernel)}|linear=${this.spec.linear}|${this.layers.map((l) => l.value).join('\u0000')}`;
  }

  /**
   * Builds (and caches) the session for batches of `rows` examples of `exampleShape` (the model's
   * input shape past the batch axis; default: its declared dims). Errors early for a model
   * ONNX Runtime cannot run.
   */
  async prepare(rows: number, exampleShape?: readonly number[]): Promise<{ session: Ort.InferenceSession; names: Omit<OnnxGramModel, 'bytes'> }> {
    const probe = await probeOnnxModel(this.runtime, this.file, { exampleShape });
    const key = this.key(rows, probe.exampleShape);
    this.built.add(key);
    const { session, meta } = await this.runtime.sessionWith(key, () => {
      const { bytes, input, outputs } = buildOnnxGramModel(this.file, this.layers, rows, this.spec, classifierOutput(probe));
      return { bytes, meta: { input, outputs } };
    });
    return { session, names: meta };
  }

  /** Whether `run` returns predicted classes (the model's first output is [n, classes]). */
  async hasPredictions(exampleShape?: readonly number[]): Promise<boolean> {
    return classifierOutput(await probeOnnxModel(this.runtime, this.file, { exampleShape })) !== null;
  }

  /** One batch: inputs row-major [rows, ...exampleShape] (after `transform`, in the model's layout). */
  async run(inputs: Float32Array | Float64Array, rows: number, exampleShape: readonly number[]): Promise<OnnxBatchResult> {
    const fed = this.spec.transform ? this.spec.transform(inputs instanceof Float32Array ? inputs : Float32Array.from(inputs), rows, exampleShape) : { data: inputs, exampleShape };
    const { session, names } = await this.prepare(rows, fed.exampleShape);
    let outputs: Ort.InferenceSession.OnnxValueMapType;
    try {
      outputs = await session.run({ [names.input]: inputTensor(this.runtime.ort, this.file.input.elementType, fed.data, [rows, ...fed.exampleShape]) }, QUIET);
    } catch (error) {
      throw new InputError(`${this.file.path}: running the model on a batch of ${rows} examples of shape ${formatDims(fed.exampleShape)} failed: ${runtimeMessage(error)}`, this.file.path);
    }
    const predicted = names.outputs.predictions ? (outputs[names.outputs.predictions].data as BigInt64Array) : null;
    return { ...centeredGramsFromOutputs(outputs, names.outputs, this.layers.length, rows, this.spec.kernel), predictions: predicted ? Int32Array.from(predicted, (v) => Number(v)) : null };
  }

  /** Frees the sessions this runner built. */
  async dispose(): Promise<void> {
    await Promise.all([...this.built].map((key) => this.runtime.release(key)));
    this.built.clear();
  }
}

export interface ExtractOptions {
  /** Examples per session run (default 256). */
  readonly batchSize?: number;
  readonly transform?: OnnxInputTransform;
  readonly signal?: AbortSignal;
}

/**
 * The selected layers' activations over every example of `data`, as float32 [examples, ...]
 * in the model's own layout (NCHW for PyTorch), named by the candidates' names.
 */
export async function extractActivations(runtime: OnnxRuntime, file: OnnxModelFile, layers: readonly OnnxLayerCandidate[], data: EvaluationData, options: ExtractOptions = {}): Promise<LayerActivations[]> {
  if (layers.length === 0) throw new InputError(`${file.path}: no layers selected to extract`, file.path);
  const copy = editableCopy(file.model);
  copy.graph!.output = layers.map((l) => ({ name: l.value }));
  const session = await createSession(runtime, file, encodeModel(copy));
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 256, data.count));
  const results: Float32Array[] = [];
  const shapes: number[][] = [];
  try {
    for (let start = 0; start < data.count; start += batchSize) {
      options.signal?.throwIfAborted();
      const end = Math.min(start + batchSize, data.count);
      const rows = end - start;
      const batch = data.inputs({ start, end });
      const fed = options.transform ? options.transform(batch, rows, data.exampleShape) : { data: batch, exampleShape: data.exampleShape };
      let outputs: Ort.InferenceSession.OnnxValueMapType;
      try {
        outputs = await session.run({ [file.input.name]: inputTensor(runtime.ort, file.input.elementType, fed.data, [rows, ...fed.exampleShape]) }, QUIET);
      } catch (error) {
        throw new InputError(`${file.path}: running the model on a batch of ${rows} examples of shape ${formatDims(fed.exampleShape)} failed: ${runtimeMessage(error)}`, file.path);
      }
      layers.forEach((layer, k) => {
        const tensor = outputs[layer.value];
        const dims = tensor.dims.map(Number);
        if (dims[0] !== rows) throw new InputError(`${file.path}: layer '${layer.name}' has ${dims[0]} rows for a batch of ${rows}: it has no batch axis`, file.path);
        if (!results[k]) {
          shapes[k] = [data.count, ...dims.slice(1)];
          results[k] = new Float32Array(shapes[k].reduce((a, b) => a * b, 1));
        }
        const per = results[k].length / data.count;
        const values = floatData(tensor);
        if (values.length !== rows * per) throw new InputError(`${file.path}: layer '${layer.name}' changes shape between batches (${formatDims(dims)})`, file.path);
        results[k].set(values, start * per);
      });
    }
  } finally {
    await session.release();
  }
  return layers.map((layer, k) => ({ name: layer.name, shape: shapes[k], data: results[k] }));
}
