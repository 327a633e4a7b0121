// The wasm training kernels against the cpu backend's gradients (tfjs-core's own reference
// implementations): conv input/filter gradients, batch-norm gradients, a whole small ResNet.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { registerWasmTrainingKernels, wasmTrainingKernelsActive } from '../../src/engine/backend/wasmTrainingKernels.js';
import { seededRandom } from '../../src/engine/random.js';
import { testBackend } from '../helpers/backend.js';

/** Runs `compute` with `backend` active, then gives the process its chosen backend back. */
async function onBackend<T>(backend: string, compute: () => T | Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return await compute();
  } finally {
    await tf.setBackend(previous);
  }
}

function normalValues(count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  // Box–Muller
  return Float32Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** max |a − b| / max |a|: the error relative to the reference's scale. */
function relativeError(reference: ArrayLike<number>, actual: ArrayLike<number>): number {
  assert.equal(actual.length, reference.length);
  let worst = 0;
  let scale = 1e-12;
  for (let i = 0; i < reference.length; i++) {
    worst = Math.max(worst, Math.abs(reference[i] - actual[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return worst / scale;
}

interface ConvCase {
  readonly x: [number, number, number, number];
  readonly filter: [number, number, number, number];
  readonly stride: number;
  readonly pad: 'same' | 'valid';
}

/** [dL/dx, dL/dw] for L = Σ conv2d(x, w)·dy, dy fixed, on the active backend. */
async function convGradients(c: ConvCase, seed: number): Promise<[Float32Array, Float32Array]> {
  const gradients = tf.tidy(() => {
    const x = tf.tensor4d(normalValues(size(c.x), seed), c.x);
    const filter = tf.tensor4d(normalValues(size(c.filter), seed + 1), c.filter);
    const outputShape = tf.conv2d(x, filter, c.stride, c.pad).shape;
    const dy = tf.tensor(normalValues(size(outputShape), seed + 2), outputShape);
    return tf.grads((xs: tf.Tensor, ws: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xs as tf.Tensor4D, ws as tf.Tensor4D, c.stride, c.pad), dy)))([x, filter]);
  });
  const values = (await Promise.all(gradients.map((g) => g.data()))) as Float32Array[];
  tf.dispose(gradients);
  return [values[0], values[1]];
}

/**
 * A ResNet in miniature: BN, identity and strided 1×1 projection shortcuts, global pooling,
 * softmax. Convs followed by BN have no bias: its gradient is zero in exact arithmetic, so both
 * backends give rounding noise there, which no relative tolerance can compare.
 */
function tinyResnet(): tfl.LayersModel {
  let seed = 11;
  const conv = (x: tfl.SymbolicTensor, filters: number, kernelSize: number, strides: number, name: string, useBias = false) =>
    tfl.layers
      .conv2d({ filters, kernelSize, strides, padding: 'same', useBias, kernelInitializer: tfl.initializers.heNormal({ seed: seed++ }), name })
      .apply(x) as tfl.SymbolicTensor;
  const bn = (x: tfl.SymbolicTensor, name: string) => tfl.layers.batchNormalization({ name, momentum: 0.9, epsilon: 1e-5 }).apply(x) as tfl.SymbolicTensor;
  const relu = (x: tfl.SymbolicTensor, name: string) => tfl.layers.activation({ activation: 'relu', name }).apply(x) as tfl.SymbolicTensor;
  const input = tfl.input({ shape: [15, 15, 3] });
  let x = relu(bn(conv(input, 8, 3, 1, 'stem'), 'stem/bn'), 'stem/relu');
  for (const [stage, filters] of [8, 16].entries()) {
    const strides = stage === 0 ? 1 : 2;
    const name = `stage${stage}`;
    let y = relu(bn(conv(x, filters, 3, strides, `${name}/conv1`), `${name}/bn1`), `${name}/relu1`);
    y = bn(conv(y, filters, 3, 1, `${name}/conv2`), `${name}/bn2`);
    const shortcut = strides === 1 ? x : conv(x, filters, 1, strides, `${name}/projection`, true);
    x = relu(tfl.layers.add({ name: `${name}/add` }).apply([y, shortcut]) as tfl.SymbolicTensor, `${name}/out`);
  }
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 99 }), name: 'head' }).apply(x);
  return tfl.model({ inputs: input, outputs: output as tfl.SymbolicTensor });
}

