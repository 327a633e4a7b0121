/**
 * Subspace match (Wang et al. 2018) between chosen layer pairs of two models. A neuron's
 * activation vector spans every example and position, so the pairs' activations over the
 * first `examples` evaluation examples are gathered whole, then matched at each ε.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../errors.js';
import { neuronGeometry, subspaceMatchOf } from '../similarity/subspaceMatch.js';
import { isOnnxCompared, type ComparedModel, type TfjsComparedModel } from './compareModels.js';
import type { EvaluationData } from './evaluationData.js';
import { layerOutputs, planExecution, streamLayerOutputs } from './layerStream.js';

export interface SubspaceMatchRequest {
  readonly epsilons: readonly number[];
  /** 'corresponding' pairs layer i of A with layer i of B (same architecture); or name pairs. */
  readonly pairs?: 'corresponding' | readonly (readonly [string, string])[];
  /** How many evaluation examples form the activation vectors (default 256, the first ones). */
  readonly examples?: number;
  /** Subsample this many rows of the vectors (seeded), as the paper does for large layers. */
  readonly maxRows?: number;
  readonly seed?: number;
}

export interface LayerPairMatch {
  readonly layerA: string;
  readonly layerB: string;
  readonly results: readonly {
    readonly epsilon: number;
    readonly similarity: number;
    readonly a: number[];
    readonly b: number[];
    readonly simpleMatchSizes: number[];
    readonly simpleMatches: { readonly a: number[]; readonly b: number[] }[];
    readonly warnings: string[];
  }[];
}

/** Subspace match reads channels on the last axis of TF.js activations; ONNX models (NCHW for PyTorch) are refused. */
function tfjsOnly(a: ComparedModel, b: ComparedModel): [TfjsComparedModel, TfjsComparedModel] {
  for (const m of [a, b]) {
    if (isOnnxCompared(m)) {
      throw new InputError(`${m.onnx.path}: subspace match is not available for ONNX models; extract the layers with \`repsim extract\` and use \`repsim match\` on the activations (with channels on the last axis)`, m.onnx.path);
    }
  }
  return [a as TfjsComparedModel, b as TfjsComparedModel];
}

export function resolvePairs(compA: ComparedModel, compB: ComparedModel, pairs: SubspaceMatchRequest['pairs']): [string, string][] {
  const [a, b] = tfjsOnly(compA, compB);
  if (pairs === undefined || pairs === 'corresponding') {
    if (a.layers.length !== b.layers.length) {
      throw new InputError(`subspace match 'corresponding' pairs need as many layers in both models (${a.layers.length} vs ${b.layers.length}): name the pairs`, 'subspaceMatch.pairs');
    }
    return a.layers.map((name, i) => [name, b.layers[i]]);
  }
  const namesA = new Set(layerOutputs(a.model).map((l) => l.name));
  const namesB = a.model === b.model ? namesA : new Set(layerOutputs(b.model).map((l) => l.name));
  for (const [layerA, layerB] of pairs) {
    if (!namesA.has(layerA)) throw new InputError(`subspace match: model A has no layer '${layerA}'`, layerA);
    if (!namesB.has(layerB)) throw new InputError(`subspace match: model B has no layer '${layerB}'`, layerB);
  }
  return pairs.map(([x, y]) => [x, y]);
}

/** Each layer's activations over the first `count` examples, concatenated along the example axis. */
function gatherActivations(compared: TfjsComparedModel, layers: ReadonlySet<string>, data: EvaluationData, count: number, batchSize: number, signal?: AbortSignal): Map<string, { shape: number[]; chunks: Float32Array[] }> {
  const plan = planExecution(compared.model);
  const gathered = new Map<string, { shape: number[]; chunks: Float32Array[] }>();
  for (let start = 0; start < count; start += batchSize) {
    signal?.throwIfAborted();
    const end = Math.min(count, start + batchSize);
    const input = tf.tensor((compared.inputs ?? data.inputs)({ start, end }), [end - start, ...data.exampleShape]);
    const output = streamLayerOutputs(compared.model, plan, input, layers, (name, activations) => {
      const entry = gathered.get(name) ?? { shape: activations.shape.slice(1), chunks: [] };
      entry.chunks.push(activations.dataSync() as Float32Array);
      gathered.set(name, entry);
    });
    tf.dispose([input, output]);
  }
  return gathered;
}

function gathered(activations: Map<string, { shape: number[]; chunks: Float32Array[] }>, layer: string, model: TfjsComparedModel, side: 'A' | 'B'): { shape: number[]; chunks: Float32Array[] } {
  const entry = activations.get(layer);
  if (!entry) throw new Error(`subspace match: the activations of model ${side}'s layer '${layer}' were not recorded (${model.label ?? model.model.name})`);
  return entry;
}

function concatenated(entry: { shape: number[]; chunks: Float32Array[] }, count: number): tf.Tensor {
  const total = entry.chunks.reduce((sum, c) => sum + c.length, 0);
  const data = new Float32Array(total);
  let offset = 0;
  for (const chunk of entry.chunks) {
    data.set(chunk, offset);
    offset += chunk.length;
  }
  return tf.tensor(data, [count, ...entry.shape]);
}

export async function matchLayerPairs(
  compA: ComparedModel,
  compB: ComparedModel,
  data: EvaluationData,
  request: SubspaceMatchRequest,
  { batchSize, signal }: { batchSize: number; signal?: AbortSignal },
  onStep?: (step: number, total: number) => unknown,
): Promise<LayerPairMatch[]> {
  if (request.epsilons.length === 0) throw new InputError('subspace match needs at least one ε', 'subspaceMatch.epsilons');
  const [a, b] = tfjsOnly(compA, compB);
  const pairs = resolvePairs(a, b, request.pairs);
  const count = Math.min(request.examples ?? 256, data.count);
  const layersA = new Set(pairs.map(([x]) => x));
  const layersB = new Set(pairs.map(([, y]) => y));
  // One model compared with itself: one forward pass gathers the layers of both sides.
  const same = a.model === b.model && a.inputs === b.inputs;
  const activationsA = gatherActivations(a, same ? new Set([...layersA, ...layersB]) : layersA, data, count, batchSize, signal);
  const activationsB = same ? activationsA : gatherActivations(b, layersB, data, count, batchSize, signal);
  const matches: LayerPairMatch[] = [];
  for (const [index, [layerA, layerB]] of pairs.entries()) {
    signal?.throwIfAborted();
    const x = concatenated(gathered(activationsA, layerA, a, 'A'), count);
    const y = concatenated(gathered(activationsB, layerB, b, 'B'), count);
    try {
      const results = [];
      const names = { a: `A:${layerA}`, b: `B:${layerB}` };
      // The neurons' Gram matrix depends on the layers (and sampled rows), not on ε: computed once per pair.
      const geometry = await neuronGeometry(x, y, { seed: request.seed, maxRows: request.maxRows }, names);
      for (const epsilon of request.epsilons) {
        const match = subspaceMatchOf(geometry, { epsilon, seed: request.seed, maxRows: request.maxRows }, names);
        results.push({
          epsilon,
          similarity: match.similarity,
          a: match.a,
          b: match.b,
          simpleMatchSizes: match.simpleMatches.map((m) => m.size),
          simpleMatches: match.simpleMatches.map((m) => ({ a: m.a, b: m.b })),
          warnings: match.warnings,
        });
      }
      matches.push({ layerA, layerB, results });
    } finally {
      tf.dispose([x, y]);
    }
    await onStep?.(index + 1, pairs.length);
  }
  return matches;
}
