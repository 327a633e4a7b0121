/**
 * Merge layers: Add, Multiply, Average, Maximum, Minimum, Concatenate. Their inputs are brought
 * to one layout (NCHW when any rank-4 input was made in NCHW, so a residual add after a conv adds
 * no transposes); elementwise ops broadcast as numpy (same rank required); Concatenate's TF.js
 * axis (default −1, the channels) becomes axis 1 of NCHW values.
 */
import type { Layout, LayerContext, TensorValue } from './context.js';

function common(ctx: LayerContext): { names: string[]; layout: Layout; rank: number } {
  const { inputs } = ctx;
  if (inputs.length < 1) ctx.fail('no inputs');
  const rank = inputs[0].rank;
  if (inputs.some((v) => v.rank !== rank)) ctx.fail(`inputs of different ranks (${inputs.map((v) => v.rank).join(', ')})`);
  const layout: Layout = rank === 4 && inputs.some((v) => v.layout === 'nchw') ? 'nchw' : 'tf';
  return { names: inputs.map((v) => ctx.in(v, layout)), layout, rank };
}

/** Folds the inputs left to right with a binary op, as TF.js does: ((x0 ∘ x1) ∘ x2) ∘ … */
function fold(ctx: LayerContext, op: 'Add' | 'Mul', names: readonly string[], finalLast: boolean): string {
  if (names.length === 1) return ctx.op('Identity', [names[0]], {}, { final: finalLast });
  let y = names[0];
  for (let k = 1; k < names.length; k++) y = ctx.op(op, [y, names[k]], {}, { label: op, final: finalLast && k === names.length - 1 });
  return y;
}

export function addLayer(ctx: LayerContext): TensorValue {
  const { names, layout } = common(ctx);
  return ctx.result(fold(ctx, 'Add', names, true), layout);
}

export function multiplyLayer(ctx: LayerContext): TensorValue {
  const { names, layout } = common(ctx);
  return ctx.result(fold(ctx, 'Mul', names, true), layout);
}

/** Average: (x0 + x1 + …) · (1 / n). */
export function averageLayer(ctx: LayerContext): TensorValue {
  const { names, layout } = common(ctx);
  const sum = fold(ctx, 'Add', names, false);
  return ctx.result(ctx.op('Mul', [sum, ctx.builder.scalar(1 / names.length)], {}, { final: true }), layout);
}

export function maximumLayer(ctx: LayerContext): TensorValue {
  const { names, layout } = common(ctx);
  return ctx.result(ctx.op('Max', names, {}, { final: true }), layout);
}

export function minimumLayer(ctx: LayerContext): TensorValue {
  const { names, layout } = common(ctx);
  return ctx.result(ctx.op('Min', names, {}, { final: true }), layout);
}

export function concatenateLayer(ctx: LayerContext): TensorValue {
  const { names, layout, rank } = common(ctx);
  const axis = ctx.axis((ctx.config.axis as number | undefined) ?? -1, rank, layout);
  return ctx.result(ctx.op('Concat', names, { axis }, { final: true }), layout);
}
