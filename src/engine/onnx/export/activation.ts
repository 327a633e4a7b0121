/**
 * Activations: TF.js's named activation functions (the `activation` of Conv2D, Dense, Activation,
 * …) and the advanced-activation layers. All are elementwise, so they keep the layout of their
 * input, except softmax / logSoftmax, which normalise along one axis (TF.js's last axis by
 * default = the channel axis, axis 1 of an NCHW value).
 */
import type { Layout, LayerContext, TensorValue } from './context.js';
import { permuteData } from './context.js';
import { float } from '../graph.js';

/** TF.js's selu constants (tfjs-core `selu_util`): selu(x) = x > 0 ? scale·x : scaleAlpha·(eᕽ − 1). */
const SELU_SCALE = 1.0507009873554804934193349852946;
const SELU_SCALE_ALPHA = 1.7580993408473768599402175208123;

/** The activation names TF.js serializes (`activation.getClassName()`), all exportable. */
export const ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'hardSigmoid',
  'tanh',
  'softmax',
  'logSoftmax',
  'softplus',
  'softsign',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
] as const;

/**
 * Applies TF.js activation `name` to `xName` (an ONNX value of rank `rank` in `layout`); returns
 * the result's name. With `final` the last node is named after the layer; a linear activation
 * adds an Identity then (every layer gets its own value).
 */
export function applyActivation(ctx: LayerContext, name: string | undefined, xName: string, layout: Layout, rank: number, final: boolean): string {
  const o = { final };
  const act = name ?? 'linear';
  switch (act) {
    case 'linear':
      return final ? ctx.op('Identity', [xName], {}, o) : xName;
    case 'relu':
      return ctx.op('Relu', [xName], {}, o);
    /** relu6(x) = min(max(x, 0), 6) */
    case 'relu6':
      return ctx.op('Clip', [xName, ctx.builder.scalar(0), ctx.builder.scalar(6)], {}, o);
    /** elu(x) = x > 0 ? x : eᕽ − 1 (TF.js's activation has α = 1) */
    case 'elu':
      return ctx.op('Elu', [xName], { alpha: float(1) }, o);
    /** ONNX Selu: γ·(x > 0 ? x : α·(eᕽ − 1)) with γ = scale, α = scaleAlpha / scale */
    case 'selu':
      return ctx.op('Selu', [xName], { alpha: float(SELU_SCALE_ALPHA / SELU_SCALE), gamma: float(SELU_SCALE) }, o);
    case 'sigmoid':
      return ctx.op('Sigmoid', [xName], {}, o);
    /** hardSigmoid(x) = clip(0.2·x + 0.5, 0, 1) (TF.js `K.hardSigmoid`; ONNX's defaults) */
    case 'hardSigmoid':
      return ctx.op('HardSigmoid', [xName], { alpha: float(0.2), beta: float(0.5) }, o);
    case 'tanh':
      return ctx.op('Tanh', [xName], {}, o);
    /** softmax along TF.js's last axis */
    case 'softmax':
      return ctx.op('Softmax', [xName], { axis: ctx.axis(-1, rank, layout) }, o);
    case 'logSoftmax':
      return ctx.op('LogSoftmax', [xName], { axis: ctx.axis(-1, rank, layout) }, o);
    /** softplus(x) = log(1 + eᕽ) */
    case 'softplus':
      return ctx.op('Softplus', [xName], {}, o);
    /** softsign(x) = x / (1 + |x|) */
    case 'softsign':
      return ctx.op('Softsign', [xName], {}, o);
    /** swish(x) = x · sigmoid(x) (TF.js's α = 1) */
    case 'swish': {
      const sigmoid = ctx.op('Sigmoid', [xName], {}, { label: 'swish/sigmoid' });
      return ctx.op('Mul', [sigmoid, xName], {}, { ...o, label: 'swish/mul' });
    }
    /** mish(x) = x · tanh(softplus(x)) (ONNX's Mish needs opset 18) */
    case 'mish': {
      const softplus = ctx.op('Softplus', [xName], {}, { label: 'mish/softplus' });
      const tanh = ctx.op('Tanh', [softplus], {}, { label: 'mish/tanh' });
      return ctx.op('Mul', [xName, tanh], {}, { ...o, label: 'mish/mul' });
    }
    /** gelu(x) = x · ½(1 + erf(x / √2)) (exact; ONNX's Gelu needs opset 20) */
    case 'gelu': {
      const scaled = ctx.op('Div', [xName, ctx.builder.scalar(Math.SQRT2)], {}, { label: 'gelu/div' });
      const erf = ctx.op('Erf', [scaled], {}, { label: 'gelu/erf' });
      const onePlus = ctx.op('Add', [ctx.builder.scalar(1), erf], {}, { label: 'gelu/add' });
      const cdf = ctx.op('Mul', [ctx.builder.scalar(0.5), onePlus], {}, { label: 'gelu/cdf' });
      return ctx.op('Mul', [xName, cdf], {}, { ...o, label: 'gelu/mul' });
    }
    /** gelu_new(x) = ½ · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))) */
    case 'gelu_new': {
      const cube = ctx.op('Mul', [ctx.op('Mul', [xName, xName], {}, { label: 'gelu/square' }), xName], {}, { label: 'gelu/cube' });
      const inner = ctx.op('Add', [xName, ctx.op('Mul', [ctx.builder.scalar(0.044715), cube], {}, { label: 'gelu/cubic' })], {}, { label: 'gelu/inner' });
      const tanh = ctx.op('Tanh', [ctx.op('Mul', [ctx.builder.scalar(Math.sqrt(2 / Math.PI)), inner], {}, { label: 'gelu/scaled' })], {}, { label: 'gelu/tanh' });
      const onePlus = ctx.op('Add', [ctx.builder.scalar(1), tanh], {}, { label: 'gelu/add' });
      return ctx.op('Mul', [ctx.builder.scalar(0.5), ctx.op('Mul', [xName, onePlus], {}, { label: 'gelu/mul' })], {}, { ...o, label: 'gelu/half' });
    }
    default:
      return ctx.fail(`activation '${act}' is not supported`);
  }
}

