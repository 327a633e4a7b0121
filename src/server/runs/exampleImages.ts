/**
 * The image of each evaluation example of a comparison, as 8-bit pixels: a dataset's test images
 * as they are stored (evaluation example e is test image e, as in testSetEvaluation), or the
 * user's own `data.inputs` when they look like images ([n, h, w, c] or [n, c, h, w] with one or
 * three channels), each scaled to 0‥255 by its own minimum and maximum.
 */
import type { ImageDataset } from '../../engine/data/index.js';
import { InputError } from '../../engine/errors.js';
import type { NdArray } from '../../engine/io/ndarray.js';
import type { ImageBytes } from '../output/thumbnailPng.js';

export interface ExampleImages {
  /** Evaluation examples there are: images 0‥count−1. */
  readonly count: number;
  image(example: number): ImageBytes;
}

/** The first `limit` (default: all) test images of a dataset. */
export function datasetExampleImages(dataset: ImageDataset, limit?: number): ExampleImages {
  const split = dataset.test;
  const size = split.height * split.width * split.channels;
  return {
    count: Math.min(limit ?? split.count, split.count),
    image: (e) => ({ height: split.height, width: split.width, channels: split.channels, pixels: split.images.subarray(e * size, (e + 1) * size) }),
  };
}

export type ImageLayout = 'NHWC' | 'NCHW';

/** How an array of examples holds images, or undefined when it does not look like images. Channels last wins a tie. */
export function imageLayoutOf(shape: readonly number[]): ImageLayout | undefined {
  if (shape.length !== 4 || shape.some((d) => !(d >= 1))) return undefined;
  if (shape[3] === 1 || shape[3] === 3) return 'NHWC';
  if (shape[1] === 1 || shape[1] === 3) return 'NCHW';
  return undefined;
}

/** The first `limit` (default: all) examples of the user's inputs array, each min-max scaled to 0‥255 (a flat image is mid-grey). */
export function inputsExampleImages(array: NdArray, source: string, limit?: number): ExampleImages {
  const { shape, data } = array;
  const layout = imageLayoutOf(shape);
  if (!layout) {
    throw new InputError(
      `${source}: the examples are not images (shape [${shape.join(', ')}]; images are [examples, height, width, channels] or [examples, channels, height, width] with 1 or 3 channels)`,
      source,
    );
  }
  const [n, d1, d2, d3] = shape;
  const [height, width, channels] = layout === 'NHWC' ? [d1, d2, d3] : [d2, d3, d1];
  const size = height * width * channels;
  return {
    count: Math.min(limit ?? n, n),
    image(e) {
      const values = data.subarray(e * size, (e + 1) * size);
      let min = Infinity;
      let max = -Infinity;
      for (const v of values) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const range = max - min;
      const pixels = new Uint8Array(size);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          for (let c = 0; c < channels; c++) {
            const v = values[layout === 'NHWC' ? (y * width + x) * channels + c : (c * height + y) * width + x];
            pixels[(y * width + x) * channels + c] = range > 0 && Number.isFinite(range) ? Math.round(((v - min) / range) * 255) : 128;
          }
        }
      }
      return { height, width, channels, pixels };
    },
  };
}
