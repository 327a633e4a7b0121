/**
 * The layers the CIFAR ResNet and the plain CNN share (the plain CNN is the ResNet's conv unit
 * without shortcuts): He-normal convs with bias, Keras-default batch norm, ReLU, and the
 * global-average-pool + softmax head, each seeded from the model seed and the layer's name.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLayer } from './buildOptions.js';
import { kerasHeNormal, layerSeed } from './layerInit.js';

/** A family member by depth and width multiplier. */
export interface DepthWidthShape {
  readonly depth: number;
  readonly widthMultiplier: number;
}

/** Keras BatchNormalization defaults, which the reference keeps. */
const BN_MOMENTUM = 0.99;
const BN_EPSILON = 1e-3;

/** Three stages: 16·k, 32·k and 64·k channels, the second and third entered with stride 2. */
export const STAGES = 3;

export type LayerFn = (x: tfl.SymbolicTensor, name: string) => tfl.SymbolicTensor;

export interface CifarLayers {
  conv(x: tfl.SymbolicTensor, name: string, filters: number, kernelSize: number, strides: number): tfl.SymbolicTensor;
  readonly batchNorm: LayerFn;
  readonly relu: LayerFn;
  /** Global average pooling ('pool') and a softmax dense layer ('classifier'). */
  head(x: tfl.SymbolicTensor, numClasses: number): tfl.SymbolicTensor;
}

export function cifarLayers(seed: number, modelName: string): CifarLayers {
  return {
    conv: (x, name, filters, kernelSize, strides) =>
      applyLayer(
        tfl.layers.conv2d({ name, filters, kernelSize, strides, padding: 'same', useBias: true, kernelInitializer: kerasHeNormal(layerSeed(seed, modelName, name)) }),
        x,
      ),
    batchNorm: (x, name) => applyLayer(tfl.layers.batchNormalization({ name, axis: -1, momentum: BN_MOMENTUM, epsilon: BN_EPSILON }), x),
    relu: (x, name) => applyLayer(tfl.layers.activation({ name, activation: 'relu' }), x),
    head: (x, numClasses) => {
      const pooled = applyLayer(tfl.layers.globalAveragePooling2d({ name: 'pool' }), x);
      return applyLayer(
        tfl.layers.dense({ name: 'classifier', units: numClasses, activation: 'softmax', kernelInitializer: kerasHeNormal(layerSeed(seed, modelName, 'classifier')) }),
        pooled,
      );
    },
  };
}
