import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../../src/engine/errors.js';
import { seededRandom } from '../../src/engine/random.js';
import {
  arrayTrainingData,
  epochSeed,
  learningRateAt,
  recalibrateBatchNorm,
  resolveTrainConfig,
  SgdMomentum,
  trainModel,
  validateLearningRateSchedule,
  type BatchProgress,
  type EpochSummary,
  type LearningRateSchedule,
  type TrainingData,
} from '../../src/engine/train/index.js';
import { testBackend } from '../helpers/backend.js';
import { SMALL_NET_SIZE, smallConvNet as buildSmallConvNet, weightsOf } from '../helpers/smallConvNet.js';

const SIZE = SMALL_NET_SIZE;

const smallConvNet = (seed: number) => buildSmallConvNet(seed, { conv1Bias: false });

/** Class c has a bright horizontal band in the c-th third of the image, plus noise. */
function bandImages(count: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const random = seededRandom(seed);
  const x = new Float32Array(count * SIZE * SIZE);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    labels[i] = label;
    for (let row = 0; row < SIZE; row++) {
      const bright = Math.floor((row * 3) / SIZE) === label;
      for (let col = 0; col < SIZE; col++) x[(i * SIZE + row) * SIZE + col] = (bright ? 1 : -0.5) + (random() - 0.5);
    }
  }
  return { x, labels };
}

function bandData(train = 96, test = 48): TrainingData {
  return arrayTrainingData([SIZE, SIZE, 1], bandImages(train, 1), bandImages(test, 2));
}


describe('learning-rate schedules', () => {
  const at = (schedule: LearningRateSchedule, step: number) => learningRateAt(schedule, { step, stepsPerEpoch: 10, totalEpochs: 4 });

  test('constant', () => {
    assert.equal(at({ kind: 'constant', learningRate: 0.05 }, 0), 0.05);
    assert.equal(at({ kind: 'constant', learningRate: 0.05 }, 39), 0.05);
  });

  test('piecewise decay changes at the boundary epochs', () => {
    const schedule: LearningRateSchedule = { kind: 'piecewise', learningRate: 0.1, boundaries: [2, 3], factors: [0.1, 0.01] };
    assert.equal(at(schedule, 19), 0.1);
    assert.ok(Math.abs(at(schedule, 20) - 0.01) < 1e-15);
    assert.ok(Math.abs(at(schedule, 29) - 0.01) < 1e-15);
    assert.ok(Math.abs(at(schedule, 30) - 0.001) < 1e-15);
  });

  test('cosine goes from the rate to the final rate over the run', () => {
    const schedule: LearningRateSchedule = { kind: 'cosine', learningRate: 0.1, finalLearningRate: 0.02 };
    assert.equal(at(schedule, 0), 0.1);
    assert.ok(Math.abs(at(schedule, 20) - 0.06) < 1e-12, 'halfway is the midpoint');
    assert.ok(at(schedule, 39) > 0.02 && at(schedule, 39) < 0.021);
    for (let step = 1; step < 40; step++) assert.ok(at(schedule, step) < at(schedule, step - 1), 'decreasing');
  });

  test('linear warm-up ramps up to the scheduled rate', () => {
    const schedule: LearningRateSchedule = { kind: 'constant', learningRate: 0.1, warmupEpochs: 0.5 };
    assert.deepEqual([0, 1, 4, 5, 6].map((step) => +at(schedule, step).toFixed(12)), [0.02, 0.04, 0.1, 0.1, 0.1]);
  });

  test('bad schedules and configs are input errors', () => {
    assert.throws(() => validateLearningRateSchedule({ kind: 'piecewise', learningRate: 0.1, boundaries: [3, 2], factors: [0.1, 0.01] }), InputError);
    assert.throws(() => validateLearningRateSchedule({ kind: 'piecewise', learningRate: 0.1, boundaries: [2], factors: [0.1, 0.01] }), InputError);
    assert.throws(() => validateLearningRateSchedule({ kind: 'cosine', learningRate: -1 }), InputError);
    assert.throws(() => validateLearningRateSchedule({ kind: 'linear' } as unknown as LearningRateSchedule), InputError);
    assert.throws(() => resolveTrainConfig({ epochs: 0 }), InputError);
    assert.throws(() => resolveTrainConfig({ epochs: 1, momentum: 1 }), InputError);
    assert.throws(() => resolveTrainConfig({ epochs: 1, batchSize: 2.5 }), InputError);
    assert.equal(resolveTrainConfig({ epochs: 3, batchSize: undefined }).batchSize, 128, 'undefined takes the default');
  });

  test('epoch seeds differ between epochs and between neighbouring run seeds', () => {
    const seeds = new Set([0, 1, 2].flatMap((run) => [0, 1, 2].map((epoch) => epochSeed(run, epoch))));
    assert.equal(seeds.size, 9);
    assert.equal(epochSeed(7, 3), epochSeed(7, 3));
  });
});

