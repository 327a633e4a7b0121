/**
 * Layers that move values around: Flatten, Reshape, Permute, RepeatVector (in TF.js layout, so
 * that the element order is TF.js's), and ZeroPadding2D, Cropping2D, UpSampling2D (on NCHW values).
 */
import type { LayerContext, TensorValue } from './context.js';
import { tuple } from './context.js';

/** Flatten: [N, d1, …, dk] in TF.js layout → [N, d1·…·dk] (row-major, as TF.js's batchFlatten). */
export function flattenLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  return ctx.result(ctx.op('Flatten', [ctx.tf(x)], { axis: 1 }, { final: true }));
}

/** Reshape: TF.js layout → [N, ...targetShape] (the batch axis copied: shape entry 0; one unknown: −1). */
export function reshapeLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  const target = ctx.outputShape.slice(1).map((d) => d ?? -1);
  if (target.filter((d) => d === -1).length > 1) ctx.fail(`target shape [${ctx.outputShape.slice(1).join(', ')}] has more than one unknown size`);
  if (target.some((d) => d === 0)) ctx.fail('a target shape with a zero size');
  return ctx.result(ctx.op('Reshape', [ctx.tf(x), ctx.builder.int64s([0, ...target])], {}, { final: true }));
}

/** Permute: Transpose by [0, ...dims] (dims are 1-based TF.js axes) in TF.js layout. */
export function permuteLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  const dims = ctx.config.dims as number[];
  return ctx.result(ctx.op('Transpose', [ctx.tf(x)], { perm: [0, ...dims] }, { final: true }));
}

/** RepeatVector: [N, D] → Unsqueeze → [N, 1, D] → Tile → [N, n, D]. */
export function repeatVectorLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  if (x.rank !== 2) ctx.fail(`expected an input of rank 2, got shape [${x.shape.join(', ')}]`);
  const n = ctx.config.n as number;
  const expanded = ctx.op('Unsqueeze', [x.name, ctx.builder.int64s([1])], {}, { label: 'unsqueeze' });
  return ctx.result(ctx.op('Tile', [expanded, ctx.builder.int64s([1, n, 1])], {}, { final: true }));
}

/** TF.js's [[top, bottom], [left, right]] from a number, [vertical, horizontal] or the pairs. */
function pairs(value: unknown): [[number, number], [number, number]] {
  if (typeof value === 'number') return [[value, value], [value, value]];
  const list = value as (number | number[])[];
  if (typeof list[0] === 'number') return [[list[0], list[0]], [list[1] as number, list[1] as number]];
  return [tuple(list[0], 2, 0) as [number, number], tuple(list[1], 2, 0) as [number, number]];
}

function requireImage(ctx: LayerContext): TensorValue {
  ctx.requireChannelsLast();
  const x = ctx.input;
  if (x.rank !== 4) ctx.fail(`expected an input of rank 4, got shape [${x.shape.join(', ')}]`);
  return x;
}

/** ZeroPadding2D: Pad [N, C, H, W] with zeros: pads [0, 0, top, left, 0, 0, bottom, right]. */
export function zeroPadding2dLayer(ctx: LayerContext): TensorValue {
  const x = requireImage(ctx);
  const [[top, bottom], [left, right]] = pairs(ctx.config.padding ?? 1);
  const pads = ctx.builder.int64s([0, 0, top, left, 0, 0, bottom, right]);
  return ctx.result(ctx.op('Pad', [ctx.nchw(x), pads], { mode: 'constant' }, { final: true }), 'nchw');
}

/** Cropping2D: Slice [N, C, H, W] to rows top … H − bottom and columns left … W − right. */
export function cropping2dLayer(ctx: LayerContext): TensorValue {
  const x = requireImage(ctx);
  const [[top, bottom], [left, right]] = pairs(ctx.config.cropping);
  const end = (size: number | null, crop: number): number => (size !== null ? size - crop : crop === 0 ? Number.MAX_SAFE_INTEGER : -crop);
  const starts = ctx.builder.int64s([top, left]);
  const ends = ctx.builder.int64s([end(x.shape[1], bottom), end(x.shape[2], right)]);
  return ctx.result(ctx.op('Slice', [ctx.nchw(x), starts, ends, ctx.builder.int64s([2, 3])], {}, { final: true }), 'nchw');
}

/**
 * UpSampling2D: Resize [N, C, H, W] by integer scales. TF.js resizes without aligned corners or
 * half-pixel centres: source = destination / scale ('asymmetric'); nearest takes the floor.
 */
export function upSampling2dLayer(ctx: LayerContext): TensorValue {
  const x = requireImage(ctx);
  const [sh, sw] = tuple(ctx.config.size, 2, 2);
  const interpolation = (ctx.config.interpolation as string | undefined) ?? 'nearest';
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') ctx.fail(`interpolation '${interpolation}'`);
  const scales = ctx.builder.constant('float32', [4], [1, 1, sh, sw]);
  const attributes =
    interpolation === 'nearest'
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : { mode: 'linear', coordinate_transformation_mode: 'asymmetric' };
  return ctx.result(ctx.op('Resize', [ctx.nchw(x), '', scales], attributes, { final: true }), 'nchw');
}
