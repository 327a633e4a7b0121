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
  /**
   * The name of each node's output (parallel to `nodes`): its layer's name, and for a layer
   * applied more than once (shared weights) `name#2`, `name#3` … for its later applications.
   */
  readonly names: readonly string[];
  /** The plan of each node that applies a nested model (by index in `nodes`): its layers are streamed one by one too. */
  readonly nested: ReadonlyMap<number, ExecutionPlan>;
  /** How many nodes (plus the model's outputs) read each symbolic tensor. */
  readonly readers: ReadonlyMap<number, number>;
  readonly outputIds: readonly number[];
}

/** A model used as a layer of another (functional or Sequential). */
function asNestedModel(layer: tfl.layers.Layer): tfl.LayersModel | null {
  const candidate = layer as unknown as Partial<tfl.LayersModel>;
  return Array.isArray(candidate.layers) && typeof candidate.nodesByDepth === 'object' && candidate.nodesByDepth !== null ? (layer as unknown as tfl.LayersModel) : null;
}

/** A Sequential model has no graph until built (a loaded one is not): build it. */
function ensureGraph(model: tfl.LayersModel): void {
  if (Object.keys(model.nodesByDepth ?? {}).length > 0 || model.layers.length === 0) return;
  if (model.getClassName() === 'Sequential') (model as tfl.Sequential).build();
}

/** Orders the model's nodes from the inputs to the outputs and counts each tensor's readers. */
export function planExecution(model: tfl.LayersModel): ExecutionPlan {
  ensureGraph(model);
  const depths = Object.keys(model.nodesByDepth)
    .map(Number)
    .sort((a, b) => b - a); // the deepest nodes are nearest the inputs
  const nodes = depths.flatMap((depth) => model.nodesByDepth[depth]).filter((node) => node.inboundLayers.length > 0);
  const readers = new Map<number, number>();
  const read = (t: SymbolicTensor) => readers.set(t.id, (readers.get(t.id) ?? 0) + 1);
  for (const node of nodes) node.inputTensors.forEach(read);
  model.outputs.forEach(read);
  const applications = new Map<string, number>();
  const names = nodes.map((node) => {
    const name = node.outboundLayer.name;
    const count = (applications.get(name) ?? 0) + 1;
    applications.set(name, count);
    return count === 1 ? name : `${name}#${count}`;
  });
  const nested = new Map<number, ExecutionPlan>();
  nodes.forEach((node, i) => {
    const inner = asNestedModel(node.outboundLayer);
    if (inner) nested.set(i, planExecution(inner));
  });
  return { nodes, names, nested, readers, outputIds: model.outputs.map((t) => t.id) };
}

/** One output the streaming visits: a layer's (or a shared layer's later application's) output, at any depth of nesting. */
export interface LayerOutput {
  /** `layer`, `layer#2` for a second application, `outer/inner` inside a nested model. */
  readonly name: string;
  /** The layer's class, e.g. 'Conv2D'. */
  readonly className: string;
  /** Whether this is (one of) the whole model's outputs. */
  readonly isModelOutput: boolean;
}

/**
 * Every layer output of a model in forward order, as `streamLayerOutputs` names and visits
 * them: the layers of nested models in place of the nested model, each application of a
 * shared layer on its own. Layers come in the model's own order (`model.layers`), a shared
 * layer's applications in forward order.
 */
export function layerOutputs(model: tfl.LayersModel, plan: ExecutionPlan = planExecution(model)): LayerOutput[] {
  return collectOutputs(model, plan, '', new Set(model.outputs.map((t) => t.id)));
}

function collectOutputs(model: tfl.LayersModel, plan: ExecutionPlan, prefix: string, modelOutputIds: ReadonlySet<number>): LayerOutput[] {
  const nodesOf = new Map<tfl.layers.Layer, number[]>();
  plan.nodes.forEach((node, i) => nodesOf.set(node.outboundLayer, [...(nodesOf.get(node.outboundLayer) ?? []), i]));
  const outputs: LayerOutput[] = [];
  for (const layer of model.layers) {
    for (const i of nodesOf.get(layer) ?? []) {
      const node = plan.nodes[i];
      const name = `${prefix}${plan.names[i]}`;
      const isModelOutput = node.outputTensors.some((t) => modelOutputIds.has(t.id));
      const inner = plan.nested.get(i);
      if (inner) {
        const innerModel = node.outboundLayer as unknown as tfl.LayersModel;
        // The nested model's own output is the outer model's output when this node's is.
        outputs.push(...collectOutputs(innerModel, inner, `${name}/`, isModelOutput ? new Set(innerModel.outputs.map((t) => t.id)) : new Set()));
      } else {
        outputs.push({ name, className: layer.getClassName(), isModelOutput });
      }
    }
  }
  return outputs;
}

/**
 * Feeds `input` through the model. `visit(layerName, output)` is called, in forward order, for
 * each layer output in `selected` (named as `layerOutputs` names them); it must not keep the
 * tensor (it is disposed after its last reader). Returns the model's (first) output, which the
 * caller disposes.
 */
export function streamLayerOutputs(
  model: tfl.LayersModel,
  plan: ExecutionPlan,
  input: tf.Tensor,
  selected: ReadonlySet<string>,
  visit: (layerName: string, output: tf.Tensor) => void,
  prefix = '',
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
    for (const [i, node] of plan.nodes.entries()) {
      const layer = node.outboundLayer;
      const name = `${prefix}${plan.names[i]}`;
      const inputs = node.inputTensors.map((t) => {
        const tensor = live.get(t.id);
        if (!tensor) throw new Error(`layer '${name}' reads a tensor that was not computed`);
        return tensor;
      });
      const inner = plan.nested.get(i);
      let output: tf.Tensor | tf.Tensor[];
      if (inner) {
        if (inputs.length !== 1) throw new Error(`nested model '${name}' has ${inputs.length} inputs; only single-input models are supported`);
        output = streamLayerOutputs(layer as unknown as tfl.LayersModel, inner, inputs[0], selected, visit, `${name}/`);
      } else {
        output = tf.tidy(() => layer.apply(inputs.length === 1 ? inputs[0] : inputs, { ...(node.callArgs ?? {}), training: false }) as tf.Tensor | tf.Tensor[]);
      }
      if (Array.isArray(output)) {
        tf.dispose(output);
        throw new Error(`layer '${name}' has ${output.length} outputs; only single-output layers are supported`);
      }
      const [symbolic] = node.outputTensors;
      // A nested model may hand back its input unchanged: keep one owner of the tensor.
      live.set(symbolic.id, output === inputs[0] && inputs[0] !== input ? output.clone() : output);
      if (!inner && selected.has(name)) visit(name, output);
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
