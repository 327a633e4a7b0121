/**
 * Gradient kernels that let the tfjs 4.22 'wasm' backend train conv nets.
 *
 * As shipped, tfjs-backend-wasm cannot: it registers no `Conv2DBackpropFilter` (the weight
 * gradient of every conv layer), its `Conv2DBackpropInput` is a plain C++ loop ~10× slower than
 * the forward conv, and tfjs-core's batch-norm gradient calls `tile`, which costs ~40× a
 * broadcast multiply there. Here both conv gradients become *forward* convolutions (which wasm
 * runs through XNNPACK) of rearranged tensors, and the batch-norm gradient broadcasts instead of
 * tiling. Measured on a 2-core machine: a ResNet-20 train step with batch 128 takes ~4 s.
 *
 * Scope: NHWC convolutions with dilation 1, the only kind whose gradient tfjs-core defines.
 */
import * as tf from '@tensorflow/tfjs-core';

type ConvInfo = tf.backend_util.Conv2DInfo;
type ConvPadding = tf.Conv2DBackpropInputAttrs['pad'];

/** The forward conv's geometry, from the same function tfjs uses, so padding matches exactly. */
export function forwardConvInfo(
  inputShape: readonly number[],
  filterShape: readonly number[],
  strides: number | [number, number],
  pad: ConvPadding,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** Pads (positive amounts) or crops (negative amounts) the rows and columns of an NHWC tensor. */
function padOrCropSpatial(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  const [cropTop, cropBottom, cropLeft, cropRight] = [top, bottom, left, right].map((amount) => Math.max(0, -amount));
  const cropped = cropTop + cropBottom + cropLeft + cropRight > 0 ? tf.slice(t, [0, cropTop, cropLeft, 0], [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c]) : t;
  const [padTop, padBottom, padLeft, padRight] = [top, bottom, left, right].map((amount) => Math.max(0, amount));
  if (padTop + padBottom + padLeft + padRight === 0) return cropped;
  return tf.pad(cropped, [
    [0, 0],
    [padTop, padBottom],
    [padLeft, padRight],
    [0, 0],
  ]);
}

/** Inserts stride − 1 zero rows (columns) after every row (column): [N,H,W,C] → [N, H·sH, W·sW, C]. */
function spreadByStride(t: tf.Tensor4D, strideHeight: number, strideWidth: number): tf.Tensor4D {
  if (strideHeight === 1 && strideWidth === 1) return t;
  const [n, h, w, c] = t.shape;
  const withGaps = tf.pad(tf.reshape(t, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, strideHeight - 1],
    [0, 0],
    [0, strideWidth - 1],
    [0, 0],
  ]);
  return tf.reshape(withGaps, [n, h * strideHeight, w * strideWidth, c]);
}

/**
 * Every s-th row and column, as a 1×1 identity conv with stride s: XNNPACK runs that ~40×
 * faster than wasm's strided slice, and exactly (x·1 plus zeros), as long as values are finite.
 */
function subsample(t: tf.Tensor4D, strideHeight: number, strideWidth: number): tf.Tensor4D {
  const channels = t.shape[3];
  const identity = tf.reshape(tf.eye(channels), [1, 1, channels, channels]) as tf.Tensor4D;
  return tf.conv2d(t, identity, [strideHeight, strideWidth], 'valid');
}

/**
 * dL/dx of y = conv2d(x, w) as one forward conv. Input row h meets output row o through filter
 * row k when h = o·s + k − top, so with u = dy spread by the stride (u[o·s] = dy[o]),
 * dx[h] = Σₖ u[h + top − k]·w[k]ᵀ: a 'valid' correlation of u, padded by KH − 1 − top above,
 * with the filter rotated 180° and its in/out channels swapped. Columns likewise.
 */
