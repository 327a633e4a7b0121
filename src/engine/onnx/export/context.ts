/**
 * What a layer converter works with: the graph builder, the layer's inputs as ONNX values, its
 * weights and config, and the layout bookkeeping that lets convolutions stay in NCHW.
 *
 * Layouts. TF.js images are NHWC; ONNX's Conv, pooling, Pad and Resize are NCHW. A value is
 * made in one layout (`TensorValue.layout`) and transposed to the other on demand, once:
 *
 *   x: [N, H, W, C] ('tf')  ──Transpose(perm 0,3,1,2)──▶  x: [N, C, H, W] ('nchw')
 *   x: [N, C, H, W] ('nchw') ──Transpose(perm 0,2,3,1)──▶ x: [N, H, W, C] ('tf')
 *
 * Only rank-4 values have an 'nchw' form. Every other rank is always in TF.js layout.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type { AttributeValue, GraphBuilder } from '../graph.js';
import { UnsupportedLayerError } from './errors.js';

/** A TF.js shape, batch axis first (null where unknown). */
export type Shape = readonly (number | null)[];

/** 'tf': TF.js's own layout (channels last); 'nchw': a rank-4 value with channels moved to axis 1. */
export type Layout = 'tf' | 'nchw';

/** Transpose perms between the layouts (rank 4). */
export const NHWC_TO_NCHW: readonly number[] = [0, 3, 1, 2];
export const NCHW_TO_NHWC: readonly number[] = [0, 2, 3, 1];

/** Graph value names no layer may take: exportLayersModel names its graph input and output so. */
const RESERVED_NAMES = new Set(['input', 'output']);

/** One TF.js tensor of the model as ONNX values: the one its layer made, and transposes made on demand. */
export class TensorValue {
  /** The value's ONNX name in each layout made so far. */
  readonly names: Partial<Record<Layout, string>> = {};

  constructor(
    /** The TF.js shape, batch axis first (null). */
    readonly shape: Shape,
    /** The layout the layer made it in. */
    readonly layout: Layout,
    name: string,
  ) {
    if (layout === 'nchw' && shape.length !== 4) throw new Error(`value '${name}': only rank-4 values have an NCHW form (shape [${shape.join(', ')}])`);
    this.names[layout] = name;
  }

  /** The ONNX name of the value in the layout it was made in. */
  get name(): string {
    return this.names[this.layout]!;
  }

  get rank(): number {
    return this.shape.length;
  }
}

/** The value in TF.js layout (a Transpose NCHW → NHWC, added once). */
export function tfLayout(builder: GraphBuilder, value: TensorValue): string {
  return inLayout(builder, value, 'tf');
}

/** The value in `layout` (a Transpose, added once per value and layout, when it was made in the other). */
export function inLayout(builder: GraphBuilder, value: TensorValue, layout: Layout): string {
  const existing = value.names[layout];
  if (existing !== undefined) return existing;
  if (value.rank !== 4) throw new Error(`value '${value.name}': only rank-4 values have an NCHW form (shape [${value.shape.join(', ')}])`);
  const source = value.names[value.layout]!;
  const perm = layout === 'nchw' ? NHWC_TO_NCHW : NCHW_TO_NHWC;
  const name = builder.op('Transpose', [source], { perm: [...perm] }, { name: `${source}/to_${layout === 'nchw' ? 'nchw' : 'nhwc'}` });
  value.names[layout] = name;
  return name;
}

/** The axis of a value in `layout` that holds TF.js axis `tfAxis` (negative counts from the end). */
export function layoutAxis(rank: number, tfAxis: number, layout: Layout): number {
  const axis = tfAxis < 0 ? tfAxis + rank : tfAxis;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) throw new RangeError(`axis ${tfAxis} out of range for rank ${rank}`);
  return layout === 'nchw' ? NHWC_TO_NCHW.indexOf(axis) : axis;
}

/** A weight of a layer, row-major, in TF.js's own layout. */
export interface Weight {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export interface OpOptions {
  /** Node name suffix after the layer name (default: the op type). */
  readonly label?: string;
  /** The layer's output: named after the layer. */
  readonly final?: boolean;
}

/** The context one layer converter gets. */
export class LayerContext {
  private configCache?: Record<string, unknown>;

  constructor(
    readonly builder: GraphBuilder,
    readonly layer: tfl.layers.Layer,
    /** The layer's inputs, in the order TF.js passes them. */
    readonly inputs: readonly TensorValue[],
    /** The layer's TF.js output shape, batch axis first. */
    readonly outputShape: Shape,
  ) {}

