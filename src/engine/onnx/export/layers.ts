/** Which converter exports which TF.js layer class (`layer.getClassName()`). */
import {
  activationLayer,
  eluLayer,
  identityLayer,
  leakyReluLayer,
  preluLayer,
  reluLayer,
  softmaxLayer,
  thresholdedReluLayer,
} from './activation.js';
import type { LayerContext, TensorValue } from './context.js';
import { conv1dLayer, conv2dLayer, depthwiseConv2dLayer, separableConv2dLayer } from './convolution.js';
import { denseLayer, rescalingLayer } from './core.js';
import { addLayer, averageLayer, concatenateLayer, maximumLayer, minimumLayer, multiplyLayer } from './merge.js';
import { batchNormalizationLayer, layerNormalizationLayer } from './normalization.js';
import {
  averagePooling1dLayer,
  averagePooling2dLayer,
  globalAveragePooling1dLayer,
  globalAveragePooling2dLayer,
  globalMaxPooling1dLayer,
  globalMaxPooling2dLayer,
  maxPooling1dLayer,
  maxPooling2dLayer,
} from './pooling.js';
import { cropping2dLayer, flattenLayer, permuteLayer, repeatVectorLayer, reshapeLayer, upSampling2dLayer, zeroPadding2dLayer } from './shape.js';

/** Adds the nodes of one layer; returns its output value. Throws UnsupportedLayerError (`ctx.fail`) for a use it cannot express. */
export type LayerConverter = (ctx: LayerContext) => TensorValue;

export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  // convolution.ts
  Conv1D: conv1dLayer,
  Conv2D: conv2dLayer,
  DepthwiseConv2D: depthwiseConv2dLayer,
  SeparableConv2D: separableConv2dLayer,
  // normalization.ts
  BatchNormalization: batchNormalizationLayer,
  LayerNormalization: layerNormalizationLayer,
  // core.ts
  Dense: denseLayer,
  Rescaling: rescalingLayer,
  // activation.ts
  Activation: activationLayer,
  ReLU: reluLayer,
  LeakyReLU: leakyReluLayer,
  ELU: eluLayer,
  PReLU: preluLayer,
  ThresholdedReLU: thresholdedReluLayer,
  Softmax: softmaxLayer,
  Dropout: identityLayer,
  SpatialDropout1D: identityLayer,
  GaussianNoise: identityLayer,
  GaussianDropout: identityLayer,
  AlphaDropout: identityLayer,
  // merge.ts
  Add: addLayer,
  Multiply: multiplyLayer,
  Average: averageLayer,
  Maximum: maximumLayer,
  Minimum: minimumLayer,
  Concatenate: concatenateLayer,
  // pooling.ts
  MaxPooling1D: maxPooling1dLayer,
  MaxPooling2D: maxPooling2dLayer,
  AveragePooling1D: averagePooling1dLayer,
  AveragePooling2D: averagePooling2dLayer,
  GlobalAveragePooling1D: globalAveragePooling1dLayer,
  GlobalAveragePooling2D: globalAveragePooling2dLayer,
  GlobalMaxPooling1D: globalMaxPooling1dLayer,
  GlobalMaxPooling2D: globalMaxPooling2dLayer,
  // shape.ts
  Flatten: flattenLayer,
  Reshape: reshapeLayer,
  Permute: permuteLayer,
  RepeatVector: repeatVectorLayer,
  ZeroPadding2D: zeroPadding2dLayer,
  Cropping2D: cropping2dLayer,
  UpSampling2D: upSampling2dLayer,
};

/** The TF.js layer classes the exporter handles (InputLayer besides). */
export const SUPPORTED_LAYER_CLASSES: readonly string[] = ['InputLayer', ...Object.keys(LAYER_CONVERTERS)];
