/**
 * Models named on the command line (`repsim cka`, `extract`, `match`, `layers`): an `.onnx`
 * file or a TensorFlow.js `model.json` (or its folder), run on the user's own inputs array
 * (`--inputs X.npy|X.npz`, examples on the first axis, fed as they are) to give activations.
 */
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { currentOnnxRuntime, type BackendReport } from '../engine/backend/index.js';
import { InputError } from '../engine/errors.js';
import { checkExampleIdCount } from '../engine/io/exampleIds.js';
import { readActivationArrays } from '../engine/io/files.js';
import type { NdArray } from '../engine/io/ndarray.js';
import { layerOutputs, planExecution, streamLayerOutputs } from '../engine/activations/layerStream.js';
import { parseLayerSelection, selectLayers } from '../engine/models/layerSelection.js';
import type { OnnxRuntime } from '../engine/onnx/runtime.js';
import { checkOnnxInputs, extractActivations, formatDims, layerCandidates, loadOnnxModel, onnxInputsEvaluation, parseOnnxLayerSelection, selectOnnxLayers, type OnnxLayerCandidate, type OnnxModelFile } from '../engine/onnx/import/index.js';
import type { LayerActivations } from '../engine/similarity/layers.js';
import { loadLayersModelFromPath } from '../engine/train/index.js';
import { UsageError } from './options.js';

export type ModelKind = 'onnx' | 'tfjs' | 'activations';

/** What a path on the command line names: an `.onnx` model, a TF.js model (model.json or a folder holding one), or activations. */
export async function modelKind(path: string): Promise<ModelKind> {
  const extension = extname(path).toLowerCase();
  if (extension === '.onnx') return 'onnx';
  if (extension === '.json') return 'tfjs';
  if (extension === '.npz' || extension === '.npy') return 'activations';
  const info = await stat(path).catch(() => null);
  return info?.isDirectory() ? 'tfjs' : 'activations';
}

/** The inputs array of `--inputs`: an .npy, or an .npz holding one array (or one named inputs / x). */
export async function readInputsArray(path: string): Promise<NdArray> {
  return (await readInputs(path)).array;
}

/** The inputs array of `--inputs` and, when an .npz has an `ids` array beside it, the examples' ids (one per example). */
export async function readInputs(path: string): Promise<{ readonly array: NdArray; readonly ids?: readonly string[] }> {
  const { arrays: entries, ids } = await readActivationArrays(path, { precision: 'float32' });
  const named = entries.length === 1 ? entries[0] : (entries.find((e) => e.name === 'inputs') ?? entries.find((e) => e.name === 'x' || e.name === 'X'));
  if (!named) throw new InputError(`${path}: holds ${entries.length} arrays (${entries.map((e) => e.name).join(', ')}); --inputs takes one array, or one named 'inputs' or 'x'`, path);
  checkExampleIdCount(ids, path, [{ name: named.name, shape: named.array.shape }]);
  return { array: named.array, ids };
}

export function onnxRuntimeOrFail(backend: BackendReport, path: string): OnnxRuntime {
  const runtime = currentOnnxRuntime();
  if (!runtime) throw new InputError(`${path}: ONNX models run on ONNX Runtime, which is not running here (${backend.onnxUnavailable ?? 'unavailable'})`, path);
  return runtime;
}

/** An ONNX model's layers chosen by `selection` (text), probed with the inputs' example shape when given. */
export async function onnxLayers(runtime: OnnxRuntime, file: OnnxModelFile, selection: string, exampleShape?: readonly number[]): Promise<OnnxLayerCandidate[]> {
  const candidates = await layerCandidates(runtime, file, { exampleShape });
  return selectOnnxLayers(file.path, candidates, parseOnnxLayerSelection(selection));
}

export interface ModelActivationOptions {
  readonly selection: string;
  readonly batchSize: number;
  readonly backend: BackendReport;
}

/** The selected layers' activations of the model at `path` over every example of `inputs`, in forward order. */
export async function modelActivations(path: string, inputs: NdArray, inputsPath: string, options: ModelActivationOptions): Promise<LayerActivations[]> {
  if ((await modelKind(path)) === 'onnx') {
    const runtime = onnxRuntimeOrFail(options.backend, path);
    const file = await loadOnnxModel(path);
    checkOnnxInputs(file, inputs, inputsPath);
    const layers = await onnxLayers(runtime, file, options.selection, inputs.shape.slice(1));
    const data = onnxInputsEvaluation(inputs, inputsPath, [file]);
    return extractActivations(runtime, file, layers, data, { batchSize: options.batchSize });
  }
  const model = await loadLayersModelFromPath(path);
  return tfjsActivations(model, path, inputs, inputsPath, options);
}

function tfjsActivations(model: tfl.LayersModel, path: string, inputs: NdArray, inputsPath: string, options: ModelActivationOptions): LayerActivations[] {
  const selection = parseLayerSelection(options.selection);
  if (typeof selection !== 'string' && selection.pattern.toLowerCase().startsWith('op:')) throw new UsageError(`${path}: op: selections are for ONNX models; use all, blocks or a pattern`, 'layers');
  const layers = selectLayers(model, selection);
  if (layers.length === 0) throw new InputError(`${path}: layer selection '${options.selection}' selects no layer`, path);
  const wanted = model.inputs[0].shape.slice(1);
  const example = inputs.shape.slice(1);
  if (wanted.length !== example.length || wanted.some((d, k) => d !== null && d !== example[k])) {
    throw new InputError(`${inputsPath}: inputs of shape ${formatDims(inputs.shape)} do not fit the input of ${path}, shape ${formatDims(model.inputs[0].shape)}`, inputsPath);
  }
  const count = inputs.shape[0];
  const size = example.reduce((a, b) => a * b, 1);
  const plan = planExecution(model);
  const selected = new Set(layers);
  const position = new Map(layers.map((name, i) => [name, i]));
  const known = new Set(layerOutputs(model, plan).map((l) => l.name));
  for (const name of layers) if (!known.has(name)) throw new InputError(`${path}: has no layer named '${name}'`, path);
  const results: { shape: number[]; data: Float32Array }[] = [];
  for (let start = 0; start < count; start += options.batchSize) {
    const end = Math.min(count, start + options.batchSize);
    const batch = Float32Array.from(inputs.data.subarray(start * size, end * size));
    const input = tf.tensor(batch, [end - start, ...example]);
    try {
      const output = streamLayerOutputs(model, plan, input, selected, (name, activations) => {
        const i = position.get(name)!;
        const values = activations.dataSync() as Float32Array;
        if (!results[i]) {
          const shape = [count, ...activations.shape.slice(1)];
          results[i] = { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
        }
        results[i].data.set(values, start * (results[i].data.length / count));
      });
      output.dispose();
    } finally {
      input.dispose();
    }
  }
  return layers.map((name, i) => ({ name, shape: results[i].shape, data: results[i].data }));
}
