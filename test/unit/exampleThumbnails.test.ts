/**
 * Example thumbnails: nearest-neighbour enlargement to at least 64 px, grey and RGB pixels, and
 * the user's inputs read as images (channels last or first), each min-max scaled; arrays that
 * are not images refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { InputError } from '../../src/engine/errors.js';
import { imageLayoutOf, inputsExampleImages } from '../../src/server/runs/exampleImages.js';
import { thumbnailDataUrl, thumbnailPng, thumbnailScale } from '../../src/server/output/thumbnailPng.js';

const rgba = (png: PNG, x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 4)];

test('thumbnails: enlarged by a whole factor to at least 64 px, nearest-neighbour, grey or RGB', () => {
  assert.equal(thumbnailScale(28, 28), 3);
  assert.equal(thumbnailScale(32, 32), 2);
  assert.equal(thumbnailScale(224, 100), 1);
  const grey = PNG.sync.read(thumbnailPng({ height: 2, width: 3, channels: 1, pixels: Uint8Array.from([0, 50, 100, 150, 200, 250]) }));
  assert.deepEqual([grey.width, grey.height], [96, 64]);
  assert.deepEqual(rgba(grey, 0, 0), [0, 0, 0, 255]);
  assert.deepEqual(rgba(grey, 31, 31), [0, 0, 0, 255]);
  assert.deepEqual(rgba(grey, 32, 31), [50, 50, 50, 255]);
  assert.deepEqual(rgba(grey, 95, 63), [250, 250, 250, 255]);
  const colour = PNG.sync.read(thumbnailPng({ height: 1, width: 2, channels: 3, pixels: Uint8Array.from([255, 0, 0, 0, 0, 255]) }));
  assert.deepEqual(rgba(colour, 63, 10), [255, 0, 0, 255]);
  assert.deepEqual(rgba(colour, 64, 10), [0, 0, 255, 255]);
  assert.match(thumbnailDataUrl({ height: 1, width: 1, channels: 1, pixels: Uint8Array.of(7) }), /^data:image\/png;base64,iVBORw0KGgo/);
});

test('inputs as images: channels last or first, min-max scaled per image; limited to the evaluation examples', () => {
  assert.equal(imageLayoutOf([5, 8, 8, 3]), 'NHWC');
  assert.equal(imageLayoutOf([5, 1, 8, 8]), 'NCHW');
  assert.equal(imageLayoutOf([5, 8, 8, 4]), undefined);
  assert.equal(imageLayoutOf([5, 64]), undefined);
  // Two 1×2 RGB images, channels first: image 0 is [[r g b], [r g b]] per pixel.
  const nchw = { dtype: 'float32' as const, shape: [2, 3, 1, 2], data: Float32Array.from([0, 1, 2, 3, 4, 5, /* image 1: flat */ 7, 7, 7, 7, 7, 7]) };
  const images = inputsExampleImages(nchw, 'inputs.npy');
  assert.equal(images.count, 2);
  const first = images.image(0);
  assert.deepEqual([first.height, first.width, first.channels], [1, 2, 3]);
  assert.deepEqual([...first.pixels], [0, 102, 204, 51, 153, 255]);
  assert.deepEqual([...images.image(1).pixels], [128, 128, 128, 128, 128, 128]);
  const nhwc = { dtype: 'float32' as const, shape: [3, 1, 2, 1], data: Float32Array.from([-1, 1, 0, 2, 5, 5]) };
  const grey = inputsExampleImages(nhwc, 'inputs.npy', 2);
  assert.equal(grey.count, 2);
  assert.deepEqual([...grey.image(1).pixels], [0, 255]);
});

test('inputs that are not images are refused, naming the file and the shape', () => {
  assert.throws(
    () => inputsExampleImages({ dtype: 'float32' as const, shape: [4, 10], data: new Float32Array(40) }, 'features.npy'),
    (error: unknown) => error instanceof InputError && /^features\.npy: the examples are not images \(shape \[4, 10\]/.test(error.message),
  );
});