export function conv2dInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, info: ConvInfo): tf.Tensor4D {
  const [filterHeight, filterWidth] = filter.shape;
  const spread = spreadByStride(dy, info.strideHeight, info.strideWidth);
  const top = filterHeight - 1 - info.padInfo.top;
  const left = filterWidth - 1 - info.padInfo.left;
  // Pad to H + KH − 1 rows so that the valid correlation gives exactly H rows (crop the spread's trailing zeros if longer).
  const padded = padOrCropSpatial(
    spread,
    top,
    info.inHeight + filterHeight - 1 - top - spread.shape[1],
    left,
    info.inWidth + filterWidth - 1 - left - spread.shape[2],
  );
  const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]); // [KH, KW, Cout, Cin]
  return tf.conv2d(padded, rotated, 1, 'valid');
}

/**
 * dL/dw of y = conv2d(x, w): dw[k, ci, co] = Σₙ,ₒ xpad[n, o·s + k, ci]·dy[n, o, co]. Taking the
 * input channels as the batch and the examples as the channels, that is one forward conv of
 * xpadᵀ [Cin, Hp, Wp, N] with dyᵀ [OH, OW, N, Cout] as the filter, dilated by the stride; its
 * output [Cin, KH, KW, Cout] is the gradient up to a transpose. A 1×1 filter is a plain matmul.
 */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, info: ConvInfo): tf.Tensor4D {
  const { filterHeight, filterWidth, strideHeight, strideWidth, outHeight, outWidth, inChannels, outChannels } = info;
  // Keep exactly the (OH − 1)·s + KH rows the forward conv read (padding added, unread rows cropped).
  const padded = padOrCropSpatial(
    x,
    info.padInfo.top,
    (outHeight - 1) * strideHeight + filterHeight - info.padInfo.top - info.inHeight,
    info.padInfo.left,
    (outWidth - 1) * strideWidth + filterWidth - info.padInfo.left - info.inWidth,
  );
  if (filterHeight === 1 && filterWidth === 1) {
    const sampled = strideHeight > 1 || strideWidth > 1 ? subsample(padded, strideHeight, strideWidth) : padded;
    const rows = sampled.shape[0] * outHeight * outWidth;
    // An explicit transpose, not matMul's transposeA flag: tfjs-wasm runs flagged matmuls outside XNNPACK, far slower.
    const product = tf.matMul(tf.transpose(tf.reshape(sampled, [rows, inChannels])), tf.reshape(dy, [rows, outChannels]));
    return tf.reshape(product, [1, 1, inChannels, outChannels]);
  }
  const channelsAsBatch = tf.transpose(padded, [3, 1, 2, 0]); // [Cin, Hp, Wp, N]
  const gradientAsFilter = tf.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, Cout]
  const result = tf.conv2d(channelsAsBatch, gradientAsFilter, 1, 'valid', 'NHWC', [strideHeight, strideWidth]); // [Cin, KH, KW, Cout]
  return tf.transpose(result, [1, 2, 0, 3]);
}

/**
 * Runs `compute` on ordinary tensors inside a kernel. Kernels get TensorInfos; wrapping them as
 * tensors that share the caller's data needs one extra backend reference each, which disposing
 * the wrappers (at the end of the tidy) gives back. The result keeps one reference, owned by
 * the engine once returned. Ops run here are not taped: the engine is inside a kernel.
 */
function runAsKernel(backend: tf.KernelBackend, inputs: readonly tf.TensorInfo[], compute: (...tensors: tf.Tensor4D[]) => tf.Tensor): tf.TensorInfo {
  for (const input of inputs) backend.incRef(input.dataId);
  const result = tf.tidy(() => compute(...inputs.map((input) => tf.engine().makeTensorFromTensorInfo(input) as tf.Tensor4D)));
  backend.incRef(result.dataId);
  const output: tf.TensorInfo = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
  result.dispose();
  return output;
}

function requireNhwc(kernelName: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') throw new Error(`${kernelName} on wasm: only NHWC is supported, not ${dataFormat}`);
}

const inputGradientKernel: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as Record<'dy' | 'filter', tf.TensorInfo>;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    requireNhwc(tf.Conv2DBackpropInput, dataFormat);
    const info = forwardConvInfo(inputShape, filter.shape, strides, pad, dimRoundingMode);
    return runAsKernel(backend as tf.KernelBackend, [dy, filter], (dyTensor, filterTensor) => conv2dInputGradient(dyTensor, filterTensor, info));
  },
};