describe('wasm training kernels', () => {
  let chosenBackend: string;

  before(async () => {
    chosenBackend = (await testBackend()).tfjsName;
    // Both backends must be loaded whichever one the process chose.
    await import('@tensorflow/tfjs-backend-cpu');
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
  });

  after(() => assert.equal(tf.getBackend(), chosenBackend, 'the tests gave the chosen backend back'));

  test('registration is idempotent and fills in the missing filter gradient', () => {
    const registered = [tf.getKernel('Conv2DBackpropInput', 'wasm'), tf.getKernel('Conv2DBackpropFilter', 'wasm'), tf.getGradient('FusedBatchNorm')];
    assert.ok(registered.every((config) => config !== undefined));
    assert.ok(wasmTrainingKernelsActive());
    registerWasmTrainingKernels();
    assert.deepEqual([tf.getKernel('Conv2DBackpropInput', 'wasm'), tf.getKernel('Conv2DBackpropFilter', 'wasm'), tf.getGradient('FusedBatchNorm')], registered);
  });

  const cases: ConvCase[] = [
    { x: [3, 16, 16, 3], filter: [3, 3, 3, 8], stride: 1, pad: 'same' },
    { x: [3, 16, 16, 8], filter: [3, 3, 8, 16], stride: 2, pad: 'same' },
    { x: [3, 15, 15, 8], filter: [3, 3, 8, 4], stride: 2, pad: 'same' },
    { x: [2, 13, 11, 6], filter: [3, 3, 6, 5], stride: 1, pad: 'valid' },
    { x: [2, 17, 17, 6], filter: [3, 3, 6, 4], stride: 2, pad: 'valid' },
    { x: [2, 16, 16, 8], filter: [1, 1, 8, 16], stride: 2, pad: 'same' },
    { x: [2, 15, 15, 8], filter: [1, 1, 8, 16], stride: 2, pad: 'valid' },
    { x: [2, 9, 9, 16], filter: [1, 1, 16, 32], stride: 1, pad: 'same' },
    { x: [2, 20, 20, 3], filter: [7, 7, 3, 8], stride: 2, pad: 'valid' },
    { x: [2, 10, 12, 4], filter: [5, 3, 4, 6], stride: 2, pad: 'same' },
  ];
  for (const [index, c] of cases.entries()) {
    const label = `${c.filter[0]}×${c.filter[1]} conv, stride ${c.stride}, '${c.pad}', input ${c.x.join('×')}`;
    test(`conv gradients match the cpu backend: ${label}`, async () => {
      const [cpuInput, cpuFilter] = await onBackend('cpu', () => convGradients(c, 100 * index));
      const [wasmInput, wasmFilter] = await onBackend('wasm', () => convGradients(c, 100 * index));
      assert.ok(relativeError(cpuInput, wasmInput) < 1e-5, `dx relative error ${relativeError(cpuInput, wasmInput)}`);
      assert.ok(relativeError(cpuFilter, wasmFilter) < 1e-5, `dw relative error ${relativeError(cpuFilter, wasmFilter)}`);
    });
  }

  for (const shape of [
    [4, 6, 5, 7],
    [9, 12],
  ]) {
    test(`batch-norm gradients match the cpu backend (input ${shape.join('×')}, per-channel statistics)`, async () => {
      const channels = shape[shape.length - 1];
      const gradients = () => {
        const tensors = tf.tidy(() => {
          const x = tf.tensor(normalValues(size(shape), 1), shape);
          const dy = tf.tensor(normalValues(size(shape), 2), shape);
          const mean = tf.tensor1d(normalValues(channels, 3));
          const variance = tf.add(tf.abs(tf.tensor1d(normalValues(channels, 4))), 0.5);
          const offset = tf.tensor1d(normalValues(channels, 5));
          const scale = tf.tensor1d(normalValues(channels, 6));
          const loss = (...args: tf.Tensor[]) => {
            const [xs, m, v, o, s] = args;
            return tf.sum(tf.mul(tf.batchNorm(xs, m as tf.Tensor1D, v as tf.Tensor1D, o as tf.Tensor1D, s as tf.Tensor1D, 1e-3), dy));
          };
          return tf.grads(loss)([x, mean, variance, offset, scale]);
        });
        const values = tensors.map((t) => t.dataSync().slice());
        tf.dispose(tensors);
        return values;
      };
      const cpu = await onBackend('cpu', gradients);
      const wasm = await onBackend('wasm', gradients);
      for (const [i, name] of ['x', 'mean', 'variance', 'offset', 'scale'].entries()) {
        assert.ok(relativeError(cpu[i], wasm[i]) < 1e-5, `d${name} relative error ${relativeError(cpu[i], wasm[i])}`);
      }
    });
  }

  test('a whole small ResNet: every weight gradient matches the cpu backend', async () => {
    const model = tinyResnet();
    const initialWeights = model.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync().slice() }));
    const batch = 6;
    const images = normalValues(batch * 15 * 15 * 3, 7);
    const labels = Int32Array.from({ length: batch }, (_, i) => i % 5);
    const gradients = () => {
      model.setWeights(initialWeights.map((w) => tf.tensor(w.values, w.shape)));
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.tidy(() =>
        tf.variableGrads(() => {
          const probabilities = model.apply(tf.tensor4d(images, [batch, 15, 15, 3]), { training: true }) as tf.Tensor;
          const picked = tf.sum(tf.mul(probabilities, tf.oneHot(tf.tensor1d(labels, 'int32'), 5)), 1);
          return tf.neg(tf.mean(tf.log(picked))) as tf.Scalar;
        }, variables),
      );
      const result = { loss: value.dataSync()[0], grads: variables.map((v) => grads[v.name].dataSync().slice()) };
      tf.dispose([value, ...Object.values(grads)]);
      return result;
    };
    const cpu = await onBackend('cpu', gradients);
    const wasm = await onBackend('wasm', gradients);
    assert.ok(Math.abs(cpu.loss - wasm.loss) < 1e-5 * Math.abs(cpu.loss), `loss ${cpu.loss} (cpu) vs ${wasm.loss} (wasm)`);
    assert.equal(wasm.grads.length, model.trainableWeights.length);
    const worst = Math.max(...cpu.grads.map((g, i) => relativeError(g, wasm.grads[i])));
    assert.ok(worst < 3e-5, `worst relative weight-gradient error ${worst}`);
    model.dispose();
  });
});
