/**
 * A plain (shortcut-free) CNN for cross-seed checks, after the small conv nets Kornblith et al.
 * 2019 compare across initialisations (3×3 conv–BN–ReLU layers, stride-2 stages, global average
 * pooling, dense):
 *
 *   3 stages × n layers (16k, 32k, 64k channels; depth = 3n + 1 counting the dense layer):
 *           conv 3×3 same (stride 2 on the first layer of stages 2 and 3) → BN → ReLU
 *   head:   global average pool → dense (softmax)
 *
 * The conv–BN–ReLU unit is the CIFAR ResNet reference's `resnet_layer` (bias, Keras he_normal,
 * Keras BN defaults) and the channels follow its 16k·32k·64k, so plain-cnn-D-wk differs from the
 * ResNets only in its missing shortcuts. plain-cnn-10: 9 conv layers + dense, 16·32·64 channels.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { baseChannels, plainLayersPerStage } from './architecture.js';
import type { BuildOptions } from './buildOptions.js';
import { cifarLayers, STAGES, type DepthWidthShape } from './cifarLayers.js';

export function buildPlainCnn(shape: DepthWidthShape, options: BuildOptions, modelName: string): tfl.LayersModel {
  const layersPerStage = plainLayersPerStage(shape.depth);
  const { conv, batchNorm, relu, head } = cifarLayers(options.seed, modelName);

  const input = tfl.input({ shape: [...options.inputShape], name: 'input' });
  let x = input;
  let filters = baseChannels(shape.widthMultiplier);
  for (let stage = 1; stage <= STAGES; stage++) {
    for (let layer = 1; layer <= layersPerStage; layer++) {
      const prefix = `stage${stage}/layer${layer}`;
      const strides = stage > 1 && layer === 1 ? 2 : 1;
      x = relu(batchNorm(conv(x, `${prefix}/conv`, filters, 3, strides), `${prefix}/bn`), `${prefix}/out`);
    }
    filters *= 2;
  }

  const probabilities = head(x, options.numClasses);
  return tfl.model({ inputs: input, outputs: probabilities, name: modelName });
}
