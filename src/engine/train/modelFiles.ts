/**
 * TensorFlow.js LayersModels on disk without tfjs-node: a `model.json` (topology plus weights
 * manifest) next to binary weight files, the layout `tf.loadLayersModel('file://…')` reads.
 *
 * The IOHandler below is what `model.save(handler)` and `tfl.loadLayersModel(handler)` take.
 * Saving writes the weights before the model.json that names them, each file atomically, so a
 * reader never finds a model.json whose weights are half-written.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';

export const MODEL_FILE = 'model.json';
export const DEFAULT_WEIGHTS_FILE = 'weights.bin';

/** Reads a file, or throws an InputError naming it. */
export async function readInputFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? (error as Error).message})`;
    throw new InputError(`${path}: ${reason} (${what})`, path);
  }
}

/** Parses JSON from a file, or throws an InputError naming it. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  const text = (await readInputFile(path, what)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path}: not valid JSON (${what}): ${(error as Error).message}`, path);
  }
}

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

/** The bytes the manifest's weights take (quantised weights are stored in their quantised type). */
function manifestBytes(specs: readonly tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((total, spec) => {
    const stored = spec.quantization?.dtype ?? spec.dtype;
    const bytes = BYTES_PER_VALUE[stored];
    if (bytes === undefined) throw new Error(`weight '${spec.name}': unsupported dtype ${stored}`);
    return total + spec.shape.reduce((a, b) => a * b, 1) * bytes;
  }, 0);
}

function asModelJson(value: unknown, path: string): tf.io.ModelJSON {
  const json = value as Partial<tf.io.ModelJSON> | null;
  if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object' || json.modelTopology === null) {
    throw new InputError(`${path}: not a TensorFlow.js model (no modelTopology)`, path);
  }
  if (json.format === 'graph-model') throw new InputError(`${path}: a TensorFlow.js graph model; RepSim reads layers models (tfjs-layers format)`, path);
  if (json.weightsManifest !== undefined && !Array.isArray(json.weightsManifest)) throw new InputError(`${path}: weightsManifest is not a list`, path);
  return json as tf.io.ModelJSON;
}

/** Reads every weight file of the manifest, in order, into one buffer; checks the size. */
async function readWeights(modelJsonPath: string, manifest: tf.io.WeightsManifestConfig): Promise<[tf.io.WeightsManifestEntry[], ArrayBuffer]> {
  const directory = dirname(modelJsonPath);
  const specs = manifest.flatMap((group) => group.weights);
  const parts: Uint8Array[] = [];
  for (const group of manifest) {
    for (const relativePath of group.paths) {
      if (isAbsolute(relativePath) || relativePath.includes('://')) throw new InputError(`${modelJsonPath}: weight path '${relativePath}' is not relative to the model`, modelJsonPath);
      parts.push(await readInputFile(resolve(directory, relativePath), `weights of ${basename(modelJsonPath)}`));
    }
  }
  const weights = Buffer.concat(parts);
  const expected = manifestBytes(specs);
  if (weights.byteLength !== expected) {
    throw new InputError(`${modelJsonPath}: the weight files hold ${weights.byteLength} bytes, the manifest describes ${expected} (truncated or mismatched weights)`, modelJsonPath);
  }
  return [specs, weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength)];
}

export interface FileHandlerOptions {
  /** Name of the weights file written next to model.json (default weights.bin). */
  readonly weightsFile?: string;
}

/** An IOHandler that saves to and loads from `modelJsonPath` and one weights file beside it. */
export function fileSystemHandler(modelJsonPath: string, options: FileHandlerOptions = {}): tf.io.IOHandler {
  const weightsFile = options.weightsFile ?? DEFAULT_WEIGHTS_FILE;
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('fileSystemHandler saves layers models (JSON topology) only');
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as {},
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      await writeFileAtomic(join(dirname(modelJsonPath), weightsFile), new Uint8Array(weightData));
      await writeFileAtomic(modelJsonPath, JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelJson = asModelJson(await readJsonFile(modelJsonPath, 'TensorFlow.js model'), modelJsonPath);
      return tf.io.getModelArtifactsForJSON(modelJson, (manifest) => readWeights(modelJsonPath, manifest));
    },
  };
}

/** `path` itself, or its model.json when it is a directory; InputError when neither exists. */
export async function resolveModelJsonPath(path: string): Promise<string> {
  try {
    return (await stat(path)).isDirectory() ? join(path, MODEL_FILE) : path;
  } catch {
    throw new InputError(`${path}: no such file or directory (expected a TensorFlow.js model: a model.json or the directory holding it)`, path);
  }
}

/** Saves `model` as `directory`/model.json plus its weights file, creating the directory. */
export async function saveLayersModel(model: tfl.LayersModel, directory: string, options: FileHandlerOptions = {}): Promise<void> {
  await mkdir(directory, { recursive: true });
  await model.save(fileSystemHandler(join(directory, MODEL_FILE), options));
}

/**
 * A fingerprint of a saved model's content: SHA-256 over its model.json and every weight file it
 * names, in order. Changes whenever the topology or any weight does, wherever the files are, and
 * whatever their modification times say (a folder's mtime does not change when a file in it is
 * rewritten in place).
 */
export async function savedModelFingerprint(path: string): Promise<string> {
  const modelJsonPath = await resolveModelJsonPath(path);
  const hash = createHash('sha256');
  const addFile = async (file: string, what: string) => {
    const stream = createReadStream(file);
    try {
      for await (const chunk of stream) hash.update(chunk as Buffer);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (error as Error).message})`} (${what})`, file);
    }
    hash.update(`\0${basename(file)}\0`);
  };
  const modelJson = asModelJson(await readJsonFile(modelJsonPath, 'TensorFlow.js model'), modelJsonPath);
  await addFile(modelJsonPath, 'TensorFlow.js model');
  for (const group of modelJson.weightsManifest ?? []) {
    for (const relativePath of group.paths) {
      if (isAbsolute(relativePath) || relativePath.includes('://')) throw new InputError(`${modelJsonPath}: weight path '${relativePath}' is not relative to the model`, modelJsonPath);
      await addFile(resolve(dirname(modelJsonPath), relativePath), `weights of ${basename(modelJsonPath)}`);
    }
  }
  return hash.digest('hex');
}

/**
 * Loads a TensorFlow.js LayersModel (e.g. to compare it) from a model.json or the directory
 * holding one. Any failure (missing or corrupt files, unknown layers) is an InputError naming the path.
 */
export async function loadLayersModelFromPath(path: string): Promise<tfl.LayersModel> {
  const modelJsonPath = await resolveModelJsonPath(path);
  try {
    return await tfl.loadLayersModel(fileSystemHandler(modelJsonPath));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${modelJsonPath}: cannot load the model: ${(error as Error).message.split('\n')[0]}`, modelJsonPath);
  }
}
