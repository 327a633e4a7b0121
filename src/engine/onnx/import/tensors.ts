/**
 * Element types of ONNX models read from files, and the conversions between them and the
 * float arrays RepSim holds: feeding an input of the model's own element type, and reading a
 * float16/float64 activation back as float32.
 */
import type * as Ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { float16ToNumber } from '../../io/npy.js';

/** The element types RepSim can feed to a model input (ONNX Runtime's names). */
export type OnnxElementType = 'float32' | 'float16' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';

/** The float types an activation (a layer candidate) can have. */
export type OnnxFloatType = 'float32' | 'float16' | 'float64';

const DataType = onnx.TensorProto.DataType;

const BY_CODE: ReadonlyMap<number, OnnxElementType> = new Map<number, OnnxElementType>([
  [DataType.FLOAT, 'float32'],
  [DataType.FLOAT16, 'float16'],
  [DataType.DOUBLE, 'float64'],
  [DataType.INT8, 'int8'],
  [DataType.INT16, 'int16'],
  [DataType.INT32, 'int32'],
  [DataType.INT64, 'int64'],
  [DataType.UINT8, 'uint8'],
  [DataType.UINT16, 'uint16'],
  [DataType.UINT32, 'uint32'],
  [DataType.UINT64, 'uint64'],
  [DataType.BOOL, 'bool'],
]);

/** ONNX's name of a TensorProto element type code (for errors), e.g. 8 → 'STRING'. */
export function onnxTypeName(code: number): string {
  return (DataType as unknown as Record<number, string>)[code] ?? `type ${code}`;
}

/** The element type of an ONNX type code, or null for one RepSim cannot feed (string, bfloat16, complex…). */
export function elementTypeOf(code: number): OnnxElementType | null {
  return BY_CODE.get(code) ?? null;
}

export function isFloatType(type: string): type is OnnxFloatType {
  return type === 'float32' || type === 'float16' || type === 'float64';
}

export function isIntegerType(type: OnnxElementType): boolean {
  return !isFloatType(type) && type !== 'bool';
}

/** The values an integer element type can hold (bool: 0 and 1). */
export function integerRange(type: OnnxElementType): readonly [number, number] | null {
  switch (type) {
    case 'int8':
      return [-128, 127];
    case 'int16':
      return [-32768, 32767];
    case 'int32':
      return [-(2 ** 31), 2 ** 31 - 1];
    case 'int64':
      return [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    case 'uint8':
      return [0, 255];
    case 'uint16':
      return [0, 65535];
    case 'uint32':
      return [0, 2 ** 32 - 1];
    case 'uint64':
      return [0, Number.MAX_SAFE_INTEGER];
    case 'bool':
      return [0, 1];
    default:
      return null;
  }
}

/** IEEE half-precision bits of a number (round to nearest even). */
export function numberToFloat16(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf / NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let bits = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    if (rest > half || (rest === half && bits & 1)) bits++;
    return sign | bits;
  }
  let bits = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && bits & 1)) bits++; // may carry into the exponent: still right
  return sign | bits;
}

/** Values (row-major) as an ONNX Runtime tensor of `type`; integers are rounded (callers check them first). */
export function inputTensor(ort: typeof Ort, type: OnnxElementType, values: Float32Array | Float64Array, dims: readonly number[]): Ort.Tensor {
  switch (type) {
    case 'float32':
      return new ort.Tensor('float32', values instanceof Float32Array ? values : Float32Array.from(values), dims);
    case 'float64':
      return new ort.Tensor('float64', values instanceof Float64Array ? values : Float64Array.from(values), dims);
    case 'float16':
      return new ort.Tensor('float16', Uint16Array.from(values, numberToFloat16), dims);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(Math.round(v))), dims);
    case 'uint64':
      return new ort.Tensor('uint64', BigUint64Array.from(values, (v) => BigInt(Math.round(v))), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(values, Math.round), dims);
    case 'int16':
      return new ort.Tensor('int16', Int16Array.from(values, Math.round), dims);
    case 'int8':
      return new ort.Tensor('int8', Int8Array.from(values, Math.round), dims);
    case 'uint32':
      return new ort.Tensor('uint32', Uint32Array.from(values, Math.round), dims);
    case 'uint16':
      return new ort.Tensor('uint16', Uint16Array.from(values, Math.round), dims);
    case 'uint8':
      return new ort.Tensor('uint8', Uint8Array.from(values, Math.round), dims);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(values, (v) => (v ? 1 : 0)), dims);
  }
}

/** A float tensor's data as float32 (a view when it already is). */
export function floatData(tensor: Ort.Tensor): Float32Array {
  const data = tensor.data;
  if (data instanceof Float32Array) return data;
  if (tensor.type === 'float16') return Float32Array.from(data as Uint16Array, float16ToNumber);
  if (data instanceof Float64Array) return Float32Array.from(data);
  throw new Error(`expected a float tensor, got ${tensor.type}`);
}

/** Long | number | string (protobufjs int64 fields) as a number. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  if (typeof value === 'bigint') return Number(value);
  const long = value as { toNumber?: () => number } | null | undefined;
  if (long && typeof long.toNumber === 'function') return long.toNumber();
  return Number(value);
}
