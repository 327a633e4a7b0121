/**
 * A model's forward pass with each selected layer's centred gram appended to its own graph, so
 * that only n × n grams leave ONNX Runtime (copying raw activations out costs more than the
 * forward pass itself: ≈ 470 MB for 28 ResNet-20 layers over 256 images). One session run per
 * batch gives every selected layer's centred gram, its scale, and the model's predictions.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type * as Ort from 'onnxruntime-node';
import type { KernelSpec } from '../../similarity/kernel.js';
import { exportLayersModelGraph } from '../export/index.js';
import { kernelKey, objectKey, type OnnxRuntime } from '../runtime.js';
import { appendPredictions, appendStackedGrams, type StackedGramOutputs } from '../similarity/gramGraph.js';
import { centeredGramsFromOutputs, type OnnxCenteredGrams } from '../similarity/onnxGramEngine.js';

/** Per selected layer, in the order asked for: its U-centred gram, and with `linear` Xs·Xsᵀ and its scale s². */
export interface FusedBatchResult extends OnnxCenteredGrams {
  /** The model's predicted class per example. */
  readonly predictions: Int32Array;
}

export interface FusedGramSpec {
  readonly kernel: KernelSpec;
  /** Also return Xs·Xsᵀ per layer (first-PC variance). */
  readonly linear: boolean;
}

/**
 * The exported model with grams appended, for one batch size. Throws UnsupportedLayerError
 * (naming the layer) when the model has a layer the exporter does not know.
 */
export interface FusedGramModel {
  readonly bytes: Uint8Array;
  readonly input: string;
  /** The graph's output names (a model's own layer may already be called 'predictions'). */
  readonly outputs: StackedGramOutputs & { readonly predictions: string };
}

export function buildFusedGramModel(model: tfl.LayersModel, layers: readonly string[], rows: number, spec: FusedGramSpec): FusedGramModel {
  const graph = exportLayersModelGraph(model);
  const values = layers.map((name) => {
    const exported = graph.layers.get(name);
    if (!exported) throw new Error(`layer '${name}' is not in the exported graph of '${model.name}'`);
    return exported.value; // any layout: a feature permutation leaves the gram unchanged
  });
  const g = graph.builder;
  g.clearOutputs();
  const grams = appendStackedGrams(g, values, { rows, kernel: spec.kernel, centering: 'unbiased', linear: spec.linear }, layers);
  const predictions = appendPredictions(g, graph.output, rows);
  return { bytes: g.encode(), input: graph.input, outputs: { ...grams, predictions } };
}

/** Runs models with fused grams on ONNX Runtime; sessions cached per model, layers, batch size and kernel. */
export class FusedGramRunner {
  private readonly built = new Set<number>();

  constructor(
    private readonly runtime: OnnxRuntime,
    private readonly model: tfl.LayersModel,
    private readonly layers: readonly string[],
    private readonly spec: FusedGramSpec,
  ) {}

  private key(rows: number): string {
    return `fused|model=${objectKey(this.model)}|n=${rows}|${kernelKey(this.spec.kernel)}|linear=${this.spec.linear}|${this.layers.join('\u0000')}`;
  }

  /** Builds (and caches) the session for batches of `rows`; throws UnsupportedLayerError early. */
  async prepare(rows: number): Promise<{ session: Ort.InferenceSession; names: Pick<FusedGramModel, 'input' | 'outputs'> }> {
    this.built.add(rows);
    const { session, meta } = await this.runtime.sessionWith(this.key(rows), () => {
      const { bytes, input, outputs } = buildFusedGramModel(this.model, this.layers, rows, this.spec);
      return { bytes, meta: { input, outputs } };
    });
    return { session, names: meta };
  }

  /** Frees the sessions this runner built (the runtime would keep them for the next comparison). */
  async dispose(): Promise<void> {
    await Promise.all([...this.built].map((rows) => this.runtime.release(this.key(rows))));
    this.built.clear();
  }

  /** One batch: inputs row-major [n, ...exampleShape] in the model's (TF.js) layout. */
  async run(inputs: Float32Array, rows: number, exampleShape: readonly number[]): Promise<FusedBatchResult> {
    const { session, names } = await this.prepare(rows);
    const outputs = await session.run({ [names.input]: this.runtime.tensor(inputs, [rows, ...exampleShape]) });
    const predicted = outputs[names.outputs.predictions].data as BigInt64Array;
    return { ...centeredGramsFromOutputs(outputs, names.outputs, this.layers.length, rows, this.spec.kernel), predictions: Int32Array.from(predicted, (v) => Number(v)) };
  }
}
