/**
 * Reading an `.onnx` file: the decoded model (external data inlined), its one input (name,
 * element type, dims with a dynamic batch axis first) and its outputs. Everything wrong with
 * the file is an InputError naming it: not an ONNX model, truncated, several inputs, a fixed
 * batch size, external data that is missing or too large to inline.
 */
import { readFile } from 'node:fs/promises';
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { onnx } from 'onnx-proto';
import { InputError } from '../../errors.js';
import { decodeModel } from '../graph.js';
import { elementTypeOf, onnxTypeName, toNumber, type OnnxElementType } from './tensors.js';

/** A dim as the model declares it: a size, a symbolic name ('batch'), or null (unnamed, unknown). */
export type OnnxDim = number | string | null;

export interface OnnxValueInfo {
  readonly name: string;
  /** null: a type RepSim does not read (an output may be a sequence or a string tensor). */
  readonly elementType: OnnxElementType | null;
  /** null when the model does not declare the rank. */
  readonly dims: readonly OnnxDim[] | null;
}

export interface OnnxInputInfo extends OnnxValueInfo {
  readonly elementType: OnnxElementType;
}

export interface OnnxModelFile {
  /** The file as given (errors name it). */
  readonly path: string;
  /** The decoded model, external data inlined; never edited in place (editors work on copies). */
  readonly model: onnx.IModelProto;
  readonly input: OnnxInputInfo;
  readonly outputs: readonly OnnxValueInfo[];
  /** The default-domain (ai.onnx) opset the model imports. */
  readonly opset: number;
  /** e.g. 'pytorch 1.13.0'. */
  readonly producer: string;
}

/** Protocol buffers cannot serialise a message of 2 GiB or more. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

/** Reads and checks an `.onnx` file (see the module comment); InputError naming the file. */
export async function loadOnnxModel(path: string): Promise<OnnxModelFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not an .onnx file' : `cannot read (${code ?? (error as Error).message})`;
    throw new InputError(`${path}: ${reason}`, path);
  }
  return parseOnnxModel(bytes, path);
}

/** `loadOnnxModel` for bytes already read; external data files are looked for next to `path`. */
export function parseOnnxModel(bytes: Uint8Array, path: string): OnnxModelFile {
  const fail = (reason: string): never => {
    throw new InputError(`${path}: ${reason}`, path);
  };
  if (bytes.length === 0) fail('the file is empty, not an ONNX model');
  let model: onnx.ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    return fail(`not an ONNX model, or a truncated one (the protobuf does not decode: ${(error as Error).message})`);
  }
  const graph = model.graph;
  if (!graph || !graph.node?.length) return fail('not an ONNX model (no graph with nodes in it), or a truncated one');
  if (!model.opsetImport?.length && !toNumber(model.irVersion)) fail('not an ONNX model (neither an IR version nor an opset), or a damaged one');

  inlineExternalData(model, path, bytes.length, fail);
  checkDefined(graph, fail);

  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  // Older exports list the weights among the inputs too (keep_initializers_as_inputs).
  const inputs = (graph.input ?? []).filter((v) => !initializers.has(v.name ?? ''));
  if (inputs.length === 0) fail('the graph has no input to feed');
  if (inputs.length > 1) {
    fail(`the model has ${inputs.length} inputs (${inputs.map((v) => `'${v.name}'`).join(', ')}); RepSim feeds models with a single input (e.g. images)`);
  }
  const input = readValueInfo(inputs[0]);
  if (input.elementType === null) {
    const code = inputs[0].type?.tensorType?.elemType;
    fail(`the input '${input.name}' is not a tensor of numbers (${code === undefined || code === null ? 'no tensor type' : onnxTypeName(code)}); RepSim feeds float or integer tensors`);
  }
  checkBatchAxis(input, fail);
  const opset = toNumber(model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  if (!opset) fail('the model imports no default-domain (ai.onnx) opset');
  const producer = [model.producerName, model.producerVersion].filter(Boolean).join(' ');
  return {
    path,
    model,
    input: input as OnnxInputInfo,
    outputs: (graph.output ?? []).map(readValueInfo),
    opset,
    producer,
  };
}

function readValueInfo(value: onnx.IValueInfoProto): OnnxValueInfo {
  const tensor = value.type?.tensorType;
  const code = tensor?.elemType;
  const dims = tensor?.shape ? (tensor.shape.dim ?? []).map(readDim) : null;
  return { name: value.name ?? '', elementType: code === undefined || code === null ? null : elementTypeOf(code), dims };
}

