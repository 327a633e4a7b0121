import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../../src/engine/errors.js';
import { seededRandom } from '../../src/engine/random.js';
import {
  arrayTrainingData,
  fileSystemHandler,
  hasTrainingCheckpoint,
  loadLayersModelFromPath,
  loadTrainingCheckpoint,
  resumeTraining,
  saveLayersModel,
  trainModel,
  TRAINING_STATE_FILE,
  type TrainConfigInput,
  type TrainingData,
} from '../../src/engine/train/index.js';
import { testBackend } from '../helpers/backend.js';
import { SMALL_NET_SIZE, smallConvNet as buildSmallConvNet, weightsOf } from '../helpers/smallConvNet.js';

const SIZE = SMALL_NET_SIZE;

const smallConvNet = (seed: number) => buildSmallConvNet(seed, { batchNormMomentum: 0.9 });

function randomData(count: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const random = seededRandom(seed);
  return { x: Float32Array.from({ length: count * SIZE * SIZE }, () => random() * 2 - 1), labels: Int32Array.from({ length: count }, (_, i) => i % 3) };
}

const data: TrainingData = arrayTrainingData([SIZE, SIZE, 1], randomData(80, 1), randomData(24, 2));
/** Everything a resumed step depends on: cosine rates, momentum, decay, batch norm, shuffles. */
const CONFIG: TrainConfigInput = { epochs: 2, batchSize: 16, schedule: { kind: 'cosine', learningRate: 0.1, warmupEpochs: 0.5 }, momentum: 0.9, weightDecay: 1e-3, dataSeed: 7 };

const probe = randomData(5, 3).x;
const predictions = (model: tfl.LayersModel): Float32Array => tf.tidy(() => (model.predict(tf.tensor4d(probe, [5, SIZE, SIZE, 1])) as tf.Tensor).dataSync() as Float32Array);

