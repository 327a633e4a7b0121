/**
 * Learning-rate schedules, as pure functions of the training position, so a resumed run gets
 * exactly the rates the uninterrupted run would have had.
 *
 * Epoch numbers are fractional positions: step k of an epoch of S steps sits at epoch + k/S.
 * An optional linear warm-up scales the scheduled rate by (step + 1) / warm-up steps (Goyal et
 * al. 2017), so the first step already moves and the last warm-up step reaches the schedule.
 */
import { InputError } from '../errors.js';

interface WarmUp {
  /** Epochs of linear warm-up at the start (default 0: none). */
  readonly warmupEpochs?: number;
}

export type LearningRateSchedule =
  | (WarmUp & { readonly kind: 'constant'; readonly learningRate: number })
  /**
   * Step decay: `learningRate` until `boundaries[0]`, then `learningRate·factors[i]` from epoch
   * `boundaries[i]` on (He et al. 2016: boundaries at 50% and 75% of the run, factors 0.1, 0.01).
   */
  | (WarmUp & { readonly kind: 'piecewise'; readonly learningRate: number; readonly boundaries: readonly number[]; readonly factors: readonly number[] })
  /** Half a cosine from `learningRate` at epoch 0 down to `finalLearningRate` (default 0) at the end of the last epoch. */
  | (WarmUp & { readonly kind: 'cosine'; readonly learningRate: number; readonly finalLearningRate?: number });

export interface SchedulePosition {
  /** Optimizer steps taken before this one, counted from the start of training. */
  readonly step: number;
  readonly stepsPerEpoch: number;
  readonly totalEpochs: number;
}

/** The learning rate of the step at `position`. */
export function learningRateAt(schedule: LearningRateSchedule, position: SchedulePosition): number {
  const { step, stepsPerEpoch, totalEpochs } = position;
  const epoch = step / stepsPerEpoch;
  return scheduledRate(schedule, epoch, totalEpochs) * warmUpFactor(schedule.warmupEpochs ?? 0, step, stepsPerEpoch);
}

function scheduledRate(schedule: LearningRateSchedule, epoch: number, totalEpochs: number): number {
  switch (schedule.kind) {
    case 'constant':
      return schedule.learningRate;
    case 'piecewise': {
      const passed = schedule.boundaries.filter((boundary) => epoch >= boundary).length;
      return passed === 0 ? schedule.learningRate : schedule.learningRate * schedule.factors[passed - 1];
    }
    case 'cosine': {
      const final = schedule.finalLearningRate ?? 0;
      const progress = Math.min(1, epoch / totalEpochs);
      return final + ((schedule.learningRate - final) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
  }
}

function warmUpFactor(warmupEpochs: number, step: number, stepsPerEpoch: number): number {
  const warmupSteps = Math.round(warmupEpochs * stepsPerEpoch);
  return warmupSteps > 0 && step < warmupSteps ? (step + 1) / warmupSteps : 1;
}

const isRate = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isEpoch = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const ascending = (values: readonly number[]): boolean => values.every((value, i) => isEpoch(value) && (i === 0 || value > values[i - 1]));

/** Throws an InputError naming the first problem with `schedule`. */
export function validateLearningRateSchedule(schedule: LearningRateSchedule): void {
  const fail = (problem: string): never => {
    throw new InputError(`learning-rate schedule: ${problem}`, 'schedule');
  };
  if (schedule.warmupEpochs !== undefined && !isEpoch(schedule.warmupEpochs)) fail(`warm-up ${schedule.warmupEpochs}: expected epochs ≥ 0`);
  if (!isRate(schedule.learningRate)) fail(`learning rate ${schedule.learningRate}: expected a number ≥ 0`);
  switch (schedule.kind) {
    case 'constant':
      return;
    case 'piecewise':
      if (!Array.isArray(schedule.boundaries) || !ascending(schedule.boundaries)) fail('boundaries: expected increasing epochs ≥ 0');
      if (!Array.isArray(schedule.factors) || schedule.factors.length !== schedule.boundaries.length || !schedule.factors.every(isRate)) {
        fail(`factors: expected ${schedule.boundaries.length} numbers ≥ 0, one per boundary`);
      }
      return;
    case 'cosine':
      if (schedule.finalLearningRate !== undefined && !isRate(schedule.finalLearningRate)) fail(`final learning rate ${schedule.finalLearningRate}: expected a number ≥ 0`);
      return;
    default:
      fail(`unknown kind '${(schedule as { kind?: unknown }).kind}': expected constant, piecewise or cosine`);
  }
}
