/**
 * TF.js LayersModel → ONNX, with the trained weights, so that ONNX Runtime computes the
 * activations while TF.js keeps training.
 *
 *   const { bytes, input, output, layerOutputs } = exportLayersModel(model, ['stem/out', 'stage1/block1/out']);
 *   const session = await ort.InferenceSession.create(bytes);
 *   const result = await session.run({ [input]: new ort.Tensor('float32', images, [n, 32, 32, 3]) });
 *   result[layerOutputs.get('stem/out')!]  // [n, 32, 32, 16], exactly TF.js's layout
 *
 * The graph takes TF.js's NHWC images. Convolutions, pooling and padding run in NCHW (ONNX's
 * layout): the first one transposes its input once and the values stay NCHW until a layer needs
 * TF.js's element order (Flatten, Reshape, Dense, Permute), which transposes back. A layer's
 * `value` is its output in whichever layout it was made; `tfjsLayoutValue` gives the TF.js one.
 * Grams X·Xᵀ (feature axes flattened) do not depend on the order of the features, so callers
 * computing grams can use `value` as it is.
 *
 * Layer code lives beside this file, one module per family (convolution, normalization,
 * pooling, activation, shape, merge, core); `layers.ts` maps TF.js class names to it.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { GraphBuilder } from '../graph.js';
import { LayerContext, TensorValue, tfLayout, type Shape } from './context.js';
import { UnsupportedLayerError } from './errors.js';
import { LAYER_CONVERTERS, SUPPORTED_LAYER_CLASSES } from './layers.js';

export { UnsupportedLayerError } from './errors.js';
export { SUPPORTED_LAYER_CLASSES };

export interface ExportedLayer {
  /** The TF.js layer name. */
  readonly layer: string;
  /** The ONNX value name of its output inside the graph. */
  readonly value: string;
  /** The layout of that value: 'nchw' for a rank-4 value kept channels-first, 'nhwc' for a rank-4 value in TF.js layout, 'other' for any other rank (TF.js layout). */
  readonly layout: 'nhwc' | 'nchw' | 'other';
  /** The TF.js output shape, batch axis null. */
  readonly shape: readonly (number | null)[];
}

export interface ExportedGraph {
  /** Unfinished: no outputs yet (callers append nodes, e.g. grams, then set outputs). */
  readonly builder: GraphBuilder;
  /** The ONNX input: float32 [batch, ...TF.js input shape] in TF.js layout, batch axis 'batch'. */
  readonly input: string;
  /** Every layer of the model but the InputLayer, in `model.layers` order. */
  readonly layers: ReadonlyMap<string, ExportedLayer>;
  /** The model's (first) output value, TF.js layout. */
  readonly output: string;
}

/** The per-layer values with their layout forms, for `tfjsLayoutValue`; keyed by the builder, which copies of the graph object share. */
const graphValues = new WeakMap<GraphBuilder, ReadonlyMap<string, TensorValue>>();

/** Class names of models used as layers. */
const NESTED_MODEL_CLASSES = new Set(['Model', 'Functional', 'Sequential']);

/** The batch axis' symbolic name in the graph's input and outputs. */
const BATCH = 'batch';

function layoutName(value: TensorValue): ExportedLayer['layout'] {
  if (value.layout === 'nchw') return 'nchw';
  return value.rank === 4 ? 'nhwc' : 'other';
}

/** The inbound node of `layer` that this model computes: the one whose inputs are all known. */
function modelNode(layer: tfl.layers.Layer, known: ReadonlyMap<number, TensorValue>): (typeof layer.inboundNodes)[number] {
  const nodes = layer.inboundNodes.filter((node) => node.inputTensors.every((t) => known.has(t.id)));
  if (nodes.length === 0) throw new UnsupportedLayerError(layer.name, layer.getClassName(), 'its inputs do not come from the model input');
  if (nodes.length > 1) throw new UnsupportedLayerError(layer.name, layer.getClassName(), `the layer is applied ${nodes.length} times in the model (shared layers are not supported)`);
  const node = nodes[0];
  if (node.outputTensors.length !== 1) throw new UnsupportedLayerError(layer.name, layer.getClassName(), `${node.outputTensors.length} outputs (one expected)`);
  return node;
}

