/**
 * A small typed builder for ONNX graphs over `onnx-proto` (protobufjs with ONNX's schema).
 *
 * One module for every graph RepSim makes or edits: the similarity graphs (grams, centering,
 * HSIC), the TF.js → ONNX model exporter, and models read from `.onnx` files that get extra
 * outputs. Names are unique within a graph; `op()` returns the name of the node's output.
 *
 *   const g = new GraphBuilder('gram');
 *   const x = g.input('x', 'float32', ['n', 'd']);            // x: [n, d]
 *   const gram = g.op('Gemm', [x, x], { transB: 1 });          // gram: [n, n]
 *   g.output(gram, 'float32', ['n', 'n']);
 *   const bytes = g.encode();
 */
import { onnx } from 'onnx-proto';

/** ONNX opset the builder targets by default (ONNX Runtime 1.30 runs up to 23). */
export const DEFAULT_OPSET = 17;
/** IR version matching opset 17 (ONNX 1.12). */
const IR_VERSION = 8;

export type ElementType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';
export type Dim = number | string | null;

const DATA_TYPES: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** ONNX's element type code for a RepSim element type. */
export function onnxDataType(type: ElementType): number {
  return DATA_TYPES[type];
}

const AttributeType = onnx.AttributeProto.AttributeType;

/** A float attribute whose value may be integral (a plain integer is taken as INT). */
export interface FloatAttribute {
  readonly kind: 'float';
  readonly value: number;
}
export interface FloatsAttribute {
  readonly kind: 'floats';
  readonly value: readonly number[];
}
export interface TensorAttribute {
  readonly kind: 'tensor';
  readonly value: onnx.ITensorProto;
}
/**
 * An attribute value: an integer → INT, a non-integer number → FLOAT, a string → STRING,
 * an integer array → INTS; `float()` / `floats()` / `tensorAttribute()` say so explicitly.
 */
export type AttributeValue = number | string | readonly number[] | FloatAttribute | FloatsAttribute | TensorAttribute;

export const float = (value: number): FloatAttribute => ({ kind: 'float', value });
export const floats = (value: readonly number[]): FloatsAttribute => ({ kind: 'floats', value });
export const tensorAttribute = (value: onnx.ITensorProto): TensorAttribute => ({ kind: 'tensor', value });

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    const ints = value as readonly number[];
    if (!ints.every(Number.isInteger)) throw new Error(`attribute '${name}': a list of non-integers must be given as floats([...])`);
    return { name, type: AttributeType.INTS, ints: [...ints] };
  }
  const tagged = value as FloatAttribute | FloatsAttribute | TensorAttribute;
  switch (tagged.kind) {
    case 'float':
      return { name, type: AttributeType.FLOAT, f: tagged.value };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: [...tagged.value] };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: tagged.value };
  }
}

/** Tensor data in little-endian bytes, as ONNX's raw_data holds it. */
function rawBytes(type: ElementType, values: ArrayLike<number> | BigInt64Array): Uint8Array {
  let typed: ArrayBufferView;
  switch (type) {
    case 'float32':
      typed = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
      break;
    case 'float64':
      typed = values instanceof Float64Array ? values : Float64Array.from(values as ArrayLike<number>);
      break;
    case 'int64':
      typed = values instanceof BigInt64Array ? values : BigInt64Array.from(Array.from(values as ArrayLike<number>, (v) => BigInt(v)));
      break;
    case 'int32':
      typed = values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
      break;
    case 'bool':
      typed = Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
      break;
  }
  // The host is little-endian on every platform onnxruntime-node ships for.
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

/** A TensorProto holding `values` (row-major) with the given dims. */
export function tensorProto(name: string, type: ElementType, dims: readonly number[], values: ArrayLike<number> | BigInt64Array): onnx.ITensorProto {
  const size = dims.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new Error(`tensor '${name}': ${values.length} values for shape [${dims.join(', ')}] (${size})`);
  return { name, dims: [...dims], dataType: DATA_TYPES[type], rawData: rawBytes(type, values) };
}

export function valueInfo(name: string, type?: ElementType, dims?: readonly Dim[]): onnx.IValueInfoProto {
  if (type === undefined) return { name };
  const shape = dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) } : undefined;
  return { name, type: { tensorType: { elemType: DATA_TYPES[type], shape } } };
}

export interface NodeOptions {
  /** How many outputs the node has (default 1). */
  readonly outputs?: number;
  /** A readable node name (made unique); default: derived from the op type. */
  readonly name?: string;
  /** Output names to use (made unique); default: derived from the node name. */
  readonly outputNames?: readonly string[];
  readonly domain?: string;
}

export class GraphBuilder {
  private readonly graph: onnx.IGraphProto;
  /** Value names (inputs, initializers, node outputs): one namespace. */
  private readonly used = new Set<string>();
  /** Node names: a namespace of their own. */
  private readonly usedNodeNames = new Set<string>();
  private readonly constants = new Map<string, string>();
  readonly opset: number;