const filterGradientKernel: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as Record<'x' | 'dy', tf.TensorInfo>;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    requireNhwc(tf.Conv2DBackpropFilter, dataFormat);
    const info = forwardConvInfo(x.shape, filterShape, strides, pad, dimRoundingMode);
    return runAsKernel(backend as tf.KernelBackend, [x, dy], (xTensor, dyTensor) => conv2dFilterGradient(xTensor, dyTensor, info));
  },
};

/**
 * tfjs-core's batch-norm gradient with every `tile` replaced by broadcasting (same math). The
 * gradient registry is global, so other backends keep tfjs-core's own version.
 */
function broadcastingBatchNormGradient(original: tf.GradConfig): tf.GradConfig {
  return {
    kernelName: tf.FusedBatchNorm,
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      if (tf.getBackend() !== 'wasm') return original.gradFunc(dy, saved, attrs);
      const gradient = dy as tf.Tensor;
      const { varianceEpsilon } = attrs as unknown as tf.FusedBatchNormAttrs;
      const [x, mean, variance, scale] = saved;
      const scaleValue = scale ?? tf.scalar(1);
      // Per-channel statistics (rank 1) are reduced over every other axis; full-shape ones are not.
      const reductionAxes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
      const toStatisticShape = (t: tf.Tensor): tf.Tensor => tf.reshape(mean.rank === 1 ? tf.sum(t, reductionAxes) : t, mean.shape);
      const inverseStd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
      const centered = tf.sub(x, mean);
      const scaledGradient = tf.mul(gradient, scaleValue);
      const minusHalfInverseStdCubed = tf.mul(tf.mul(tf.mul(inverseStd, inverseStd), inverseStd), tf.scalar(-0.5));
      return {
        x: () => tf.reshape(tf.mul(gradient, tf.mul(inverseStd, scaleValue)), x.shape),
        mean: () => toStatisticShape(tf.mul(scaledGradient, tf.neg(inverseStd))),
        variance: () => toStatisticShape(tf.mul(tf.mul(centered, scaledGradient), minusHalfInverseStdCubed)),
        scale: () => toStatisticShape(tf.mul(gradient, tf.mul(centered, inverseStd))),
        offset: () => toStatisticShape(gradient),
      };
    },
  };
}

function replaceKernel(config: tf.KernelConfig): void {
  // Unregister first: registering over an existing kernel logs a warning.
  if (tf.getKernel(config.kernelName, config.backendName)) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

let batchNormGradient: tf.GradConfig | undefined;

/** Whether the kernels and gradient below are the ones registered now. */
export function wasmTrainingKernelsActive(): boolean {
  return (
    tf.getKernel(tf.Conv2DBackpropInput, 'wasm') === inputGradientKernel &&
    tf.getKernel(tf.Conv2DBackpropFilter, 'wasm') === filterGradientKernel &&
    batchNormGradient !== undefined &&
    tf.getGradient(tf.FusedBatchNorm) === batchNormGradient
  );
}

/**
 * Registers the kernels above for the 'wasm' backend, unless they already are. Call it after
 * `@tensorflow/tfjs-backend-wasm` is loaded: loading it registers the stock kernels, which would
 * replace these.
 */
export function registerWasmTrainingKernels(): void {
  if (wasmTrainingKernelsActive()) return;
  if (!tf.findBackendFactory('wasm')) throw new Error('registerWasmTrainingKernels: load @tensorflow/tfjs-backend-wasm first');
  // tfjs-core's gradients are registered by loading tfjs-layers (tfjs-core alone registers none),
  // and loading it later would put the tiling batch-norm gradient back: load it first.
  require('@tensorflow/tfjs-layers');
  replaceKernel(inputGradientKernel);
  replaceKernel(filterGradientKernel);
  const original = tf.getGradient(tf.FusedBatchNorm);
  if (!original) throw new Error('tfjs-core registered no FusedBatchNorm gradient');
  batchNormGradient = original === batchNormGradient ? original : broadcastingBatchNormGradient(original);
  tf.registerGradient(batchNormGradient);
}
