/**
 * ResNet-50/101/152 v1 with bottleneck blocks, built like Keras applications
 * (`keras/applications/resnet.py`: `ResNet`, `block1`, `stack1`) with `include_top=False`,
 * `pooling=None`, then GlobalAveragePooling2D + Dense(softmax) on top, under Keras' layer names:
 *
 *   conv1_pad (zero-pad 3) → conv1_conv 7×7/2 → conv1_bn → conv1_relu → pool1_pad (zero-pad 1) → pool1_pool 3×3/2
 *   conv2..conv5 stacks of 3, 4, 6|23|36, 3 blocks with 64, 128, 256, 512 bottleneck filters;
 *   block `convS_blockB`: _1_conv 1×1 (stride on the first block of conv3..conv5) → _1_bn → _1_relu
 *                         → _2_conv 3×3 same → _2_bn → _2_relu → _3_conv 1×1 (4× filters) → _3_bn,
 *                         shortcut: block1 `_0_conv` 1×1 (4× filters, same stride) → `_0_bn`, else identity,
 *                         → _add → _out (ReLU)
 *   avg_pool (global average) → predictions (dense, softmax)
 *
 * Every conv has a bias (`use_bias=True` for ResNet v1), BN uses ε = 1.001e-5 and Keras' default
 * momentum 0.99, kernels use Keras' default glorot_uniform. Base parameter counts (everything but
 * `predictions`) equal Keras `include_top=False`: 23,587,712 / 42,658,176 / 58,370,944
 * (Keras' with-top totals 25,636,712 / 44,707,176 / 60,419,944 less the 2048·1000 + 1000 top).
 * Keras insists on ≥ 32×32×3 inputs for its ImageNet weights; without weights any size works here.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { BottleneckDepth } from './architecture.js';
import { applyLayer, type BuildOptions } from './buildOptions.js';
import { glorotUniform, layerSeed } from './layerInit.js';

/** Blocks per stack conv2..conv5 (Keras `ResNet50`, `ResNet101`, `ResNet152` `stack_fn`). */
export const BOTTLENECK_STACK_BLOCKS: Readonly<Record<BottleneckDepth, readonly number[]>> = {
  50: [3, 4, 6, 3],
  101: [3, 4, 23, 3],
  152: [3, 8, 36, 3],
};
const STACK_FILTERS = [64, 128, 256, 512];
const BN_EPSILON = 1.001e-5;
const BN_MOMENTUM = 0.99;
const EXPANSION = 4;

export function buildResnetBottleneck(depth: BottleneckDepth, options: BuildOptions, modelName: string): tfl.LayersModel {
  const { seed } = options;
  const conv = (
    x: tfl.SymbolicTensor,
    name: string,
    filters: number,
    kernelSize: number,
    strides: number,
    padding: 'valid' | 'same' = 'valid',
  ): tfl.SymbolicTensor =>
    applyLayer(
      tfl.layers.conv2d({ name, filters, kernelSize, strides, padding, useBias: true, kernelInitializer: glorotUniform(layerSeed(seed, modelName, name)) }),
      x,
    );
  const batchNorm = (x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor =>
    applyLayer(tfl.layers.batchNormalization({ name, axis: 3, momentum: BN_MOMENTUM, epsilon: BN_EPSILON }), x);
  const relu = (x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor => applyLayer(tfl.layers.activation({ name, activation: 'relu' }), x);
  const zeroPad = (x: tfl.SymbolicTensor, name: string, size: number): tfl.SymbolicTensor =>
    applyLayer(tfl.layers.zeroPadding2d({ name, padding: [[size, size], [size, size]] }), x);

  /** Keras `block1`. */
  const block = (x: tfl.SymbolicTensor, name: string, filters: number, strides: number, convShortcut: boolean): tfl.SymbolicTensor => {
    const shortcut = convShortcut ? batchNorm(conv(x, `${name}_0_conv`, EXPANSION * filters, 1, strides), `${name}_0_bn`) : x;
    let y = relu(batchNorm(conv(x, `${name}_1_conv`, filters, 1, strides), `${name}_1_bn`), `${name}_1_relu`);
    y = relu(batchNorm(conv(y, `${name}_2_conv`, filters, 3, 1, 'same'), `${name}_2_bn`), `${name}_2_relu`);
    y = batchNorm(conv(y, `${name}_3_conv`, EXPANSION * filters, 1, 1), `${name}_3_bn`);
    return relu(applyLayer(tfl.layers.add({ name: `${name}_add` }), [shortcut, y]), `${name}_out`);
  };

  const input = tfl.input({ shape: [...options.inputShape], name: 'input' });
  let x = zeroPad(input, 'conv1_pad', 3);
  x = relu(batchNorm(conv(x, 'conv1_conv', 64, 7, 2), 'conv1_bn'), 'conv1_relu');
  x = zeroPad(x, 'pool1_pad', 1);
  x = applyLayer(tfl.layers.maxPooling2d({ name: 'pool1_pool', poolSize: 3, strides: 2 }), x);

  // Keras `stack1`: the first block projects (stride 1 for conv2, 2 after), the rest are identity blocks.
  BOTTLENECK_STACK_BLOCKS[depth].forEach((blocks, index) => {
    const stack = `conv${index + 2}`;
    const filters = STACK_FILTERS[index];
    x = block(x, `${stack}_block1`, filters, index === 0 ? 1 : 2, true);
    for (let b = 2; b <= blocks; b++) x = block(x, `${stack}_block${b}`, filters, 1, false);
  });

  const pooled = applyLayer(tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
  const probabilities = applyLayer(
    tfl.layers.dense({ name: 'predictions', units: options.numClasses, activation: 'softmax', kernelInitializer: glorotUniform(layerSeed(seed, modelName, 'predictions')) }),
    pooled,
  );
  return tfl.model({ inputs: input, outputs: probabilities, name: modelName });
}
