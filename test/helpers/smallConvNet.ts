import * as tfl from '@tensorflow/tfjs-layers';

/** Side of the square single-channel images the small net takes. */
export const SMALL_NET_SIZE = 8;

/**
 * A small seeded conv net with batch norm for training tests (the same seed gives the same
 * initial weights): conv → BN → ReLU → strided conv → ReLU → pool → dense(3, softmax).
 */
export function smallConvNet(seed: number, options: { readonly conv1Bias?: boolean; readonly batchNormMomentum?: number } = {}): tfl.LayersModel {
  const init = (k: number) => tfl.initializers.heNormal({ seed: seed * 100 + k });
  const input = tfl.input({ shape: [SMALL_NET_SIZE, SMALL_NET_SIZE, 1] });
  let x = tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', useBias: options.conv1Bias ?? true, name: 'conv1', kernelInitializer: init(1) }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'bn1', momentum: options.batchNormMomentum }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu', name: 'relu1' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 'conv2', kernelInitializer: init(2) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu', name: 'relu2' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'head', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 100 + 3 }) }).apply(x);
  return tfl.model({ inputs: input, outputs: output as tfl.SymbolicTensor });
}

export const weightsOf = (model: tfl.LayersModel): Float32Array[] => model.getWeights().map((w) => w.dataSync() as Float32Array);
