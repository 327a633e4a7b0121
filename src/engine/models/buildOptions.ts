/** What every model builder takes besides the architecture, checked once. */
import * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../errors.js';

export interface BuildOptions {
  /** [height, width, channels], e.g. [32, 32, 3] for CIFAR-10 or [28, 28, 1] for Fashion-MNIST. */
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  /** Integer; the same spec and seed give identical initial weights, on every backend. */
  readonly seed: number;
}

export function validateBuildOptions(options: BuildOptions): void {
  const { inputShape, numClasses, seed } = options;
  if (inputShape.length !== 3 || !inputShape.every((size) => Number.isInteger(size) && size >= 1)) {
    throw new InputError(`input shape [${inputShape.join(', ')}]: expected [height, width, channels], three positive integers`, 'inputShape');
  }
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new InputError(`number of classes ${numClasses}: expected an integer ≥ 2`, 'numClasses');
  }
  if (!Number.isSafeInteger(seed)) {
    throw new InputError(`seed ${seed}: expected an integer`, 'seed');
  }
}

interface ApplicableLayer {
  apply(inputs: tfl.SymbolicTensor | tfl.SymbolicTensor[]): unknown;
}

/** Connects a layer in a functional graph (tfjs types `apply` loosely: this checks it gave one symbolic tensor). */
export function applyLayer(layer: ApplicableLayer, inputs: tfl.SymbolicTensor | tfl.SymbolicTensor[]): tfl.SymbolicTensor {
  const output = layer.apply(inputs);
  if (!(output instanceof tfl.SymbolicTensor)) throw new Error('expected a layer to give one symbolic tensor');
  return output;
}
