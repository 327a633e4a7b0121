/**
 * The user's own inputs array (a .npy / .npz entry: their preprocessing, examples on the first
 * axis) fed to ONNX models as it is: its shape past the first axis must be each model's input
 * shape past the batch axis (dynamic axes take any size), and its dtype a float or integer one
 * whose values the model input's element type can hold (they are cast to it when fed).
 */
import type { EvaluationData } from '../../activations/evaluationData.js';
import { exampleIndices } from '../../activations/evaluationData.js';
import { InputError } from '../../errors.js';
import type { NdArray } from '../../io/ndarray.js';
import { formatDims, type OnnxModelFile } from './modelFile.js';
import { integerRange } from './tensors.js';

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}

/** A hint when the inputs are the model's shape with channels moved (NHWC data for an NCHW model, or the reverse). */
function layoutHint(example: readonly number[], wanted: readonly (number | string | null)[]): string {
  if (example.length !== 3 || wanted.length !== 3 || !wanted.every((d) => typeof d === 'number')) return '';
  const [a, b, c] = example;
  const w = wanted as number[];
  if (sameShape([c, a, b], w)) return ' (the inputs are channels-last, NHWC; the model takes channels-first, NCHW: transpose them, e.g. x.transpose(0, 3, 1, 2))';
  if (sameShape([b, c, a], w)) return ' (the inputs are channels-first, NCHW; the model takes channels-last, NHWC: transpose them, e.g. x.transpose(0, 2, 3, 1))';
  return '';
}

/** Checks `array` (read from `source`) against the model's input; an InputError naming both. */
export function checkOnnxInputs(file: OnnxModelFile, array: NdArray, source: string): void {
  const fail = (reason: string): never => {
    throw new InputError(`${source}: ${reason}`, source);
  };
  const { input } = file;
  if (array.dtype === 'bool') fail(`the inputs are bool; expected a float or integer array (for ${file.path}, whose input '${input.name}' is ${input.elementType})`);
  if (array.shape.length === 0 || array.shape[0] === 0) fail(`the inputs hold no examples (shape ${formatDims(array.shape)}); examples go on the first axis`);
  const example = array.shape.slice(1);
  if (input.dims !== null) {
    const wanted = input.dims.slice(1);
    const fits = wanted.length === example.length && wanted.every((d, k) => typeof d !== 'number' || d === example[k]);
    if (!fits) {
      fail(
        `inputs of shape ${formatDims(array.shape)} do not fit the input '${input.name}' of ${file.path}, shape ${formatDims(input.dims)}: ` +
          `one example is ${formatDims(example)}, the model takes ${formatDims(wanted)}${layoutHint(example, wanted)}`,
      );
    }
  }
  const range = integerRange(input.elementType);
  if (range && input.elementType !== 'bool') {
    const data = array.data;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!Number.isInteger(v)) {
        fail(`the input '${input.name}' of ${file.path} is ${input.elementType}, but the inputs (${array.dtype}) hold the non-integer ${v} at flat index ${i}`);
      }
      if (v < range[0] || v > range[1]) fail(`the input '${input.name}' of ${file.path} is ${input.elementType}, which cannot hold the value ${v} at flat index ${i}`);
    }
  }
}

export interface InputsEvaluationOptions {
  readonly labels?: ArrayLike<number>;
  readonly classNames?: readonly string[];
}

/** The inputs array as the examples of a comparison, checked against every model first. */
export function onnxInputsEvaluation(array: NdArray, source: string, models: readonly OnnxModelFile[], options: InputsEvaluationOptions = {}): EvaluationData {
  for (const model of models) checkOnnxInputs(model, array, source);
  const count = array.shape[0];
  const exampleShape = array.shape.slice(1);
  const size = exampleShape.reduce((a, b) => a * b, 1);
  const data = array.data;
  if (options.labels && options.labels.length !== count) {
    throw new InputError(`${source}: ${count} examples but ${options.labels.length} labels`, source);
  }
  return {
    count,
    exampleShape,
    labels: options.labels,
    classNames: options.classNames,
    inputs(examples) {
      if (!(examples instanceof Uint32Array) && data instanceof Float32Array) return data.subarray(examples.start * size, examples.end * size);
      const indices = exampleIndices(examples);
      const out = new Float32Array(indices.length * size);
      indices.forEach((index, k) => out.set(data.subarray(index * size, (index + 1) * size), k * size));
      return out;
    },
  };
}
