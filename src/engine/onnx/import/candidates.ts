/**
 * Which values of an ONNX model's graph can be layers, learned by running it.
 *
 * ONNX Runtime has no shape inference in Node, and an exporter's value_info (when there is any)
 * cannot tell a batch axis from a constant that happens to have that size. So the model is run
 * once on a batch of 2 and once on a batch of 3 with every node output made a graph output: a
 * candidate is a float tensor whose first axis is 2, then 3, and whose other axes stay the same.
 * That leaves out constants, shape arithmetic (int64 Shape/Gather/Concat/Unsqueeze chains) and
 * whatever mixes examples. The result is cached per model file and example shape.
 */
import type * as Ort from 'onnxruntime-node';
import type { onnx } from 'onnx-proto';
import { InputError } from '../../errors.js';
import { seededRandom } from '../../random.js';
import { encodeModel } from '../graph.js';
import type { OnnxRuntime } from '../runtime.js';
import { editableCopy, topologicalOrder } from './graphEdit.js';
import { formatDims, type OnnxModelFile } from './modelFile.js';
import { readableLayerNames } from './names.js';
import { inputTensor, isFloatType, isIntegerType, type OnnxElementType, type OnnxFloatType } from './tensors.js';

export interface OnnxLayerCandidate {
  /** Short, readable, unique (see names.ts): `blocks.0.relu2`. */
  readonly name: string;
  /** The ONNX value it is (a node output): `/blocks/blocks.0/relu2/Relu_output_0`. */
  readonly value: string;
  /** The node that computes it. */
  readonly node: string;
  readonly opType: string;
  readonly elementType: OnnxFloatType;
  /** One example's shape (the batch axis left out), as the probe runs gave it. */
  readonly exampleShape: readonly number[];
  /** Position in the graph's forward (topological) order among the candidates: 0, 1, 2… */
  readonly index: number;
  /** The values the node reads (activations, weights, shapes). */
  readonly inputs: readonly string[];
  /** Op types of the nodes that read this value (all of them, candidates or not). */
  readonly consumers: readonly string[];
  /** A graph output of the model (e.g. the logits). */
  readonly isOutput: boolean;
}

export interface OnnxProbe {
  readonly candidates: readonly OnnxLayerCandidate[];
  /** The model's own outputs: their element type and, when they have a batch axis, one example's shape. */
  readonly outputs: readonly { readonly name: string; readonly elementType: string; readonly exampleShape: readonly number[] | null }[];
  /** The input's example shape the probe ran with. */
  readonly exampleShape: readonly number[];
}

export interface CandidateOptions {
  /**
   * One example's input shape (the batch axis left out); needed when the input has dynamic axes
   * besides the batch axis (default: the model's declared dims).
   */
  readonly exampleShape?: readonly number[];
}

/** Failures come back as exceptions whose messages RepSim reports; the native logger would also print them. */
export const QUIET: Ort.InferenceSession.RunOptions = { logSeverityLevel: 4 };

const probes = new WeakMap<OnnxModelFile, Map<string, Promise<OnnxProbe>>>();

/** Every value of the model that can be a layer, in forward order (cached per model and example shape). */
export async function layerCandidates(runtime: OnnxRuntime, file: OnnxModelFile, options: CandidateOptions = {}): Promise<OnnxLayerCandidate[]> {
  return (await probeOnnxModel(runtime, file, options)).candidates.slice();
}

/** The probe behind `layerCandidates`, with the model's outputs too (cached). */
export function probeOnnxModel(runtime: OnnxRuntime, file: OnnxModelFile, options: CandidateOptions = {}): Promise<OnnxProbe> {
  const exampleShape = probeExampleShape(file, options.exampleShape);
  let perFile = probes.get(file);
  if (!perFile) probes.set(file, (perFile = new Map()));
  const key = exampleShape.join(',');
  let probe = perFile.get(key);
  if (!probe) {
    probe = runProbe(runtime, file, exampleShape);
    probe.catch(() => perFile!.delete(key));
    perFile.set(key, probe);
  }
  return probe;
}

/** The example shape to probe with: given, or the model's declared dims past the batch axis. */
function probeExampleShape(file: OnnxModelFile, given: readonly number[] | undefined): readonly number[] {
  const { input } = file;
  if (given) return given;
  if (input.dims === null || input.dims.slice(1).some((d) => typeof d !== 'number')) {
    throw new InputError(
      `${file.path}: the input '${input.name}' has dynamic axes besides the batch axis (${formatDims(input.dims)}); the shape of the inputs decides them: give inputs to list its layers`,
      file.path,
    );
  }
  return input.dims.slice(1) as number[];
}

/** An ONNX Runtime error message, first line, without the runtime's own prefixes. */
export function runtimeMessage(error: unknown): string {
  const message = String((error as Error)?.message ?? error).split('\n')[0];
  return message.replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '').trim();
}

/**
 * A session for an edited copy of the model; a model ONNX Runtime cannot load (an op it does not
 * implement, a damaged file) is an InputError naming the file and the op.
 */
export async function createSession(runtime: OnnxRuntime, file: OnnxModelFile, bytes: Uint8Array): Promise<Ort.InferenceSession> {
  try {
    return await runtime.ort.InferenceSession.create(bytes, runtime.sessionOptions());
  } catch (error) {
    throw loadError(runtime, file, error);
  }
}