/** Activation layer: the named activation, in the input's layout. */
export function activationLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  return ctx.result(applyActivation(ctx, ctx.config.activation as string | undefined, x.name, x.layout, x.rank, true), x.layout);
}

/** ReLU layer: max(x, 0), clipped at maxValue when it has one. */
export function reluLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  const maxValue = ctx.config.maxValue as number | null | undefined;
  const y =
    maxValue === undefined || maxValue === null
      ? ctx.op('Relu', [x.name], {}, { final: true })
      : ctx.op('Clip', [x.name, ctx.builder.scalar(0), ctx.builder.scalar(maxValue)], {}, { final: true });
  return ctx.result(y, x.layout);
}

/** LeakyReLU layer: x ≥ 0 ? x : α·x (TF.js default α = 0.3). */
export function leakyReluLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  const alpha = (ctx.config.alpha as number | undefined) ?? 0.3;
  return ctx.result(ctx.op('LeakyRelu', [x.name], { alpha: float(alpha) }, { final: true }), x.layout);
}

/** ELU layer: x > 0 ? x : α·(eᕽ − 1). */
export function eluLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  const alpha = (ctx.config.alpha as number | undefined) ?? 1;
  return ctx.result(ctx.op('Elu', [x.name], { alpha: float(alpha) }, { final: true }), x.layout);
}

/** ThresholdedReLU layer: x > θ ? x : 0. */
export function thresholdedReluLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  const theta = (ctx.config.theta as number | undefined) ?? 1;
  return ctx.result(ctx.op('ThresholdedRelu', [x.name], { alpha: float(theta) }, { final: true }), x.layout);
}

/**
 * PReLU layer: x < 0 ? α·x : x with a learned α of shape input[1:] (1 along `sharedAxes`),
 * broadcast over the batch; for an NCHW value α [H, W, C] is permuted to [C, H, W].
 */
export function preluLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  const alpha = ctx.requireWeight('alpha');
  if (alpha.shape.length !== x.rank - 1) ctx.fail(`alpha of shape [${alpha.shape.join(', ')}] for an input of rank ${x.rank}`);
  const slope =
    x.layout === 'nchw'
      ? ctx.initializer('alpha', [alpha.shape[2], alpha.shape[0], alpha.shape[1]], permuteData(alpha.values, alpha.shape, [2, 0, 1]))
      : ctx.initializer('alpha', alpha.shape, alpha.values);
  return ctx.result(ctx.op('PRelu', [x.name, slope], {}, { final: true }), x.layout);
}

/** Softmax layer: softmax along `axis` (TF.js's Softmax *layer* defaults to axis 1, not −1). */
export function softmaxLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  let axis = ctx.config.axis as number | number[] | undefined;
  if (Array.isArray(axis)) {
    if (axis.length !== 1) ctx.fail(`softmax over several axes [${axis.join(', ')}]`);
    axis = axis[0];
  }
  return ctx.result(ctx.op('Softmax', [x.name], { axis: ctx.axis(axis ?? 1, x.rank, x.layout) }, { final: true }), x.layout);
}

/** Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout, AlphaDropout: the identity at inference. */
export function identityLayer(ctx: LayerContext): TensorValue {
  const x = ctx.input;
  return ctx.result(ctx.op('Identity', [x.name], {}, { final: true }), x.layout);
}
