/**
 * SGD with momentum and L2 weight decay, in PyTorch's formulation:
 *
 *   g ← ∇loss + λ·w        (λ = weightDecay; only on kernels unless decayAllWeights)
 *   v ← μ·v + g            (μ = momentum)
 *   w ← w − η·v            (Nesterov: w ← w − η·(g + μ·v))
 *
 * The decay is coupled L2 regularisation, the Keras way (`kernel_regularizer=l2(c)` adds c·Σw²
 * to the loss for every conv and dense kernel; that is λ = 2c here), not AdamW-style decoupled
 * decay. It is added to the gradient rather than the loss, which saves a pass over the weights.
 * Kernels are the weights of rank ≥ 2 (conv filters, dense matrices); biases and batch-norm
 * scales and offsets are not decayed unless `decayAllWeights`.
 *
 * The learning rate multiplies the whole velocity at each step, so a schedule's change takes
 * effect at once (TF's `v ← μv − ηg` would keep old rates in the velocity).
 *
 * The velocities are the optimizer's whole state: `state()` and `restore()` move them to and
 * from checkpoints, keyed by the weights' saved names.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import { InputError } from '../errors.js';

export interface SgdOptions {
  /** μ, in [0, 1). */
  readonly momentum: number;
  readonly nesterov?: boolean;
  /** λ ≥ 0, added as λ·w to each decayed weight's gradient. */
  readonly weightDecay: number;
  /** Decay biases and batch-norm parameters too (default false: kernels only). */
  readonly decayAllWeights?: boolean;
}

/** One velocity, as saved: the weight's name as the model saves it, its shape and values. */
export interface VelocityState {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export interface SgdState {
  readonly velocities: readonly VelocityState[];
}

interface Slot {
  readonly weight: LayerVariable;
  readonly velocity: tf.Variable;
  readonly decayed: boolean;
}

export class SgdMomentum {
  private readonly slots: Slot[];

  constructor(
    weights: readonly LayerVariable[],
    private readonly options: SgdOptions,
  ) {
    this.slots = weights.map((weight) => ({
      weight,
      velocity: tf.tidy(() => tf.variable(tf.zeros(weight.shape as number[]), false)), // tidy frees the zeros, not the variable
      decayed: options.weightDecay > 0 && (options.decayAllWeights === true || weight.shape.length >= 2),
    }));
  }

  /** The trainable variables, in the order gradients are taken for. */
  get variables(): tf.Variable[] {
    return this.slots.map((slot) => slot.weight.read() as tf.Variable);
  }

  /** One update from `gradients`, keyed by variable name (as `tf.variableGrads` returns them). */
  applyGradients(gradients: tf.NamedTensorMap, learningRate: number): void {
    const { momentum, nesterov, weightDecay } = this.options;
    tf.tidy(() => {
      const rate = tf.scalar(learningRate);
      const mu = tf.scalar(momentum);
      const lambda = tf.scalar(weightDecay);
      for (const { weight, velocity, decayed } of this.slots) {
        const value = weight.read();
        const gradient = gradients[weight.name]; // the LayerVariable and its tf.Variable share the name
        if (gradient === undefined) continue; // a weight the loss does not depend on
        const g = decayed ? tf.add(gradient, tf.mul(lambda, value)) : gradient;
        const v = tf.add(tf.mul(mu, velocity), g);
        velocity.assign(v);
        const direction = nesterov ? tf.add(g, tf.mul(mu, v)) : v;
        weight.write(tf.sub(value, tf.mul(rate, direction)));
      }
    });
  }

  async state(): Promise<SgdState> {
    const velocities = await Promise.all(
      this.slots.map(async ({ weight, velocity }) => ({
        name: weight.originalName,
        shape: [...weight.shape] as number[],
        values: (await velocity.data()) as Float32Array,
      })),
    );
    return { velocities };
  }

  /** Loads velocities saved by `state()`; `source` names the checkpoint in errors. */
  restore(state: SgdState, source: string): void {
    const saved = new Map(state.velocities.map((velocity) => [velocity.name, velocity]));
    if (saved.size !== this.slots.length) {
      throw new InputError(`${source}: the optimizer state has ${saved.size} velocities, the model ${this.slots.length} trainable weights`, source);
    }
    for (const { weight, velocity } of this.slots) {
      const entry = saved.get(weight.originalName);
      const sameShape = entry !== undefined && entry.shape.length === weight.shape.length && entry.shape.every((size, i) => size === weight.shape[i]);
      if (!entry || !sameShape) {
        throw new InputError(`${source}: no saved velocity of shape [${weight.shape.join(', ')}] for weight '${weight.originalName}'`, source);
      }
      tf.tidy(() => velocity.assign(tf.tensor(entry.values, weight.shape as number[])));
    }
  }

  dispose(): void {
    for (const slot of this.slots) slot.velocity.dispose();
  }
}

/** Throws an InputError naming the first out-of-range option. */
export function validateSgdOptions(options: SgdOptions): void {
  if (!(options.momentum >= 0 && options.momentum < 1)) throw new InputError(`momentum ${options.momentum}: expected a number in [0, 1)`, 'momentum');
  if (!(options.weightDecay >= 0 && Number.isFinite(options.weightDecay))) throw new InputError(`weight decay ${options.weightDecay}: expected a number ≥ 0`, 'weightDecay');
}