  constructor(name: string, opset = DEFAULT_OPSET, graph?: onnx.IGraphProto) {
    this.opset = opset;
    this.graph = graph ?? { name, node: [], initializer: [], input: [], output: [], valueInfo: [] };
    for (const key of ['node', 'initializer', 'input', 'output', 'valueInfo'] as const) this.graph[key] ??= [];
    for (const n of this.graph.node!) {
      if (n.name) this.usedNodeNames.add(n.name);
      n.output?.forEach((o) => this.used.add(o));
    }
    for (const t of this.graph.initializer!) if (t.name) this.used.add(t.name);
    for (const v of this.graph.input!) if (v.name) this.used.add(v.name);
  }

  /** Wraps a decoded model's graph for editing; `toModel()` then returns the same model, edited. */
  static edit(model: onnx.IModelProto): { builder: GraphBuilder; model: onnx.IModelProto } {
    if (!model.graph) throw new Error('the ONNX model has no graph');
    const opset = Number(model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? DEFAULT_OPSET);
    return { builder: new GraphBuilder(model.graph.name ?? 'graph', opset, model.graph), model };
  }

  /** A value name not yet used in this graph, from a readable hint. */
  unique(hint: string): string {
    return claim(this.used, hint);
  }

  input(name: string, type: ElementType, dims: readonly Dim[]): string {
    if (this.used.has(name)) throw new Error(`graph input '${name}': the name is taken`);
    this.used.add(name);
    this.graph.input!.push(valueInfo(name, type, dims));
    return name;
  }

  /** Makes an existing value a graph output; with a type and dims when known. */
  output(name: string, type?: ElementType, dims?: readonly Dim[]): string {
    this.graph.output!.push(valueInfo(name, type, dims));
    return name;
  }

  /** Drops the graph's outputs (before adding the ones wanted). */
  clearOutputs(): void {
    this.graph.output!.length = 0;
  }

  /** A weight or constant tensor, stored as a graph initializer. */
  initializer(hint: string, type: ElementType, dims: readonly number[], values: ArrayLike<number> | BigInt64Array): string {
    const name = this.unique(hint);
    this.graph.initializer!.push(tensorProto(name, type, dims, values));
    return name;
  }

  /** A small constant, shared between nodes that ask for the same value. */
  constant(type: ElementType, dims: readonly number[], values: readonly number[]): string {
    const key = `${type}[${dims.join(',')}]:${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = this.initializer(`const_${type}_${values.length === 1 ? String(values[0]).replace(/[^0-9a-z]/gi, '_') : 'vec'}`, type, dims, values);
    this.constants.set(key, name);
    return name;
  }

  scalar(value: number, type: ElementType = 'float32'): string {
    return this.constant(type, [], [value]);
  }

  int64s(values: readonly number[]): string {
    return this.constant('int64', [values.length], values);
  }

  /** Adds a node; returns its output names. */
  node(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue | undefined> = {}, options: NodeOptions = {}): string[] {
    const name = claim(this.usedNodeNames, options.name ?? opType);
    const count = options.outputNames?.length ?? options.outputs ?? 1;
    const outputs = Array.from({ length: count }, (_, k) => this.unique(options.outputNames?.[k] ?? (count === 1 ? `${name}_out` : `${name}_out${k}`)));
    const attribute_ = Object.entries(attributes)
      .filter((entry): entry is [string, AttributeValue] => entry[1] !== undefined)
      .map(([key, value]) => attribute(key, value));
    this.graph.node!.push({ opType, name, input: [...inputs], output: outputs, attribute: attribute_, domain: options.domain ?? '' });
    return outputs;
  }

  /** Adds a single-output node; returns its output name. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue | undefined> = {}, options: Omit<NodeOptions, 'outputs'> = {}): string {
    return this.node(opType, inputs, attributes, { ...options, outputs: 1 })[0];
  }

  /** The graph's nodes (read-only view, topological order as built). */
  get nodes(): readonly onnx.INodeProto[] {
    return this.graph.node!;
  }

  get inputs(): readonly onnx.IValueInfoProto[] {
    return this.graph.input!;
  }

  get outputs(): readonly onnx.IValueInfoProto[] {
    return this.graph.output!;
  }

  toModel(producer = 'repsim'): onnx.IModelProto {
    return {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: this.opset }],
      producerName: producer,
      graph: this.graph,
    };
  }

  /** The serialized ModelProto, ready for `InferenceSession.create`. */
  encode(producer = 'repsim'): Uint8Array {
    return encodeModel(this.toModel(producer));
  }
}

function claim(used: Set<string>, hint: string): string {
  const base = hint.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
  let name = base;
  for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
  used.add(name);
  return name;
}

export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