function readDim(dim: onnx.TensorShapeProto.IDimension): OnnxDim {
  if (dim.dimValue !== undefined && dim.dimValue !== null) {
    const size = toNumber(dim.dimValue);
    if (size > 0) return size;
  }
  return dim.dimParam ? dim.dimParam : null;
}

/** '[batch, 3, 224, 224]' */
export function formatDims(dims: readonly OnnxDim[] | null): string {
  if (dims === null) return '[unknown rank]';
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

function checkBatchAxis(input: OnnxValueInfo, fail: (reason: string) => never): void {
  if (input.dims === null) return; // no declared shape: the batch axis is whatever is fed
  if (input.dims.length === 0) fail(`the input '${input.name}' is a scalar: RepSim feeds batches of examples, examples on the first axis`);
  const batch = input.dims[0];
  if (typeof batch === 'number') {
    fail(
      `the input '${input.name}' has a fixed batch size of ${batch} (shape ${formatDims(input.dims)}); RepSim feeds batches of many examples, so the first axis must be dynamic: ` +
        `re-export the model with a dynamic batch axis, e.g. torch.onnx.export(model, x, 'model.onnx', input_names=['${input.name}'], ` +
        `output_names=['output'], dynamic_axes={'${input.name}': {0: 'batch'}, 'output': {0: 'batch'}})`,
    );
  }
}

/** Every node input is a graph input, an initializer or an earlier node's output (else the file is cut short or damaged). */
function checkDefined(graph: onnx.IGraphProto, fail: (reason: string) => never): void {
  const defined = new Set<string>(['']);
  for (const v of graph.input ?? []) defined.add(v.name ?? '');
  for (const t of graph.initializer ?? []) defined.add(t.name ?? '');
  for (const t of graph.sparseInitializer ?? []) defined.add(t.values?.name ?? '');
  for (const n of graph.node ?? []) for (const o of n.output ?? []) defined.add(o);
  for (const n of graph.node ?? []) {
    const missing = (n.input ?? []).find((name) => !defined.has(name));
    if (missing !== undefined) fail(`truncated or damaged ONNX model: node '${n.name || n.opType}' reads '${missing}', which nothing in the graph defines`);
  }
  for (const o of graph.output ?? []) {
    if (!defined.has(o.name ?? '')) fail(`truncated or damaged ONNX model: the graph output '${o.name}' is not computed by any node`);
  }
}

/**
 * Weights stored in separate files (models over 2 GB, or exported with external data) are read
 * into the model, so that it can be edited and given to ONNX Runtime as one buffer; past 2 GB in
 * all that is impossible, and the error says so.
 */
function inlineExternalData(model: onnx.ModelProto, path: string, modelBytes: number, fail: (reason: string) => never): void {
  const external = (model.graph!.initializer ?? []).filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
  if (external.length === 0) return;
  const directory = dirname(path);
  const entries = external.map((tensor) => {
    const info = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = info.get('location');
    if (!location) fail(`the weight '${tensor.name}' is stored outside the model, but the model does not say where`);
    const file = isAbsolute(location!) ? location! : resolve(directory, location!);
    const offset = Number(info.get('offset') ?? 0);
    let length = info.has('length') ? Number(info.get('length')) : NaN;
    if (Number.isNaN(length)) {
      try {
        length = statSync(file).size - offset;
      } catch {
        fail(`model with external data: the weight '${tensor.name}' is stored in '${location}', which is not next to the model (${file})`);
      }
    }
    return { tensor, file, location: location!, offset, length };
  });
  const total = entries.reduce((sum, e) => sum + e.length, modelBytes);
  if (total >= PROTOBUF_LIMIT) {
    fail(
      `model over 2 GB with external data (${(total / 1024 ** 3).toFixed(1)} GB of weights in ${[...new Set(entries.map((e) => e.location))].join(', ')}): ` +
        'RepSim adds its outputs to the model in memory, which protocol buffers limit to 2 GB; use a smaller model',
    );
  }
  const files = new Map<string, Uint8Array>();
  for (const entry of entries) {
    let data = files.get(entry.file);
    if (!data) {
      try {
        data = readFileSync(entry.file);
      } catch {
        return fail(`model with external data: the weight '${entry.tensor.name}' is stored in '${entry.location}', which is not next to the model (${entry.file})`);
      }
      files.set(entry.file, data);
    }
    if (entry.offset + entry.length > data.length) {
      fail(`model with external data: '${entry.location}' is too short for the weight '${entry.tensor.name}' (truncated?)`);
    }
    entry.tensor.rawData = data.subarray(entry.offset, entry.offset + entry.length);
    entry.tensor.externalData = [];
    entry.tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
  }
}