describe('training', () => {
  before(async () => {
    await testBackend();
  });

  test('SGD: momentum, Nesterov and weight decay on kernels only, update by update', () => {
    const input = tfl.input({ shape: [2] });
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 1, name: 'dense', kernelInitializer: 'ones', biasInitializer: 'ones' }).apply(input) as tfl.SymbolicTensor });
    const [kernel, bias] = model.trainableWeights;
    for (const nesterov of [false, true]) {
      model.setWeights([tf.ones([2, 1]), tf.ones([1])]);
      const optimizer = new SgdMomentum(model.trainableWeights, { momentum: 0.9, nesterov, weightDecay: 0.1 });
      const gradient = { [kernel.name]: tf.tensor2d([[0.5], [-1]]), [bias.name]: tf.tensor1d([2]) };
      let [w0, w1, b] = [1, 1, 1];
      let [v0, v1, vb] = [0, 0, 0];
      for (const rate of [0.1, 0.05]) {
        optimizer.applyGradients(gradient, rate);
        const g0 = 0.5 + 0.1 * w0;
        const g1 = -1 + 0.1 * w1;
        [v0, v1, vb] = [0.9 * v0 + g0, 0.9 * v1 + g1, 0.9 * vb + 2];
        const step = (g: number, v: number) => rate * (nesterov ? g + 0.9 * v : v);
        [w0, w1, b] = [w0 - step(g0, v0), w1 - step(g1, v1), b - step(2, vb)];
      }
      const [k0, k1] = kernel.read().dataSync();
      assert.ok(Math.abs(k0 - w0) < 1e-6 && Math.abs(k1 - w1) < 1e-6, `kernel ${[k0, k1]} vs ${[w0, w1]} (nesterov ${nesterov})`);
      assert.ok(Math.abs(bias.read().dataSync()[0] - b) < 1e-6, 'bias: no decay');
      tf.dispose(Object.values(gradient));
      optimizer.dispose();
    }
    model.dispose();
  });

  test('learns a small problem, with per-batch and per-epoch progress', async () => {
    const model = smallConvNet(1);
    const data = bandData();
    const batches: BatchProgress[] = [];
    const epochs: EpochSummary[] = [];
    const tensorsBefore = tf.memory().numTensors;
    const result = await trainModel(
      model,
      data,
      { epochs: 4, batchSize: 16, schedule: { kind: 'cosine', learningRate: 0.1 }, weightDecay: 5e-4 },
      { onBatch: (p) => void batches.push(p), onEpoch: (s) => void epochs.push(s) },
    );
    assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensors leak');
    assert.equal(batches.length, 4 * 6);
    assert.deepEqual(
      batches.map((b) => b.step),
      batches.map((_, i) => i + 1),
    );
    for (const b of batches) {
      assert.ok(Number.isFinite(b.loss) && b.loss > 0);
      assert.ok(b.accuracy >= 0 && b.accuracy <= 1 && b.imagesPerSecond > 0);
      assert.equal(b.batchesPerEpoch, 6);
      assert.equal(b.learningRate, learningRateAt({ kind: 'cosine', learningRate: 0.1 }, { step: b.step - 1, stepsPerEpoch: 6, totalEpochs: 4 }));
    }
    assert.deepEqual(result.history, epochs);
    assert.deepEqual(
      epochs.map((e) => e.epoch),
      [0, 1, 2, 3],
    );
    const last = epochs[3];
    assert.ok(last.testAccuracy! >= 0.9, `test accuracy ${last.testAccuracy}`);
    assert.ok(last.testLoss! < epochs[0].testLoss!, 'test loss falls');
    assert.ok(last.trainLoss < epochs[0].trainLoss, 'train loss falls');
    model.dispose();
  });

  test('the same config, data seed and initial weights give the same weights; another data seed does not', async () => {
    const data = bandData();
    const train = async (dataSeed: number) => {
      const model = smallConvNet(3);
      await trainModel(model, data, { epochs: 2, batchSize: 16, dataSeed, schedule: { kind: 'constant', learningRate: 0.05 } });
      const weights = weightsOf(model);
      model.dispose();
      return weights;
    };
    const first = await train(5);
    assert.deepEqual(await train(5), first);
    assert.notDeepEqual(await train(6), first);
  });

  test('batch norm: moving statistics follow the training batches and inference uses them', async () => {
    const input = tfl.input({ shape: [2, 2, 1] });
    const normalized = tfl.layers.batchNormalization({ name: 'bn', momentum: 0.5 }).apply(input) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten().apply(normalized) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(flat) as tfl.SymbolicTensor });
    // Every image is [1, 5, 1, 5]: each batch has mean 3 and (biased) variance 4 exactly.
    const count = 64;
    const x = Float32Array.from({ length: count * 4 }, (_, i) => (i % 2 === 0 ? 1 : 5));
    const labels = Int32Array.from({ length: count }, (_, i) => i % 2);
    const config = { epochs: 2, batchSize: 8, schedule: { kind: 'constant', learningRate: 0.01 }, batchNormBatches: 0 } as const;
    await trainModel(model, arrayTrainingData([2, 2, 1], { x, labels }), config);
    const bn = model.getLayer('bn');
    const [gamma, beta, movingMean, movingVariance] = bn.getWeights().map((w) => w.dataSync()[0]);
    // 16 steps of moving ← 0.5·moving + 0.5·batch from (0, 1)
    assert.ok(Math.abs(movingMean - 3 * (1 - 0.5 ** 16)) < 1e-5, `moving mean ${movingMean}`);
    assert.ok(Math.abs(movingVariance - (4 - 3 * 0.5 ** 16)) < 1e-4, `moving variance ${movingVariance}`);
    const bnOutput = tfl.model({ inputs: model.inputs, outputs: bn.output as tfl.SymbolicTensor });
    const out = tf.tidy(() => (bnOutput.predict(tf.fill([1, 2, 2, 1], 10)) as tf.Tensor).dataSync());
    const expected = ((10 - movingMean) / Math.sqrt(movingVariance + 1e-3)) * gamma + beta;
    for (const value of out) assert.ok(Math.abs(value - expected) < 1e-4, `inference output ${value}, expected ${expected}`);
    model.dispose();
  });

  test('batch-norm recalibration: moving statistics become the average of batch statistics', async () => {
    const input = tfl.input({ shape: [3, 1, 1] });
    const bn = tfl.layers.batchNormalization({ name: 'bn', momentum: 0.99 });
    const flat = tfl.layers.flatten().apply(bn.apply(input) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2, activation: 'softmax' }).apply(flat) as tfl.SymbolicTensor });
    const random = seededRandom(4);
    const batches = [2, 7, -1, 4].map((shift) => ({ x: Float32Array.from({ length: 6 * 3 }, () => shift + 3 * random()), labels: new Int32Array(6), size: 6 }));
    const used = await recalibrateBatchNorm(model, batches, [3, 1, 1], 3); // only the first 3
    assert.equal(used, 3);
    const mean = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0) / values.length;
    const batchMeans = batches.slice(0, 3).map((b) => mean(b.x));
    const batchVariances = batches.slice(0, 3).map((b, i) => mean(Array.from(b.x, (v) => (v - batchMeans[i]) ** 2)));
    const [, , movingMean, movingVariance] = bn.getWeights().map((w) => w.dataSync()[0]);
    assert.ok(Math.abs(movingMean - mean(batchMeans)) < 1e-5, `moving mean ${movingMean} vs ${mean(batchMeans)}`);
    assert.ok(Math.abs(movingVariance - mean(batchVariances)) < 1e-5, `moving variance ${movingVariance} vs ${mean(batchVariances)}`);
    assert.equal(bn.getConfig().momentum, 0.99, 'the momentum is restored');
    model.dispose();
  });

  test('an abort stops the run between batches with the signal’s reason', async () => {
    const model = smallConvNet(4);
    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(
      trainModel(model, bandData(), { epochs: 2, batchSize: 16 }, {
        signal: controller.signal,
        onBatch: (p) => {
          seen = p.step;
          if (p.step === 3) controller.abort();
        },
      }),
      { name: 'AbortError' },
    );
    assert.equal(seen, 3);
    model.dispose();
  });

  test('data that does not fit the model, and labels out of range, are input errors', async () => {
    const model = smallConvNet(5);
    const wrongShape = arrayTrainingData([4, 4, 1], { x: new Float32Array(32 * 16), labels: new Int32Array(32) });
    await assert.rejects(trainModel(model, wrongShape, { epochs: 1, batchSize: 8 }), InputError);
    const badLabels = arrayTrainingData([SIZE, SIZE, 1], { x: new Float32Array(16 * SIZE * SIZE), labels: new Int32Array(16).fill(3) });
    await assert.rejects(trainModel(model, badLabels, { epochs: 1, batchSize: 8 }), /label 3: the model has 3 classes/);
    await assert.rejects(trainModel(model, bandData(8, 0), { epochs: 1, batchSize: 16 }), /no whole batch of 16/);
    model.dispose();
  });
});