/** Rejects with an InputError whose message names `path`. */
async function rejectsNaming(promise: Promise<unknown>, path: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected an InputError, got ${error}`);
    assert.ok(error.message.includes(path), `'${error.message}' should name ${path}`);
    return true;
  });
}

describe('model files and training checkpoints', () => {
  let root: string;
  let fresh: () => Promise<string>;

  before(async () => {
    await testBackend();
    root = await mkdtemp(join(tmpdir(), 'repsim-checkpoint-'));
    let count = 0;
    fresh = async () => join(root, `case${count++}`);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a saved model reloads (from its directory or its model.json) with identical weights and predictions', async () => {
    const model = smallConvNet(1);
    await trainModel(model, data, { epochs: 1, batchSize: 16 }); // moving statistics away from their initial values
    const directory = await fresh();
    await saveLayersModel(model, directory);
    assert.deepEqual((await readdir(directory)).sort(), ['model.json', 'weights.bin']);
    const json = JSON.parse(await readFile(join(directory, 'model.json'), 'utf8'));
    assert.equal(json.format, 'layers-model');
    assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
    for (const path of [directory, join(directory, 'model.json')]) {
      const loaded = await loadLayersModelFromPath(path);
      assert.deepEqual(weightsOf(loaded), weightsOf(model));
      assert.deepEqual(predictions(loaded), predictions(model));
      loaded.dispose();
    }
    // the handler is an ordinary tf.io.IOHandler
    const viaTfjs = await tfl.loadLayersModel(fileSystemHandler(join(directory, 'model.json')));
    assert.deepEqual(predictions(viaTfjs), predictions(model));
    viaTfjs.dispose();
    model.dispose();
  });

  test('missing or corrupt model files are input errors naming the path', async () => {
    const directory = await fresh();
    await rejectsNaming(loadLayersModelFromPath(directory), directory);
    const model = smallConvNet(2);
    await saveLayersModel(model, directory);
    model.dispose();
    const modelJson = join(directory, 'model.json');
    const weights = join(directory, 'weights.bin');

    const bytes = await readFile(weights);
    await truncate(weights, bytes.length - 4);
    await rejectsNaming(loadLayersModelFromPath(directory), modelJson);
    await rm(weights);
    await rejectsNaming(loadLayersModelFromPath(directory), weights);
    await writeFile(weights, bytes);

    const text = await readFile(modelJson, 'utf8');
    await writeFile(modelJson, text.slice(0, text.length / 2));
    await rejectsNaming(loadLayersModelFromPath(directory), modelJson);
    await writeFile(modelJson, JSON.stringify({ format: 'graph-model', modelTopology: {} }));
    await rejectsNaming(loadLayersModelFromPath(directory), modelJson);
    await writeFile(modelJson, JSON.stringify({ modelTopology: { class_name: 'NoSuchModel', config: {} }, weightsManifest: [] }));
    await rejectsNaming(loadLayersModelFromPath(directory), modelJson);
  });

  test('2 epochs straight = 1 epoch, cancel, resume 1 epoch (identical weights)', async () => {
    const straight = smallConvNet(3);
    const straightResult = await trainModel(straight, data, CONFIG);

    const directory = await fresh();
    const controller = new AbortController();
    const interrupted = smallConvNet(3);
    await assert.rejects(
      trainModel(interrupted, data, CONFIG, {
        signal: controller.signal,
        checkpoint: { directory, metadata: { architecture: 'small' } },
        onEpoch: () => controller.abort(), // after the epoch-1 checkpoint is written
      }),
      { name: 'AbortError' },
    );
    interrupted.dispose();
    assert.ok(await hasTrainingCheckpoint(directory));
    const { model: saved, checkpoint } = await loadTrainingCheckpoint(directory);
    saved.dispose();
    assert.equal(checkpoint.position.epoch, 1);
    assert.deepEqual(checkpoint.metadata, { architecture: 'small' });

    const { model: resumed, result } = await resumeTraining(directory, data);
    assert.deepEqual(weightsOf(resumed), weightsOf(straight));
    assert.deepEqual(result.history.map((e) => [e.trainLoss, e.testLoss]), straightResult.history.map((e) => [e.trainLoss, e.testLoss]));
    assert.equal(result.steps, straightResult.steps);
    const final = await loadTrainingCheckpoint(directory);
    assert.equal(final.checkpoint.position.epoch, 2);
    assert.deepEqual(weightsOf(final.model), weightsOf(straight));
    final.model.dispose();
    resumed.dispose();
    straight.dispose();
  });

  test('mid-epoch checkpoints resume exactly; a cancelled run keeps its last checkpoint', async () => {
    const straight = smallConvNet(4);
    await trainModel(straight, data, CONFIG);

    const directory = await fresh();
    const controller = new AbortController();
    const interrupted = smallConvNet(4);
    await assert.rejects(
      trainModel(interrupted, data, CONFIG, {
        signal: controller.signal,
        checkpoint: { directory, everySteps: 3 },
        onBatch: (p) => {
          if (p.step === 8) controller.abort(); // in epoch 2 (5 steps per epoch); last checkpoint at step 6
        },
      }),
      { name: 'AbortError' },
    );
    interrupted.dispose();
    const { model: saved, checkpoint } = await loadTrainingCheckpoint(directory);
    saved.dispose();
    assert.deepEqual([checkpoint.position.epoch, checkpoint.position.batchInEpoch, checkpoint.position.step], [1, 1, 6]);
    assert.equal(checkpoint.position.history.length, 1);
    const files = await readdir(directory);
    assert.deepEqual(files.filter((name) => name.endsWith('.bin')).sort(), ['optimizer.step6.bin', 'weights.step6.bin'], 'older saves are removed');

    const { model: resumed } = await resumeTraining(directory, data);
    assert.deepEqual(weightsOf(resumed), weightsOf(straight));
    resumed.dispose();
    straight.dispose();
  });

  test('resuming can extend a run: 1 epoch + 1 more = 2 epochs, for a constant rate', async () => {
    const config: TrainConfigInput = { ...CONFIG, epochs: 1, schedule: { kind: 'constant', learningRate: 0.05 } };
    const straight = smallConvNet(5);
    await trainModel(straight, data, { ...config, epochs: 2 });
    const directory = await fresh();
    const first = smallConvNet(5);
    await trainModel(first, data, config, { checkpoint: { directory } });
    first.dispose();
    const { model } = await resumeTraining(directory, data, { epochs: 2 });
    assert.deepEqual(weightsOf(model), weightsOf(straight));
    const { model: reloaded, checkpoint } = await loadTrainingCheckpoint(directory);
    reloaded.dispose();
    await assert.rejects(trainModel(model, data, { ...config, epochs: 3, batchSize: 8 }, { resumeFrom: checkpoint }), /cannot resume with batchSize 8/);
    model.dispose();
    straight.dispose();
  });

  test('a missing, corrupt or inconsistent checkpoint is an input error naming the path', async () => {
    const directory = await fresh();
    await rejectsNaming(loadTrainingCheckpoint(directory), join(directory, TRAINING_STATE_FILE));
    const model = smallConvNet(6);
    await trainModel(model, data, { ...CONFIG, epochs: 1 }, { checkpoint: { directory } });
    model.dispose();
    const statePath = join(directory, TRAINING_STATE_FILE);
    const state = await readFile(statePath, 'utf8');

    await writeFile(statePath, '{"format": "something else"}');
    await rejectsNaming(loadTrainingCheckpoint(directory), statePath);
    await writeFile(statePath, state.replace('"epochs": 1', '"epochs": -1'));
    await rejectsNaming(loadTrainingCheckpoint(directory), statePath);
    await writeFile(statePath, state);

    const optimizerPath = join(directory, 'optimizer.step5.bin');
    const optimizerBytes = await readFile(optimizerPath);
    await truncate(optimizerPath, 8);
    await rejectsNaming(loadTrainingCheckpoint(directory), optimizerPath);
    await writeFile(optimizerPath, optimizerBytes);

    // model.json from a later save than the state: a save interrupted between the two
    const modelJsonPath = join(directory, 'model.json');
    await writeFile(modelJsonPath, (await readFile(modelJsonPath, 'utf8')).replace('weights.step5.bin', 'weights.step9.bin'));
    await rejectsNaming(loadTrainingCheckpoint(directory), directory);
  });
});