/** The InputError for a model ONNX Runtime cannot load. */
export function loadError(runtime: OnnxRuntime, file: OnnxModelFile, error: unknown): InputError {
  const message = runtimeMessage(error);
  const unsupported =
    /Could not find an implementation for (\w+)\((\d+)\)/.exec(message) ??
    /No Op registered for (\w+) with domain_version of (\d+)/.exec(message) ??
    /Unrecognized attribute:.*for operator (\w+)/.exec(message);
  if (unsupported) {
    const [, op, version] = unsupported;
    return new InputError(
      `${file.path}: the op ${op}${version ? ` (opset ${version})` : ''} is not supported by ONNX Runtime ${runtime.report.version} (${message})`,
      file.path,
    );
  }
  const domain = /No opset import for domain '([^']*)'/.exec(message);
  if (domain) {
    const op = /\(\s*"[^"]*",\s*(\w+),/.exec(message)?.[1];
    return new InputError(`${file.path}: the op ${op ?? '?'} of the domain '${domain[1]}' is not supported by ONNX Runtime ${runtime.report.version} (the model does not import that domain)`, file.path);
  }
  return new InputError(`${file.path}: ONNX Runtime cannot load the model: ${message}`, file.path);
}

function probeInput(runtime: OnnxRuntime, type: OnnxElementType, rows: number, exampleShape: readonly number[]): Ort.Tensor {
  const size = rows * exampleShape.reduce((a, b) => a * b, 1);
  const random = seededRandom(rows);
  // Integer inputs (token ids, indices) get zeros, valid everywhere; floats get noise in [-1, 1].
  const values = isIntegerType(type) || type === 'bool' ? new Float32Array(size) : Float32Array.from({ length: size }, () => random() * 2 - 1);
  return inputTensor(runtime.ort, type, values, [rows, ...exampleShape]);
}

async function runProbe(runtime: OnnxRuntime, file: OnnxModelFile, exampleShape: readonly number[]): Promise<OnnxProbe> {
  const graph = file.model.graph!;
  const order = topologicalOrder(graph);
  const copy = editableCopy(file.model);
  const probeGraph = copy.graph!;
  const modelOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const produced: { node: onnx.INodeProto; value: string; outputIndex: number }[] = [];
  const seen = new Set<string>();
  for (const node of order) {
    (node.output ?? []).forEach((value, outputIndex) => {
      if (!value || seen.has(value)) return;
      seen.add(value);
      produced.push({ node, value, outputIndex });
    });
  }
  probeGraph.output = produced.map(({ value }) => ({ name: value }));
  const session = await createSession(runtime, file, encodeModel(copy));
  const runs: Ort.InferenceSession.OnnxValueMapType[] = [];
  try {
    for (const rows of [2, 3]) {
      try {
        runs.push(await session.run({ [file.input.name]: probeInput(runtime, file.input.elementType, rows, exampleShape) }, QUIET));
      } catch (error) {
        throw new InputError(
          `${file.path}: running the model on a batch of ${rows} examples of shape ${formatDims(exampleShape)} failed: ${runtimeMessage(error)} ` +
            '(a batch size fixed inside the graph, e.g. a reshape to a constant shape, does this: re-export with a dynamic batch axis)',
          file.path,
        );
      }
    }
  } finally {
    await session.release();
  }
  const [two, three] = runs;
  const batchShape = (value: string): { type: string; exampleShape: number[] } | null => {
    const a = two[value];
    const b = three[value];
    if (!a || !b || a.type !== b.type || a.dims.length === 0 || a.dims.length !== b.dims.length) return null;
    if (a.dims[0] !== 2 || b.dims[0] !== 3 || !a.dims.slice(1).every((d, k) => d === b.dims[k + 1])) return null;
    return { type: a.type, exampleShape: b.dims.slice(1).map(Number) };
  };

  const consumers = new Map<string, string[]>();
  for (const node of graph.node ?? []) {
    for (const input of node.input ?? []) {
      if (!input) continue;
      const readers = consumers.get(input) ?? [];
      readers.push(node.opType ?? '');
      consumers.set(input, readers);
    }
  }

  const kept = produced.flatMap(({ node, value, outputIndex }) => {
    const shape = batchShape(value);
    if (!shape || !isFloatType(shape.type)) return [];
    return [{ node, value, outputIndex, elementType: shape.type as OnnxFloatType, exampleShape: shape.exampleShape }];
  });
  const names = readableLayerNames(kept.map(({ node, value, outputIndex }) => ({ node: node.name ?? '', opType: node.opType ?? '', value, outputIndex })));
  const candidates = kept.map(
    (k, index): OnnxLayerCandidate => ({
      name: names[index],
      value: k.value,
      node: k.node.name ?? '',
      opType: k.node.opType ?? '',
      elementType: k.elementType,
      exampleShape: k.exampleShape,
      index,
      inputs: (k.node.input ?? []).filter(Boolean),
      consumers: consumers.get(k.value) ?? [],
      isOutput: modelOutputs.has(k.value),
    }),
  );
  const outputs = (graph.output ?? []).map((o) => {
    const shape = batchShape(o.name ?? '');
    return { name: o.name ?? '', elementType: three[o.name ?? '']?.type ?? 'unknown', exampleShape: shape?.exampleShape ?? null };
  });
  return { candidates, outputs, exampleShape };
}

/** One line per candidate: name, op type and shape (`repsim layers MODEL`). */
export function formatLayerCandidates(candidates: readonly OnnxLayerCandidate[]): string[] {
  const width = Math.max(4, ...candidates.map((c) => c.name.length));
  const opWidth = Math.max(2, ...candidates.map((c) => c.opType.length));
  return candidates.map((c) => `${c.name.padEnd(width)}  ${c.opType.padEnd(opWidth)}  ${formatDims(['n', ...c.exampleShape])}${c.isOutput ? '  (model output)' : ''}`);
}
