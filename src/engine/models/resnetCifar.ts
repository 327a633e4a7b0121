/**
 * The CIFAR ResNet (v1) of He et al. 2016 §4.2 as built by Nguyen, Raghu & Kornblith 2021
 * (google-research `do_wide_and_deep_networks_learn_the_same_things/resnet_cifar.py`,
 * `ResNet_CIFAR`), layer for layer:
 *
 *   stem:   conv 3×3 (16k) → BN → ReLU
 *   3 stages × n basic blocks (16k, 32k, 64k channels; depth = 6n + 2):
 *           conv 3×3 (stride 2 in the first block of stages 2 and 3) → BN → ReLU → conv 3×3 → BN,
 *           + shortcut: identity, or in the first block of stages 2 and 3 a 1×1 stride-2
 *             projection conv *without* BN (`batch_normalization=False` in the reference),
 *           → add → ReLU
 *   head:   average pool → dense
 *
 * As in the reference, every conv has a bias and a `he_normal` kernel, and BN keeps the Keras
 * defaults (momentum 0.99, ε 1e-3). Two departures, neither changing the function:
 * - the reference pools with `AveragePooling2D(8)` + `Flatten`, which is the global average on
 *   32×32 inputs (8×8 maps); global average pooling also works for other sizes (28×28 → 7×7);
 * - the reference's dense layer outputs logits; here it applies softmax, like every model of the
 *   zoo (the trainer's cross-entropy on probabilities equals the reference's on logits).
 * The reference's `use_residual=False` variant is the plain CNN family's job.
 *
 * With k = 1 and 10 classes ResNet-20 has 274,442 parameters (273,066 trainable), the count of
 * the Keras `cifar10_resnet` example it descends from.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { baseChannels, cifarBlocksPerStage } from './architecture.js';
import { applyLayer, type BuildOptions } from './buildOptions.js';
import { cifarLayers, STAGES, type DepthWidthShape } from './cifarLayers.js';

export function buildResnetCifar(shape: DepthWidthShape, options: BuildOptions, modelName: string): tfl.LayersModel {
  const blocksPerStage = cifarBlocksPerStage(shape.depth);
  const { conv, batchNorm, relu, head } = cifarLayers(options.seed, modelName);

  const input = tfl.input({ shape: [...options.inputShape], name: 'input' });
  let filters = baseChannels(shape.widthMultiplier);
  let x = relu(batchNorm(conv(input, 'stem/conv', filters, 3, 1), 'stem/bn'), 'stem/out');

  for (let stage = 1; stage <= STAGES; stage++) {
    for (let block = 1; block <= blocksPerStage; block++) {
      const prefix = `stage${stage}/block${block}`;
      const downsample = stage > 1 && block === 1;
      const strides = downsample ? 2 : 1;
      let residual = relu(batchNorm(conv(x, `${prefix}/conv1`, filters, 3, strides), `${prefix}/bn1`), `${prefix}/relu1`);
      residual = batchNorm(conv(residual, `${prefix}/conv2`, filters, 3, 1), `${prefix}/bn2`);
      const shortcut = downsample ? conv(x, `${prefix}/shortcut`, filters, 1, strides) : x;
      x = relu(applyLayer(tfl.layers.add({ name: `${prefix}/add` }), [shortcut, residual]), `${prefix}/out`);
    }
    filters *= 2;
  }

  const probabilities = head(x, options.numClasses);
  return tfl.model({ inputs: input, outputs: probabilities, name: modelName });
}
