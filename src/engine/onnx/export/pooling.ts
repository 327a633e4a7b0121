/**
 * Pooling: MaxPooling1D/2D, AveragePooling1D/2D, GlobalAveragePooling1D/2D, GlobalMaxPooling1D/2D.
 *
 *   MaxPooling2D      y[n, c, i, j] = max over the window; padding never wins (as TF)
 *   AveragePooling2D  y[n, c, i, j] = mean over the window's *valid* pixels: TF excludes 'same'
 *                     padding from the count, which is ONNX's count_include_pad = 0
 *   Global…2D         mean / max over H and W: [N, H, W, C] → [N, C]
 *
 * 2-D pooling reads and writes NCHW values; 1-D pooling transposes [N, L, C] to [N, C, L] and back.
 * Padding as for convolutions (`spatialPadding`): TF 'same' puts the extra one after.
 */
import type { LayerContext, TensorValue } from './context.js';
import { tuple } from './context.js';
import { spatialOf, spatialPadding } from './convolution.js';

type PoolOp = 'MaxPool' | 'AveragePool';

function poolAttributes(ctx: LayerContext, op: PoolOp, x: TensorValue, rank: number): Record<string, number | number[] | string> {
  const kernel = tuple(ctx.config.poolSize, rank, 2);
  const strides = tuple(ctx.config.strides ?? kernel, rank, 1);
  const padding = spatialPadding(ctx, ctx.config.padding, spatialOf(x.shape), kernel, strides, kernel.map(() => 1)) as Record<string, number[] | string>;
  return { kernel_shape: kernel, strides, ...padding, ...(op === 'AveragePool' ? { count_include_pad: 0 } : {}) };
}

function pool2d(ctx: LayerContext, op: PoolOp): TensorValue {
  ctx.requireChannelsLast();
  const x = ctx.input;
  if (x.rank !== 4) ctx.fail(`expected an input of rank 4, got shape [${x.shape.join(', ')}]`);
  // [N, C, H, W] → [N, C, H', W']
  return ctx.result(ctx.op(op, [ctx.nchw(x)], poolAttributes(ctx, op, x, 2), { final: true }), 'nchw');
}

function pool1d(ctx: LayerContext, op: PoolOp): TensorValue {
  const x = ctx.input;
  if (x.rank !== 3) ctx.fail(`expected an input of rank 3, got shape [${x.shape.join(', ')}]`);
  const ncl = ctx.op('Transpose', [x.name], { perm: [0, 2, 1] }, { label: 'to_ncl' }); // [N, C, L]
  const pooled = ctx.op(op, [ncl], poolAttributes(ctx, op, x, 1), { label: op }); // [N, C, L']
  return ctx.result(ctx.op('Transpose', [pooled], { perm: [0, 2, 1] }, { label: 'to_nlc', final: true })); // [N, L', C]
}

export const maxPooling2dLayer = (ctx: LayerContext): TensorValue => pool2d(ctx, 'MaxPool');
export const averagePooling2dLayer = (ctx: LayerContext): TensorValue => pool2d(ctx, 'AveragePool');
export const maxPooling1dLayer = (ctx: LayerContext): TensorValue => pool1d(ctx, 'MaxPool');
export const averagePooling1dLayer = (ctx: LayerContext): TensorValue => pool1d(ctx, 'AveragePool');

/** Global pooling over H, W: GlobalAveragePool / GlobalMaxPool on an NCHW value, else ReduceMean / ReduceMax over axes 1, 2. */
function globalPool2d(ctx: LayerContext, kind: 'average' | 'max'): TensorValue {
  ctx.requireChannelsLast();
  const x = ctx.input;
  if (x.rank !== 4) ctx.fail(`expected an input of rank 4, got shape [${x.shape.join(', ')}]`);
  if (x.names.nchw !== undefined) {
    const pooled = ctx.op(kind === 'average' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.names.nchw], {}, { label: 'pool' }); // [N, C, 1, 1]
    return ctx.result(ctx.op('Flatten', [pooled], { axis: 1 }, { final: true })); // [N, C]
  }
  return ctx.result(ctx.op(kind === 'average' ? 'ReduceMean' : 'ReduceMax', [x.name], { axes: [1, 2], keepdims: 0 }, { final: true }));
}

/** Global pooling over the steps of [N, L, C] → [N, C]. */
function globalPool1d(ctx: LayerContext, kind: 'average' | 'max'): TensorValue {
  const x = ctx.input;
  if (x.rank !== 3) ctx.fail(`expected an input of rank 3, got shape [${x.shape.join(', ')}]`);
  return ctx.result(ctx.op(kind === 'average' ? 'ReduceMean' : 'ReduceMax', [x.name], { axes: [1], keepdims: 0 }, { final: true }));
}

export const globalAveragePooling2dLayer = (ctx: LayerContext): TensorValue => globalPool2d(ctx, 'average');
export const globalMaxPooling2dLayer = (ctx: LayerContext): TensorValue => globalPool2d(ctx, 'max');
export const globalAveragePooling1dLayer = (ctx: LayerContext): TensorValue => globalPool1d(ctx, 'average');
export const globalMaxPooling1dLayer = (ctx: LayerContext): TensorValue => globalPool1d(ctx, 'max');