  get layerName(): string {
    return this.layer.name;
  }

  get className(): string {
    return this.layer.getClassName();
  }

  /** The layer's serialized config (`layer.getConfig()`), e.g. { filters, kernelSize, padding, … }. */
  get config(): Record<string, unknown> {
    this.configCache ??= this.layer.getConfig() as Record<string, unknown>;
    return this.configCache;
  }

  /** Throws UnsupportedLayerError for this layer. */
  fail(reason: string): never {
    throw new UnsupportedLayerError(this.layerName, this.className, reason);
  }

  /** The single input of a one-input layer. */
  get input(): TensorValue {
    if (this.inputs.length !== 1) this.fail(`expected one input, got ${this.inputs.length}`);
    return this.inputs[0];
  }

  /** Refuses channels-first TF.js layers (their TF.js tensors are already NCHW; not handled). */
  requireChannelsLast(): void {
    const format = this.config.dataFormat;
    if (format !== undefined && format !== null && format !== 'channelsLast') this.fail(`dataFormat '${String(format)}' (only channelsLast is supported)`);
  }

  tf(value: TensorValue): string {
    return tfLayout(this.builder, value);
  }

  nchw(value: TensorValue): string {
    return inLayout(this.builder, value, 'nchw');
  }

  in(value: TensorValue, layout: Layout): string {
    return inLayout(this.builder, value, layout);
  }

  /** Adds a node with one output; intermediate nodes are named `<layer>/<label>`, the final one after the layer. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue | undefined> = {}, options: OpOptions = {}): string {
    const name = `${this.layerName}/${options.label ?? opType}`;
    if (!options.final) return this.builder.op(opType, inputs, attributes, { name });
    const hint = RESERVED_NAMES.has(this.layerName) ? `${this.layerName}/value` : this.layerName;
    return this.builder.op(opType, inputs, attributes, { name, outputNames: [hint] });
  }

  /** The layer's output value (TF.js output shape) made in `layout`. */
  result(name: string, layout: Layout = 'tf'): TensorValue {
    return new TensorValue(this.outputShape, layout, name);
  }

  /** A weight by its short name ('kernel', 'bias', 'gamma', 'moving_mean', …), or undefined when the layer has none. */
  weight(shortName: string): Weight | undefined {
    const variable = this.layer.weights.find((w) => w.originalName.slice(w.originalName.lastIndexOf('/') + 1) === shortName);
    if (!variable) return undefined;
    const tensor = variable.read();
    return { shape: [...tensor.shape], values: Float32Array.from(tensor.dataSync() as Float32Array) };
  }

  requireWeight(shortName: string): Weight {
    return this.weight(shortName) ?? this.fail(`no '${shortName}' weight`);
  }

  /** A float32 initializer named `<layer>/<label>`. */
  initializer(label: string, dims: readonly number[], values: ArrayLike<number>): string {
    return this.builder.initializer(`${this.layerName}/${label}`, 'float32', dims, values);
  }

  /** A TF.js axis (negative from the end) as the axis of a value of rank `rank` in `layout`. */
  axis(tfAxis: number, rank: number, layout: Layout): number {
    try {
      return layoutAxis(rank, tfAxis, layout);
    } catch {
      return this.fail(`axis ${tfAxis} is out of range for rank ${rank}`);
    }
  }
}

/** A config entry that TF.js gives as a number or a list (kernelSize, strides, …), as a list of `length`. */
export function tuple(value: unknown, length: number, fallback: number): number[] {
  if (value === undefined || value === null) return Array.from({ length }, () => fallback);
  if (typeof value === 'number') return Array.from({ length }, () => value);
  const list = value as number[];
  if (list.length === 1 && length > 1) return Array.from({ length }, () => list[0]);
  return [...list];
}

/** Row-major data of shape `shape` permuted by `perm` (output axis k = input axis perm[k]), like a Transpose. */
export function permuteData(values: ArrayLike<number>, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  for (let k = rank - 1, s = 1; k >= 0; k--) {
    inStrides[k] = s;
    s *= shape[k];
  }
  const stridesByOutAxis = perm.map((p) => inStrides[p]);
  const out = new Float32Array(values.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let source = 0;
    for (let k = 0; k < rank; k++) source += index[k] * stridesByOutAxis[k];
    out[o] = values[source];
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k] < outShape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}
