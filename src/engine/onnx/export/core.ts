/**
 * Dense and Rescaling.
 *
 *   Dense      y = activation(x · W + b), W: [in, out], on the last axis of x in TF.js layout
 *              ([N, in] or [N, …, in]: MatMul broadcasts over the leading axes)
 *   Rescaling  y = x · scale + offset (elementwise, any layout)
 */
import { applyActivation } from './activation.js';
import type { LayerContext, TensorValue } from './context.js';

export function denseLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  const kernel = ctx.requireWeight('kernel');
  const [inputs, units] = kernel.shape;
  if (x.shape[x.rank - 1] !== inputs) ctx.fail(`kernel [${kernel.shape.join(', ')}] for an input of shape [${x.shape.join(', ')}]`);
  const activation = (ctx.config.activation as string | undefined) ?? 'linear';
  const bias = ctx.config.useBias === false ? undefined : ctx.weight('bias');
  const linearLast = activation === 'linear';
  // x: [N, …, in] · W: [in, out] → [N, …, out]
  let y = ctx.op('MatMul', [ctx.tf(x), ctx.initializer('kernel', [inputs, units], kernel.values)], {}, { label: 'matmul', final: linearLast && !bias });
  if (bias) y = ctx.op('Add', [y, ctx.initializer('bias', [units], bias.values)], {}, { label: 'bias', final: linearLast });
  return ctx.result(linearLast ? y : applyActivation(ctx, activation, y, 'tf', x.rank, true));
}

export function rescalingLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  const scale = (ctx.config.scale as number | undefined) ?? 1;
  const offset = (ctx.config.offset as number | undefined) ?? 0;
  const scaled = ctx.op('Mul', [x.name, ctx.builder.scalar(scale)], {}, { label: 'scale' });
  return ctx.result(ctx.op('Add', [scaled, ctx.builder.scalar(offset)], {}, { final: true }), x.layout);
}
