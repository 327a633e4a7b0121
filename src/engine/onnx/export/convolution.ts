/**
 * Convolutions: Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D. ONNX's Conv is channels-first,
 * so 2-D convolutions read and write NCHW values (the graph stays NCHW between them); Conv1D
 * transposes its [N, L, C] input to [N, C, L] and back.
 *
 *   Conv2D          y[n, o, i, j] = b[o] + Σ_{c, p, q} x[n, c, s·i + d·p − pad, s·j + d·q − pad] · W[o, c, p, q]
 *                   W = TF.js kernel [kh, kw, in, out] permuted to [out, in, kh, kw]
 *   DepthwiseConv2D group = C: output channel c·M + m sees input channel c only;
 *                   W = TF.js depthwise kernel [kh, kw, C, M] permuted to [C, M, kh, kw] = [C·M, 1, kh, kw]
 *   SeparableConv2D depthwise (strides, dilation, padding; no bias) then pointwise 1×1 with the bias
 *
 * Padding: 'valid' adds none; TF 'same' pads total = max(0, (⌈in/s⌉ − 1)·s + (k − 1)·d + 1 − in),
 * ⌊total/2⌋ before and the rest (the extra one) after: ONNX's SAME_UPPER, written as explicit pads
 * when the spatial size is known.
 */
import type { AttributeValue } from '../graph.js';
import { applyActivation } from './activation.js';
import type { LayerContext, Shape, TensorValue } from './context.js';
import { permuteData, tuple } from './context.js';

