/**
 * Normalization layers, inference form.
 *
 *   BatchNormalization  y = (x − moving_mean) / √(moving_variance + ε) · γ + β   along `axis`
 *                       (γ = 1 without `scale`, β = 0 without `center`). On the channel axis of an
 *                       NCHW value (axis 1) it is ONNX's BatchNormalization, which ONNX Runtime
 *                       folds into the Conv before it; elsewhere Sub · Mul + Add with broadcast
 *                       constants, the factor γ / √(var + ε) computed in float64. Only the last
 *                       TF.js axis (the channels; −1 or rank − 1) is exported: on any other axis
 *                       TF.js's cpu/wasm kernels misapply the statistics (see below).
 *   LayerNormalization  y = (x − mean) / √(var + ε) · γ + β with mean and (biased) var over
 *                       `axis` of each example, as TF.js's `moments`.
 */
import { float } from '../graph.js';
import type { Layout, LayerContext, TensorValue } from './context.js';

/** A per-channel vector as a constant that broadcasts along `axis` of a rank-`rank` value: [1, …, C, …, 1]. */
function broadcastConstant(ctx: LayerContext, label: string, values: ArrayLike<number>, axis: number, rank: number): string {
  const dims = Array.from({ length: rank }, (_, k) => (k === axis ? values.length : 1));
  return ctx.initializer(label, dims, values);
}

export function batchNormalizationLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  const tfAxis = ctx.config.axis as number | number[] | undefined;
  if (Array.isArray(tfAxis)) ctx.fail(`axis [${tfAxis.join(', ')}] (one axis expected)`);
  const epsilon = (ctx.config.epsilon as number | undefined) ?? 1e-3;
  const mean = ctx.requireWeight('moving_mean').values;
  const variance = ctx.requireWeight('moving_variance').values;
  const channels = mean.length;
  const gamma = (ctx.config.scale === false ? undefined : ctx.weight('gamma')?.values) ?? new Float32Array(channels).fill(1);
  const beta = (ctx.config.center === false ? undefined : ctx.weight('beta')?.values) ?? new Float32Array(channels);
  for (const [name, v] of [['variance', variance], ['gamma', gamma], ['beta', beta]] as const) {
    if (v.length !== channels) ctx.fail(`${name} has ${v.length} values, moving_mean ${channels}`);
  }
  const axis = ctx.axis(tfAxis ?? -1, x.rank, x.layout); // checks the range
  if (((tfAxis ?? -1) + x.rank) % x.rank !== x.rank - 1) {
    // TF.js reshapes the statistics to [1, …, C, …, 1], but the cpu and wasm batchNorm kernels
    // index them cyclically along the last axis: what TF.js computes depends on the backend.
    ctx.fail(`axis ${tfAxis} is not the last axis (TF.js's cpu and wasm kernels do not broadcast such statistics correctly)`);
  }
  const size = x.shape[((tfAxis ?? -1) + x.rank) % x.rank];
  if (size !== channels) ctx.fail(`${channels} statistics for an axis of size ${size}`);

  if (axis === 1 && x.rank >= 3) {
    // x: [N, C, ...]; every parameter [C]
    const y = ctx.op(
      'BatchNormalization',
      [x.name, ctx.initializer('gamma', [channels], gamma), ctx.initializer('beta', [channels], beta), ctx.initializer('moving_mean', [channels], mean), ctx.initializer('moving_variance', [channels], variance)],
      { epsilon: float(epsilon) },
      { final: true },
    );
    return ctx.result(y, x.layout);
  }
  const factor = Float32Array.from(gamma, (g, c) => g / Math.sqrt(variance[c] + epsilon));
  const centered = ctx.op('Sub', [x.name, broadcastConstant(ctx, 'moving_mean', mean, axis, x.rank)], {}, { label: 'center' });
  const scaled = ctx.op('Mul', [centered, broadcastConstant(ctx, 'factor', factor, axis, x.rank)], {}, { label: 'scale' });
  return ctx.result(ctx.op('Add', [scaled, broadcastConstant(ctx, 'beta', beta, axis, x.rank)], {}, { final: true }), x.layout);
}

export function layerNormalizationLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  const configured = ctx.config.axis as number | number[] | undefined;
  const tfAxes = (Array.isArray(configured) ? configured : [configured ?? -1]).map((a) => (a < 0 ? a + x.rank : a));
  if (tfAxes.some((a, k) => a < 1 || a >= x.rank || (k > 0 && a <= tfAxes[k - 1]))) ctx.fail(`axis [${tfAxes.join(', ')}] (distinct non-batch axes, ascending, expected)`);
  const epsilon = (ctx.config.epsilon as number | undefined) ?? 1e-3;
  // Channel-only normalization keeps an NCHW value as it is; other axes work in TF.js layout.
  const layout: Layout = x.layout === 'nchw' && tfAxes.length === 1 && tfAxes[0] === 3 ? 'nchw' : 'tf';
  const input = ctx.in(x, layout);
  const axes = tfAxes.map((a) => ctx.axis(a, x.rank, layout));
  const paramSize = tfAxes.reduce((size, a) => size * (x.shape[a] ?? ctx.fail(`axis ${a} has an unknown size`)), 1);
  const gamma = ctx.config.scale === false ? undefined : ctx.weight('gamma')?.values;
  const beta = ctx.config.center === false ? undefined : ctx.weight('beta')?.values;
  // Parameters broadcast as [1, …, d_a, …, 1] (the layer's axes kept, in ascending order).
  const paramDims = Array.from({ length: x.rank }, (_, k) => {
    const tf = tfAxes.find((a) => ctx.axis(a, x.rank, layout) === k);
    return tf === undefined ? 1 : (x.shape[tf] as number);
  });

  const mean = ctx.op('ReduceMean', [input], { axes, keepdims: 1 }, { label: 'mean' });
  const centered = ctx.op('Sub', [input, mean], {}, { label: 'center' });
  const variance = ctx.op('ReduceMean', [ctx.op('Mul', [centered, centered], {}, { label: 'square' })], { axes, keepdims: 1 }, { label: 'variance' });
  const std = ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.builder.scalar(epsilon)], {}, { label: 'add_epsilon' })], {}, { label: 'std' });
  let y = ctx.op('Div', [centered, std], {}, { label: 'normalize', final: !gamma && !beta });
  if (gamma) {
    if (gamma.length !== paramSize) ctx.fail(`gamma has ${gamma.length} values for ${paramSize}`);
    y = ctx.op('Mul', [y, ctx.initializer('gamma', paramDims, gamma)], {}, { label: 'scale', final: !beta });
  }
  if (beta) {
    if (beta.length !== paramSize) ctx.fail(`beta has ${beta.length} values for ${paramSize}`);
    y = ctx.op('Add', [y, ctx.initializer('beta', paramDims, beta)], {}, { label: 'shift', final: true });
  }
  return ctx.result(y, layout);
}