/** Builds the ONNX graph of a model; throws UnsupportedLayerError for a layer it does not know. */
export function exportLayersModelGraph(model: tfl.LayersModel): ExportedGraph {
  if (model.inputs.length !== 1) {
    const extra = model.inputLayers[1] ?? model.inputLayers[0];
    throw new UnsupportedLayerError(extra?.name ?? '?', extra?.getClassName() ?? 'InputLayer', `the model has ${model.inputs.length} inputs; the exporter handles models with one`);
  }
  const builder = new GraphBuilder(model.name || 'model');
  const inputTensor = model.inputs[0];
  const input = builder.input('input', 'float32', [BATCH, ...inputTensor.shape.slice(1)]);
  const known = new Map<number, TensorValue>([[inputTensor.id, new TensorValue(inputTensor.shape, 'tf', input)]]);

  const layers = new Map<string, ExportedLayer>();
  const values = new Map<string, TensorValue>();
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === 'InputLayer') continue;
    const converter = LAYER_CONVERTERS[className];
    if (!converter) throw new UnsupportedLayerError(layer.name, className, NESTED_MODEL_CLASSES.has(className) ? 'a nested model (only flat models are exported)' : undefined);
    const node = modelNode(layer, known);
    const outputTensor = node.outputTensors[0];
    const shape: Shape = outputTensor.shape;
    const value = converter(new LayerContext(builder, layer, node.inputTensors.map((t) => known.get(t.id)!), shape));
    known.set(outputTensor.id, value);
    values.set(layer.name, value);
    layers.set(layer.name, { layer: layer.name, value: value.name, layout: layoutName(value), shape });
  }

  const outputValue = known.get(model.outputs[0].id);
  if (!outputValue) throw new Error(`model '${model.name}': its output is not computed from its input`);
  const graph: ExportedGraph = { builder, input, layers, output: tfLayout(builder, outputValue) };
  graphValues.set(builder, values);
  return graph;
}

/** The value of `layer` in TF.js layout (adds a Transpose NCHW → NHWC once, memoised, when needed). */
export function tfjsLayoutValue(graph: ExportedGraph, layer: string): string {
  const value = graphValues.get(graph.builder)?.get(layer);
  if (!value) throw new Error(`'${layer}' is not a layer of the exported graph (InputLayers have no value of their own)`);
  return tfLayout(graph.builder, value);
}

/**
 * A complete model: graph outputs are the model's output (named 'output'), then each of
 * `layers` in TF.js layout [batch, ...TF.js shape]; `layerOutputs` maps layer names to those
 * output names.
 */
export function exportLayersModel(
  model: tfl.LayersModel,
  layers: readonly string[],
): { bytes: Uint8Array; input: string; output: string; layerOutputs: ReadonlyMap<string, string> } {
  const graph = exportLayersModelGraph(model);
  const { builder } = graph;
  const missing = layers.filter((name) => !graph.layers.has(name));
  if (missing.length > 0) throw new Error(`model '${model.name}' has no layer ${missing.map((n) => `'${n}'`).join(', ')} to export (the InputLayer has no output of its own)`);
  const output = builder.op('Identity', [graph.output], {}, { name: 'output/identity', outputNames: ['output'] });
  if (output !== 'output') throw new Error(`the graph already has a value named 'output'`);
  builder.output(output, 'float32', [BATCH, ...model.outputs[0].shape.slice(1)]);
  const layerOutputs = new Map<string, string>();
  for (const name of layers) {
    if (layerOutputs.has(name)) continue;
    const value = tfjsLayoutValue(graph, name);
    layerOutputs.set(name, value);
    builder.output(value, 'float32', [BATCH, ...graph.layers.get(name)!.shape.slice(1)]);
  }
  return { bytes: builder.encode(), input: graph.input, output, layerOutputs };
}