/** ONNX `pads` (all begins, then all ends) or `auto_pad` for TF.js padding over `spatial` input sizes. */
export function spatialPadding(
  ctx: LayerContext,
  padding: unknown,
  spatial: readonly (number | null)[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
): Record<string, AttributeValue> {
  const rank = spatial.length;
  if (padding === undefined || padding === null || padding === 'valid') return { pads: new Array<number>(2 * rank).fill(0) };
  if (padding !== 'same') ctx.fail(`padding '${String(padding)}' (only 'valid' and 'same' are supported)`);
  if (spatial.some((size) => size === null)) return { auto_pad: 'SAME_UPPER' };
  const begins: number[] = [];
  const ends: number[] = [];
  spatial.forEach((size, k) => {
    const inSize = size as number;
    const outSize = Math.ceil(inSize / strides[k]);
    const total = Math.max(0, (outSize - 1) * strides[k] + (kernel[k] - 1) * dilations[k] + 1 - inSize);
    begins.push(Math.floor(total / 2));
    ends.push(total - Math.floor(total / 2));
  });
  return { pads: [...begins, ...ends] };
}

/** The spatial sizes of a channels-last TF.js shape [N, ...spatial, C]. */
export function spatialOf(shape: Shape): (number | null)[] {
  return shape.slice(1, -1);
}

interface ConvSpec {
  /** Input, channels first: [N, C, ...spatial]. */
  readonly x: string;
  readonly spatial: readonly (number | null)[];
  /** Weight, ONNX layout [out, in / group, ...kernel]. */
  readonly weight: string;
  readonly bias?: string;
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly padding: unknown;
  readonly group: number;
  readonly label: string;
  readonly final: boolean;
}

function conv(ctx: LayerContext, spec: ConvSpec): string {
  const inputs = spec.bias ? [spec.x, spec.weight, spec.bias] : [spec.x, spec.weight];
  return ctx.op(
    'Conv',
    inputs,
    {
      kernel_shape: [...spec.kernel],
      strides: [...spec.strides],
      dilations: [...spec.dilations],
      group: spec.group,
      ...spatialPadding(ctx, spec.padding, spec.spatial, spec.kernel, spec.strides, spec.dilations),
    },
    { label: spec.label, final: spec.final },
  );
}

function activationName(ctx: LayerContext): string {
  return (ctx.config.activation as string | undefined) ?? 'linear';
}

function biasOf(ctx: LayerContext, channels: number): string | undefined {
  if (ctx.config.useBias === false) return undefined;
  const bias = ctx.weight('bias');
  if (!bias) return undefined;
  if (bias.values.length !== channels) ctx.fail(`bias of ${bias.values.length} values for ${channels} channels`);
  return ctx.initializer('bias', [channels], bias.values);
}

function requireRank(ctx: LayerContext, x: TensorValue, rank: number): void {
  if (x.rank !== rank) ctx.fail(`expected an input of rank ${rank}, got shape [${x.shape.join(', ')}]`);
}

/** Conv2D: kernel [kh, kw, in, out] → ONNX [out, in, kh, kw]; bias [out]; then the activation. NCHW out. */
export function conv2dLayer(ctx: LayerContext): TensorValue {
  ctx.requireChannelsLast();
  const x = ctx.input;
  requireRank(ctx, x, 4);
  const kernel = ctx.requireWeight('kernel');
  const [kh, kw, cin, cout] = kernel.shape;
  const weight = ctx.initializer('kernel', [cout, cin, kh, kw], permuteData(kernel.values, kernel.shape, [3, 2, 0, 1]));
  const activation = activationName(ctx);
  const y = conv(ctx, {
    x: ctx.nchw(x), // x: [N, C, H, W]
    spatial: spatialOf(x.shape),
    weight,
    bias: biasOf(ctx, cout),
    kernel: [kh, kw],
    strides: tuple(ctx.config.strides, 2, 1),
    dilations: tuple(ctx.config.dilationRate, 2, 1),
    padding: ctx.config.padding,
    group: 1,
    label: 'conv',
    final: activation === 'linear',
  }); // y: [N, out, H', W']
  return ctx.result(activation === 'linear' ? y : applyActivation(ctx, activation, y, 'nchw', 4, true), 'nchw');
}

/**
 * DepthwiseConv2D: kernel [kh, kw, C, M] → ONNX [C·M, 1, kh, kw], group C; bias [C·M]. TF.js's
 * layer ignores `dilationRate` (it passes none to tfjs-core), so the export uses dilation 1 too.
 */
export function depthwiseConv2dLayer(ctx: LayerContext): TensorValue {
  ctx.requireChannelsLast();
  const x = ctx.input;
  requireRank(ctx, x, 4);
  const kernel = ctx.requireWeight('depthwise_kernel');
  const [kh, kw, channels, multiplier] = kernel.shape;
  const weight = ctx.initializer('depthwise_kernel', [channels * multiplier, 1, kh, kw], permuteData(kernel.values, kernel.shape, [2, 3, 0, 1]));
  const activation = activationName(ctx);
  const y = conv(ctx, {
    x: ctx.nchw(x),
    spatial: spatialOf(x.shape),
    weight,
    bias: biasOf(ctx, channels * multiplier),
    kernel: [kh, kw],
    strides: tuple(ctx.config.strides, 2, 1),
    dilations: [1, 1],
    padding: ctx.config.padding,
    group: channels,
    label: 'depthwise',
    final: activation === 'linear',
  }); // y: [N, C·M, H', W']
  return ctx.result(activation === 'linear' ? y : applyActivation(ctx, activation, y, 'nchw', 4, true), 'nchw');
}

/**
 * SeparableConv2D: depthwise [kh, kw, C, M] (strides, dilation, padding) then pointwise
 * [1, 1, C·M, F] → ONNX [F, C·M, 1, 1] with bias [F]; then the activation.
 */
export function separableConv2dLayer(ctx: LayerContext): TensorValue {
  ctx.requireChannelsLast();
  const x = ctx.input;
  requireRank(ctx, x, 4);
  const depthwise = ctx.requireWeight('depthwise_kernel');
  const pointwise = ctx.requireWeight('pointwise_kernel');
  const [kh, kw, channels, multiplier] = depthwise.shape;
  const filters = pointwise.shape[3];
  const depthwiseWeight = ctx.initializer('depthwise_kernel', [channels * multiplier, 1, kh, kw], permuteData(depthwise.values, depthwise.shape, [2, 3, 0, 1]));
  const pointwiseWeight = ctx.initializer('pointwise_kernel', [filters, channels * multiplier, 1, 1], permuteData(pointwise.values, pointwise.shape, [3, 2, 0, 1]));
  const activation = activationName(ctx);
  const spatial = spatialOf(x.shape);
  const inner = conv(ctx, {
    x: ctx.nchw(x),
    spatial,
    weight: depthwiseWeight,
    kernel: [kh, kw],
    strides: tuple(ctx.config.strides, 2, 1),
    dilations: tuple(ctx.config.dilationRate, 2, 1),
    padding: ctx.config.padding,
    group: channels,
    label: 'depthwise',
    final: false,
  }); // inner: [N, C·M, H', W']
  const y = conv(ctx, {
    x: inner,
    spatial: spatialOf(ctx.outputShape),
    weight: pointwiseWeight,
    bias: biasOf(ctx, filters),
    kernel: [1, 1],
    strides: [1, 1],
    dilations: [1, 1],
    padding: 'valid',
    group: 1,
    label: 'pointwise',
    final: activation === 'linear',
  }); // y: [N, F, H', W']
  return ctx.result(activation === 'linear' ? y : applyActivation(ctx, activation, y, 'nchw', 4, true), 'nchw');
}

/** Conv1D: [N, L, C] → Transpose → Conv (kernel [k, in, out] → [out, in, k]) → Transpose → [N, L', F]. */
export function conv1dLayer(ctx: LayerContext): TensorValue {
  ctx.requireChannelsLast();
  const x = ctx.input;
  requireRank(ctx, x, 3);
  const kernel = ctx.requireWeight('kernel');
  const [k, cin, cout] = kernel.shape;
  const weight = ctx.initializer('kernel', [cout, cin, k], permuteData(kernel.values, kernel.shape, [2, 1, 0]));
  const xNcl = ctx.op('Transpose', [x.name], { perm: [0, 2, 1] }, { label: 'to_ncl' }); // [N, C, L]
  const y = conv(ctx, {
    x: xNcl,
    spatial: spatialOf(x.shape),
    weight,
    bias: biasOf(ctx, cout),
    kernel: [k],
    strides: tuple(ctx.config.strides, 1, 1),
    dilations: tuple(ctx.config.dilationRate, 1, 1),
    padding: ctx.config.padding,
    group: 1,
    label: 'conv',
    final: false,
  }); // y: [N, F, L']
  const activation = activationName(ctx);
  const yNlc = ctx.op('Transpose', [y], { perm: [0, 2, 1] }, { label: 'to_nlc', final: activation === 'linear' }); // [N, L', F]
  return ctx.result(activation === 'linear' ? yNlc : applyActivation(ctx, activation, yNlc, 'tf', 3, true));
}
