/**
 * Editing a model read from a file: a copy to add outputs to (the loaded model stays as read),
 * the nodes in forward order, and RepSim's appended nodes rewritten for the model's opset.
 *
 * The similarity graphs are written for opset 13–17 (Reduce* ops other than ReduceSum take
 * their axes as an attribute; ReduceSum and Unsqueeze as an input). A model of another opset
 * keeps its own, and the appended nodes follow it: from opset 18 every Reduce* takes axes as an
 * input; before 13, ReduceSum, Unsqueeze and Squeeze take them as an attribute.
 */
import { onnx } from 'onnx-proto';
import type { GraphBuilder } from '../graph.js';
import { toNumber } from './tensors.js';

/** The oldest opset RepSim's appended nodes can be written in (TopK's k and Slice's bounds as inputs). */
export const MIN_APPEND_OPSET = 10;

/**
 * A copy of the model whose graph can be edited (nodes, initializers, inputs and outputs are new
 * arrays; the tensors and nodes in them are shared and never modified).
 */
export function editableCopy(model: onnx.IModelProto): onnx.IModelProto {
  const graph = model.graph!;
  return {
    ...model,
    graph: {
      ...graph,
      node: [...(graph.node ?? [])],
      initializer: [...(graph.initializer ?? [])],
      input: [...(graph.input ?? [])],
      output: [...(graph.output ?? [])],
      valueInfo: [...(graph.valueInfo ?? [])],
    },
  };
}

/** The graph's nodes in forward order: topological, ties in file order (exporters write them sorted). */
export function topologicalOrder(graph: onnx.IGraphProto): onnx.INodeProto[] {
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((node, k) => (node.output ?? []).forEach((o) => o && producer.set(o, k)));
  const waiting = nodes.map((node) => new Set((node.input ?? []).map((i) => producer.get(i)).filter((p): p is number => p !== undefined)));
  const done = new Array<boolean>(nodes.length).fill(false);
  const order: onnx.INodeProto[] = [];
  // Exporters write nodes sorted: one scan usually suffices; later scans pick up any stragglers.
  for (let progress = true; progress && order.length < nodes.length; ) {
    progress = false;
    for (let k = 0; k < nodes.length; k++) {
      if (done[k] || [...waiting[k]].some((d) => !done[d])) continue;
      done[k] = true;
      order.push(nodes[k]);
      progress = true;
    }
  }
  // A cycle (not valid ONNX): keep the rest in file order rather than lose nodes.
  nodes.forEach((node, k) => done[k] || order.push(node));
  return order;
}

const AXES_INPUT_FROM_18 = new Set(['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']);
const AXES_INPUT_FROM_13 = new Set(['ReduceSum', 'Unsqueeze', 'Squeeze']);

function int64Values(graph: onnx.IGraphProto, name: string): number[] | null {
  const tensor = (graph.initializer ?? []).find((t) => t.name === name);
  if (!tensor) return null;
  if (tensor.int64Data?.length) return tensor.int64Data.map(toNumber);
  const raw = tensor.rawData;
  if (!raw) return null;
  const copy = new Uint8Array(raw); // aligned
  return Array.from(new BigInt64Array(copy.buffer, 0, copy.length / 8), Number);
}

/**
 * Rewrites the nodes from `firstNode` on (the ones RepSim appended) for the graph's opset
 * (see the module comment).
 */
export function retargetAppendedNodes(builder: GraphBuilder, graph: onnx.IGraphProto, firstNode: number, opset: number): void {
  const nodes = graph.node ?? [];
  for (let k = firstNode; k < nodes.length; k++) {
    const node = nodes[k];
    const op = node.opType ?? '';
    if (opset >= 18 && AXES_INPUT_FROM_18.has(op)) {
      const attributes = node.attribute ?? [];
      const axes = attributes.find((a) => a.name === 'axes');
      if (!axes) continue;
      node.attribute = attributes.filter((a) => a !== axes);
      node.input = [...(node.input ?? []), builder.int64s((axes.ints ?? []).map(toNumber))];
    } else if (opset < 13 && AXES_INPUT_FROM_13.has(op) && (node.input?.length ?? 0) > 1) {
      const values = int64Values(graph, node.input![1]);
      if (!values) throw new Error(`cannot rewrite ${op} for opset ${opset}: its axes are not a constant`);
      node.input = [node.input![0]];
      node.attribute = [...(node.attribute ?? []), { name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: values }];
    }
  }
}
