/**
 * Runs a tfjs-layers model one node at a time and hands each selected layer's output to a
 * visitor as soon as it exists. A tensor is freed once every node that reads it has run, so
 * peak memory is the live frontier of the graph, not every layer's output at once: ResNet-152
 * on a batch of 256 then fits the wasm backend's 4 GiB heap (`model.execute` with all hidden
 * layers as outputs would hold them all).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

type Node = tfl.LayersModel['nodesByDepth'][string][number];
type SymbolicTensor = tfl.SymbolicTensor;

export interface ExecutionPlan {
  /** The model's nodes, inputs first. */
  readonly nodes: readonly Node[];
  /** How many nodes (plus the model's outputs) read each symbolic tensor. */
  readonly readers: ReadonlyMap<number, number>;
  readonly outputIds: readonly number[];
}

/** Orders the model's nodes from the inputs to the outputs and counts each tensor's readers. */
export function planExecution(model: tfl.LayersModel): ExecutionPlan {
  const depths = Object.keys(model.nodesByDepth)
    .map(Number)
    .sort((a, b) => b - a); // the deepest nodes are nearest the inputs
  const nodes = depths.flatMap((depth) => model.nodesByDepth[depth]).filter((node) => node.inboundLayers.length > 0);
  const readers = new Map<number, number>();
  const read = (t: SymbolicTensor) => readers.set(t.id, (readers.get(t.id) ?? 0) + 1);
  for (const node of nodes) node.inputTensors.forEach(read);
  model.outputs.forEach(read);
  return { nodes, readers, outputIds: model.outputs.map((t) => t.id) };
}

/**
 * Feeds `input` through the model. `visit(layerName, output)` is called, in forward order, for
 * each layer in `selected`; it must not keep the tensor (it is disposed after its last reader).
 * Returns the model's (first) output, which the caller disposes.
 */
export function streamLayerOutputs(
  model: tfl.LayersModel,
  plan: ExecutionPlan,
  input: tf.Tensor,
  selected: ReadonlySet<string>,
  visit: (layerName: string, output: tf.Tensor) => void,
): tf.Tensor {
  if (model.inputs.length !== 1) throw new Error(`model '${model.name}' has ${model.inputs.length} inputs; only single-input models are supported`);
  const live = new Map<number, tf.Tensor>([[model.inputs[0].id, input]]);
  const remaining = new Map(plan.readers);
  const release = (id: number) => {
    const left = (remaining.get(id) ?? 1) - 1;
    remaining.set(id, left);
    if (left > 0) return;
    const tensor = live.get(id);
    live.delete(id);
    if (tensor && tensor !== input) tensor.dispose();
  };
  try {
    for (const node of plan.nodes) {
      const layer = node.outboundLayer;
      const inputs = node.inputTensors.map((t) => {
        const tensor = live.get(t.id);
        if (!tensor) throw new Error(`layer '${layer.name}' reads a tensor that was not computed`);
        return tensor;
      });
      const output = tf.tidy(() => layer.apply(inputs.length === 1 ? inputs[0] : inputs, { ...(node.callArgs ?? {}), training: false }) as tf.Tensor | tf.Tensor[]);
      if (Array.isArray(output)) {
        tf.dispose(output);
        throw new Error(`layer '${layer.name}' has ${output.length} outputs; only single-output layers are supported`);
      }
      const [symbolic] = node.outputTensors;
      live.set(symbolic.id, output);
      if (selected.has(layer.name)) visit(layer.name, output);
      node.inputTensors.forEach((t) => release(t.id));
      if (!plan.readers.has(symbolic.id)) release(symbolic.id); // an output nothing reads
    }
    const result = live.get(plan.outputIds[0]);
    if (!result) throw new Error(`model '${model.name}' produced no output`);
    live.delete(plan.outputIds[0]);
    return result;
  } finally {
    for (const tensor of live.values()) if (tensor !== input) tensor.dispose();
  }
}
