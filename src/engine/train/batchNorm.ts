/**
 * Re-estimating batch-norm statistics after training ("precise BN", Wu & Johnson 2021).
 *
 * Training updates each layer's moving statistics as an exponential average with the layer's
 * momentum (Keras default 0.99, the zoo's): after k steps the initial values (mean 0, variance
 * 1) still weigh 0.99^k, so a run of a few hundred steps infers with statistics far from the
 * data's, and test accuracy can sit at chance while training accuracy is fine. Training itself
 * never reads the moving statistics, so replacing them changes inference only.
 *
 * Here they become the plain average of the batch statistics over some training batches, with
 * the current weights: the k-th forward pass in training mode runs with momentum (k − 1)/k,
 * which makes the moving value the running mean of the k batch values. tfjs-layers'
 * BatchNormalization reads its (private) momentum at every call, so setting it per batch works;
 * the tests check the result is the exact average.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Batches } from './data.js';

type Layer = tfl.LayersModel['layers'][number];

/** Every BatchNormalization layer, nested models included. */
export function batchNormLayers(model: tfl.LayersModel): Layer[] {
  return model.layers.flatMap((layer) => {
    if (layer.getClassName() === 'BatchNormalization') return [layer];
    const nested = layer as Partial<tfl.LayersModel>;
    return Array.isArray(nested.layers) ? batchNormLayers(layer as tfl.LayersModel) : [];
  });
}

interface MomentumField {
  momentum: number;
}

/**
 * Sets every batch-norm layer's moving mean and variance to the average of its batch statistics
 * over the first `maxBatches` of `batches`. Returns the number of batches used (0: the model has
 * no batch norm, or the data no batch).
 */
export async function recalibrateBatchNorm(
  model: tfl.LayersModel,
  batches: Batches,
  exampleShape: readonly number[],
  maxBatches: number,
  signal?: AbortSignal,
): Promise<number> {
  const layers = batchNormLayers(model) as unknown as MomentumField[];
  if (layers.length === 0 || maxBatches < 1) return 0;
  const momenta = layers.map((layer) => layer.momentum);
  let used = 0;
  try {
    for await (const batch of batches) {
      signal?.throwIfAborted();
      used++;
      for (const layer of layers) layer.momentum = (used - 1) / used;
      tf.tidy(() => {
        model.apply(tf.tensor(batch.x, [batch.size, ...exampleShape]), { training: true });
      });
      await tf.nextFrame(); // let other work (cancellation messages) through between batches
      if (used === maxBatches) break;
    }
  } finally {
    layers.forEach((layer, i) => (layer.momentum = momenta[i]));
  }
  return used;
}
