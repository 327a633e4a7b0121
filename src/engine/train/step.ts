/**
 * One optimizer step and one evaluation pass: cross-entropy, accuracy, and where the batch-norm
 * moving statistics come in.
 *
 * Batch norm: calling a tfjs-layers model with `{ training: true }` normalises with the batch's
 * statistics and, as a side effect of that call, moves each layer's moving mean and variance
 * towards them (`moving ← moving·momentum + batch·(1 − momentum)`, in BatchNormalization.call).
 * So a custom loop needs nothing more than the training flag; inference (`training: false`,
 * also what `predict` does) normalises with the moving statistics.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../errors.js';
import type { Batches, LabelledBatch } from './data.js';
import type { SgdMomentum } from './optimizer.js';

/** What the model's output means: class probabilities (a softmax head, the zoo's) or logits. */
export type OutputKind = 'probabilities' | 'logits';

/** Probabilities when the output layer ends in softmax, logits otherwise. */
export function modelOutputKind(model: tfl.LayersModel): OutputKind {
  const layer = model.outputLayers[0];
  const activation = (layer.getConfig() as { activation?: unknown }).activation;
  return activation === 'softmax' || layer.getClassName() === 'Softmax' ? 'probabilities' : 'logits';
}

/** Keras' clip for log(p): keeps the loss finite when a probability underflows to 0. */
const PROBABILITY_FLOOR = 1e-7;

/** Cross-entropy of each example, −log p(label). */
export function crossEntropyPerExample(outputs: tf.Tensor, labels: tf.Tensor1D, kind: OutputKind): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels, outputs.shape[1] as number);
    const picked = tf.sum(tf.mul(outputs, oneHot), 1);
    if (kind === 'probabilities') return tf.neg(tf.log(tf.clipByValue(picked, PROBABILITY_FLOOR, 1))) as tf.Tensor1D;
    return tf.sub(tf.logSumExp(outputs, 1), picked) as tf.Tensor1D;
  });
}

function correctCount(outputs: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
  return tf.sum(tf.cast(tf.equal(tf.argMax(outputs, 1), labels), 'int32'));
}

/** Checks labels before they reach oneHot, which would quietly turn a bad one into an all-zero row. */
function labelTensor(batch: LabelledBatch, numClasses: number): tf.Tensor1D {
  const labels = Int32Array.from(batch.labels);
  for (const label of labels) {
    if (!(label >= 0 && label < numClasses)) throw new InputError(`label ${label}: the model has ${numClasses} classes (0 to ${numClasses - 1})`, 'labels');
  }
  return tf.tensor1d(labels, 'int32');
}

export interface StepContext {
  readonly model: tfl.LayersModel;
  readonly optimizer: SgdMomentum;
  readonly exampleShape: readonly number[];
  readonly numClasses: number;
  readonly outputKind: OutputKind;
}

export interface StepResult {
  /** Mean cross-entropy of the batch. */
  readonly loss: number;
  readonly correct: number;
}

/** Forward in training mode, backward, one optimizer update. */
export async function trainStep(context: StepContext, batch: LabelledBatch, learningRate: number): Promise<StepResult> {
  const { model, optimizer, exampleShape, numClasses, outputKind } = context;
  let correct: tf.Scalar | undefined;
  const loss = tf.tidy(() => {
    const x = tf.tensor(batch.x, [batch.size, ...exampleShape]);
    const labels = labelTensor(batch, numClasses);
    const { value, grads } = tf.variableGrads(() => {
      const outputs = model.apply(x, { training: true }) as tf.Tensor;
      correct = tf.keep(correctCount(outputs, labels)); // kept past the gradient's tidy; disposed below
      return tf.mean(crossEntropyPerExample(outputs, labels, outputKind)) as tf.Scalar;
    }, optimizer.variables);
    optimizer.applyGradients(grads, learningRate);
    return value;
  });
  try {
    const [lossValue, correctValue] = await Promise.all([loss.data(), correct!.data()]);
    return { loss: lossValue[0], correct: correctValue[0] };
  } finally {
    tf.dispose([loss, correct!]);
  }
}

export interface Evaluation {
  /** Mean cross-entropy over the examples. */
  readonly loss: number;
  readonly accuracy: number;
  readonly examples: number;
}

/** Loss and accuracy in inference mode (batch norm uses its moving statistics). */
export async function evaluateModel(context: Omit<StepContext, 'optimizer'>, batches: Batches, signal?: AbortSignal): Promise<Evaluation> {
  const { model, exampleShape, numClasses, outputKind } = context;
  let lossSum = 0;
  let correct = 0;
  let examples = 0;
  for await (const batch of batches) {
    signal?.throwIfAborted();
    const [batchLoss, batchCorrect] = tf.tidy(() => {
      const outputs = model.apply(tf.tensor(batch.x, [batch.size, ...exampleShape]), { training: false }) as tf.Tensor;
      const labels = labelTensor(batch, numClasses);
      return [tf.sum(crossEntropyPerExample(outputs, labels, outputKind)), correctCount(outputs, labels)];
    });
    const [lossValue, correctValue] = await Promise.all([batchLoss.data(), batchCorrect.data()]);
    tf.dispose([batchLoss, batchCorrect]);
    lossSum += lossValue[0];
    correct += correctValue[0];
    examples += batch.size;
  }
  return { loss: examples ? lossSum / examples : NaN, accuracy: examples ? correct / examples : NaN, examples };
}
