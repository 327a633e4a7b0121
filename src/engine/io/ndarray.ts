/**
 * The in-memory array that the .npy/.npz readers produce.
 *
 * Every source dtype is converted to floating point in C (row-major) order, because the
 * compute feeds TensorFlow.js float32 tensors: a Float32Array by default, a Float64Array
 * when asked for (float64 sources then keep full precision). The source dtype is kept for
 * reporting only.
 */
import { InputError } from '../errors.js';

export type NpyDtype =
  | 'float16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';

export type FloatData = Float32Array | Float64Array;

export interface NdArray {
  /** The dtype stored in the file; `data` holds it converted to float. */
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** C (row-major) order; length is `size(shape)`. */
  readonly data: FloatData;
}

/** What the readers convert to: float32 (the default, what tensors use) or float64. */
export type Precision = 'float32' | 'float64';

export interface ReadOptions {
  readonly precision?: Precision;
}

/** Number of elements of an array of this shape (1 for a 0-d array). */
export function size(shape: readonly number[]): number {
  let count = 1;
  for (const extent of shape) count *= extent;
  return count;
}

/** Index of the first NaN or ±Infinity in `data`, or -1 when every value is finite. */
export function firstNonFiniteIndex(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) return i;
  }
  return -1;
}

/** The multi-index (one entry per axis) of a flat C-order index. */
export function unravelIndex(flatIndex: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  let rest = flatIndex;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index[axis] = rest % shape[axis];
    rest = Math.floor(rest / shape[axis]);
  }
  return index;
}

/**
 * Throws an InputError naming `source` (e.g. `a.npz:layer3`) and the position of the first
 * NaN or infinite value.
 */
export function assertAllFinite(array: NdArray, source: string): void {
  const bad = firstNonFiniteIndex(array.data);
  if (bad < 0) return;
  const value = array.data[bad];
  const position = `[${unravelIndex(bad, array.shape).join(', ')}]`;
  // A finite float64 beyond ±3.4e38 becomes ±Infinity once converted to float32.
  const overflowNote =
    !Number.isNaN(value) && array.dtype === 'float64' && array.data instanceof Float32Array
      ? ' (or a float64 value beyond the float32 range)'
      : '';
  throw new InputError(`${source}: value at ${position} is ${value}${overflowNote}; activations must be finite`, source);
}
