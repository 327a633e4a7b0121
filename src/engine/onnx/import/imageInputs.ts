/**
 * The built-in datasets (Fashion-MNIST, CIFAR-10) fed to an ONNX model: RepSim holds their
 * batches as NHWC floats normalised by the dataset's own statistics (what its TF.js models
 * take); an ONNX model says its layout (`NCHW` for PyTorch exports, or `NHWC`) and its
 * normalisation, and each batch is turned into that before it is fed.
 *
 * Normalisation, on the [0, 1] pixel scale (torchvision's convention):
 * - `{ mean: [...], std: [...] }` per channel (one value: every channel): x = (p − mean) / std;
 * - `'scale'`: x = p, the pixels scaled to [0, 1];
 * - `'dataset'`: the dataset's own statistics, as RepSim's models are trained (the batch as it is).
 */
import { InputError } from '../../errors.js';
import type { Normalization } from '../../data/types.js';
import { formatDims, type OnnxModelFile } from './modelFile.js';
import type { OnnxInputTransform } from './runner.js';

export type OnnxLayout = 'NCHW' | 'NHWC';
export type OnnxNormalization = 'dataset' | 'scale' | { readonly mean: readonly number[]; readonly std: readonly number[] };

export interface OnnxImageInputSpec {
  readonly layout: OnnxLayout;
  readonly normalization: OnnxNormalization;
}

/** One example's shape in the model's layout, from the dataset's [height, width, channels]. */
export function imageExampleShape(layout: OnnxLayout, hwc: readonly number[]): number[] {
  const [h, w, c] = hwc;
  return layout === 'NCHW' ? [c, h, w] : [h, w, c];
}

/** Per channel: x_model = x_dataset · scale + shift (the dataset's normalisation undone, the model's applied). */
function channelAffine(normalization: OnnxNormalization, dataset: Normalization, channels: number, source: string): { scale: Float32Array; shift: Float32Array } {
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  const perChannel = (values: readonly number[], what: string): number[] => {
    if (values.length === 1) return new Array<number>(channels).fill(values[0]);
    if (values.length !== channels) throw new InputError(`${source}: the normalisation has ${values.length} ${what} values for images of ${channels} channel${channels === 1 ? '' : 's'}`, source);
    return [...values];
  };
  for (let c = 0; c < channels; c++) {
    // pixel on [0, 1]: p = x·σ_d + μ_d
    const sd = dataset.std[c] ?? dataset.std[0];
    const md = dataset.mean[c] ?? dataset.mean[0];
    if (normalization === 'dataset') {
      scale[c] = 1;
      shift[c] = 0;
    } else if (normalization === 'scale') {
      scale[c] = sd;
      shift[c] = md;
    } else {
      const mean = perChannel(normalization.mean, 'mean');
      const std = perChannel(normalization.std, 'std');
      if (mean.some((m) => !(Math.abs(m) <= 1.5)) || std.some((s) => !(s > 0 && s <= 1.5))) {
        throw new InputError(`${source}: the normalisation's mean and std are on the [0, 1] pixel scale (e.g. mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]); got mean [${mean.join(', ')}], std [${std.join(', ')}]`, source);
      }
      scale[c] = sd / std[c];
      shift[c] = (md - mean[c]) / std[c];
    }
  }
  return { scale, shift };
}

/**
 * The transform from the dataset's batches (NHWC, dataset-normalised) to the model's input;
 * `source` names the model (or the experiment entry) in errors.
 */
export function onnxImageTransform(spec: OnnxImageInputSpec, dataset: Normalization, source: string): OnnxInputTransform {
  const cache = new Map<number, { scale: Float32Array; shift: Float32Array }>();
  return (batch, rows, exampleShape) => {
    if (exampleShape.length !== 3) throw new InputError(`${source}: dataset examples of shape ${formatDims(exampleShape)} are not images [height, width, channels]`, source);
    const [h, w, c] = exampleShape;
    let affine = cache.get(c);
    if (!affine) cache.set(c, (affine = channelAffine(spec.normalization, dataset, c, source)));
    const { scale, shift } = affine;
    const out = new Float32Array(rows * h * w * c);
    const plane = h * w;
    for (let n = 0; n < rows; n++) {
      const base = n * plane * c;
      if (spec.layout === 'NHWC') {
        for (let i = 0; i < plane * c; i++) {
          const ch = i % c;
          out[base + i] = batch[base + i] * scale[ch] + shift[ch];
        }
      } else {
        for (let p = 0; p < plane; p++) {
          for (let ch = 0; ch < c; ch++) out[base + ch * plane + p] = batch[base + p * c + ch] * scale[ch] + shift[ch];
        }
      }
    }
    return { data: out, exampleShape: imageExampleShape(spec.layout, exampleShape) };
  };
}

/** Checks that the dataset's images, in the model's layout, fit its input; an InputError naming both shapes. */
export function checkImageInput(file: OnnxModelFile, spec: OnnxImageInputSpec, datasetName: string, hwc: readonly number[]): void {
  const example = imageExampleShape(spec.layout, hwc);
  const dims = file.input.dims;
  if (dims === null) return;
  const wanted = dims.slice(1);
  const fits = wanted.length === example.length && wanted.every((d, k) => typeof d !== 'number' || d === example[k]);
  if (!fits) {
    throw new InputError(
      `${file.path}: the input '${file.input.name}' has shape ${formatDims(dims)}, but ${datasetName} images in layout ${spec.layout} are ${formatDims(['n', ...example])}` +
        (wanted.length === 3 && spec.layout === 'NCHW' && wanted[2] === hwc[2] ? ' (the model looks channels-last: say layout NHWC)' : '') +
        (wanted.length === 3 && spec.layout === 'NHWC' && wanted[0] === hwc[2] ? ' (the model looks channels-first: say layout NCHW)' : ''),
      file.path,
    );
  }
}
