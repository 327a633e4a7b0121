/**
 * Training checkpoints: everything needed to continue a run exactly where it stopped.
 *
 *   <directory>/model.json              the model, readable by tf.loadLayersModel
 *   <directory>/weights.step<N>.bin     its weights (batch-norm moving statistics included)
 *   <directory>/optimizer.step<N>.bin   the momentum velocities, float32, in the order listed below
 *   <directory>/training-state.json     config, position (epoch, batch, step, running sums,
 *                                       history), velocity names and shapes, caller metadata
 *
 * Each file is written atomically, state last; files named by step make a save that dies
 * half-way detectable (model.json and the state then name different steps) instead of mixing
 * two saves. Files of older saves are removed once the new state is in place.
 */
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { resolveTrainConfig } from './config.js';
import { fileSystemHandler, loadLayersModelFromPath, MODEL_FILE, readInputFile, readJsonFile } from './modelFiles.js';
import type { SgdState, VelocityState } from './optimizer.js';
import type { TrainConfig, TrainingPosition } from './types.js';

export const TRAINING_STATE_FILE = 'training-state.json';
const FORMAT = 'repsim-training-checkpoint';
const VERSION = 1;
const STEP_FILE = /^(weights|optimizer)\.step\d+\.bin$/;

export interface TrainingCheckpoint {
  readonly config: TrainConfig;
  readonly position: TrainingPosition;
  readonly optimizer: SgdState;
  /** Whatever the caller saved with the run (model spec, dataset name…). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** training-state.json */
interface TrainingStateFile {
  readonly format: typeof FORMAT;
  readonly version: typeof VERSION;
  readonly savedAt: string;
  readonly config: TrainConfig;
  readonly position: TrainingPosition;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly weightsFile: string;
  readonly optimizer: { readonly file: string; readonly velocities: readonly { readonly name: string; readonly shape: readonly number[] }[] };
}

export async function saveTrainingCheckpoint(directory: string, model: tfl.LayersModel, checkpoint: TrainingCheckpoint): Promise<void> {
  await mkdir(directory, { recursive: true });
  const tag = `step${checkpoint.position.step}`;
  const weightsFile = `weights.${tag}.bin`;
  const optimizerFile = `optimizer.${tag}.bin`;
  await model.save(fileSystemHandler(join(directory, MODEL_FILE), { weightsFile }));
  await writeFileAtomic(join(directory, optimizerFile), concatenate(checkpoint.optimizer.velocities.map((velocity) => velocity.values)));
  const state: TrainingStateFile = {
    format: FORMAT,
    version: VERSION,
    savedAt: new Date().toISOString(),
    config: checkpoint.config,
    position: checkpoint.position,
    ...(checkpoint.metadata ? { metadata: checkpoint.metadata } : {}),
    weightsFile,
    optimizer: { file: optimizerFile, velocities: checkpoint.optimizer.velocities.map(({ name, shape }) => ({ name, shape })) },
  };
  await writeFileAtomic(join(directory, TRAINING_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  await removeOlderSaves(directory, [weightsFile, optimizerFile]);
}

function concatenate(arrays: readonly Float32Array[]): Uint8Array {
  const all = new Float32Array(arrays.reduce((total, array) => total + array.length, 0));
  let offset = 0;
  for (const array of arrays) {
    all.set(array, offset);
    offset += array.length;
  }
  return new Uint8Array(all.buffer);
}

async function removeOlderSaves(directory: string, current: readonly string[]): Promise<void> {
  for (const name of await readdir(directory)) {
    if (STEP_FILE.test(name) && !current.includes(name)) await unlink(join(directory, name)).catch(() => undefined);
  }
}

/** Whether `directory` holds a training checkpoint (not whether it is intact). */
export async function hasTrainingCheckpoint(directory: string): Promise<boolean> {
  return stat(join(directory, TRAINING_STATE_FILE)).then(
    (info) => info.isFile(),
    () => false,
  );
}

/** Loads the model and state saved by `saveTrainingCheckpoint`; InputError names what is missing or corrupt. */
export async function loadTrainingCheckpoint(directory: string): Promise<{ model: tfl.LayersModel; checkpoint: TrainingCheckpoint }> {
  const statePath = join(directory, TRAINING_STATE_FILE);
  const state = parseState(await readJsonFile(statePath, 'training checkpoint state'), statePath);
  const modelJsonPath = join(directory, MODEL_FILE);
  const modelJson = (await readJsonFile(modelJsonPath, 'checkpoint model')) as { weightsManifest?: { paths?: string[] }[] };
  const modelWeights = modelJson?.weightsManifest?.[0]?.paths?.[0];
  if (modelWeights !== state.weightsFile) {
    throw new InputError(`${directory}: ${MODEL_FILE} (weights '${modelWeights}') and ${TRAINING_STATE_FILE} (weights '${state.weightsFile}') come from different saves; the last save was interrupted`, directory);
  }
  const velocities = await readVelocities(join(directory, state.optimizer.file), state.optimizer.velocities);
  const model = await loadLayersModelFromPath(modelJsonPath);
  return { model, checkpoint: { config: state.config, position: state.position, optimizer: { velocities }, ...(state.metadata ? { metadata: state.metadata } : {}) } };
}

function parseState(value: unknown, path: string): TrainingStateFile {
  const state = value as Partial<TrainingStateFile> | null;
  const fail = (problem: string): never => {
    throw new InputError(`${path}: not a RepSim training checkpoint (${problem})`, path);
  };
  if (typeof state !== 'object' || state === null || state.format !== FORMAT) fail(`format is not '${FORMAT}'`);
  if (state!.version !== VERSION) fail(`version ${state!.version}, this RepSim reads ${VERSION}`);
  const { position, optimizer, weightsFile, config } = state!;
  const wholeNumbers = position && [position.epoch, position.batchInEpoch, position.step].every((n) => Number.isSafeInteger(n) && n >= 0);
  if (!wholeNumbers || !position.epochTotals || !Array.isArray(position.history)) fail('bad position');
  if (typeof weightsFile !== 'string' || !STEP_FILE.test(weightsFile)) fail('bad weights file name');
  if (!optimizer || typeof optimizer.file !== 'string' || !STEP_FILE.test(optimizer.file) || !Array.isArray(optimizer.velocities)) fail('bad optimizer entry');
  if (typeof config !== 'object' || config === null) fail('no config');
  try {
    return { ...state!, config: resolveTrainConfig(config!) } as TrainingStateFile;
  } catch (error) {
    throw new InputError(`${path}: bad training config: ${(error as Error).message}`, path);
  }
}

async function readVelocities(path: string, entries: TrainingStateFile['optimizer']['velocities']): Promise<VelocityState[]> {
  const bytes = await readInputFile(path, 'optimizer state');
  const sizes = entries.map((entry) => entry.shape.reduce((a, b) => a * b, 1));
  const expected = sizes.reduce((a, b) => a + b, 0) * Float32Array.BYTES_PER_ELEMENT;
  if (bytes.byteLength !== expected) throw new InputError(`${path}: ${bytes.byteLength} bytes, the checkpoint state describes ${expected} (truncated or mismatched optimizer state)`, path);
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let offset = 0;
  return entries.map((entry, i) => {
    const velocity = { name: entry.name, shape: entry.shape, values: values.slice(offset, offset + sizes[i]) };
    offset += sizes[i];
    return velocity;
  });
}
