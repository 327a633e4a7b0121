import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../src/engine/random.js';
import {
  AUGMENT_PADDING,
  IDENTITY_TRANSFORM,
  batchCount,
  batches,
  computeNormalization,
  normalizationTable,
  normalizeInto,
  randomTransform,
  transformImage,
  type Batch,
  type ImageSplit,
  type ImageTransform,
  type Normalization,
} from '../../src/engine/data/index.js';
import { InputError } from '../../src/engine/errors.js';

/** A split whose pixel (image i, y, x, channel c) is a distinct-ish value, never 0. */
function makeSplit(count: number, height: number, width: number, channels: number): ImageSplit {
  const images = new Uint8Array(count * height * width * channels);
  for (let i = 0; i < images.length; i++) images[i] = 1 + ((i * 37) % 255);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { count, height, width, channels, images, labels };
}

const collect = (split: ImageSplit, normalization: Normalization, options: Parameters<typeof batches>[2]): Batch[] => [...batches(split, normalization, options)];
const UNIT: Normalization = { mean: [0, 0, 0], std: [1, 1, 1] };

// --- Normalisation --------------------------------------------------------------------------

test('computeNormalization: per-channel mean and population std on the [0, 1] scale', () => {
  // Channel 0 alternates 0 and 255 (mean ½, std ½); channel 1 is constant 51 (std 0 → 1); channel 2 is 0, 51, 102, 153.
  const images = Uint8Array.from([0, 51, 0, 255, 51, 51, 0, 51, 102, 255, 51, 153]);
  const normalization = computeNormalization({ count: 4, height: 1, width: 1, channels: 3, images, labels: new Uint8Array(4) });
  const values = [0, 0.2, 0.4, 0.6];
  const mean2 = 0.3;
  const std2 = Math.sqrt(values.reduce((sum, v) => sum + (v - mean2) ** 2, 0) / 4);
  assert.deepEqual(normalization.mean.map((m) => +m.toFixed(12)), [0.5, 0.2, mean2]);
  assert.deepEqual(normalization.std.map((s) => +s.toFixed(12)), [0.5, 1, +std2.toFixed(12)]);
});

test('normalised values are (pixel / 255 − mean) / std per channel', () => {
  const normalization = { mean: [0.5, 0.25], std: [0.5, 2] };
  const table = normalizationTable(normalization, 2);
  const out = new Float32Array(7);
  normalizeInto(Uint8Array.from([0, 0, 255, 255, 51, 102]), 2, table, out, 1);
  assert.deepEqual(Array.from(out), [0, -1, -0.125, 1, 0.375, -0.6, 0.075].map(Math.fround));
  assert.throws(() => normalizationTable(normalization, 3), RangeError);
});

// --- Augmentation ---------------------------------------------------------------------------

/** Reads pixel (y, x, c) of an HWC image. */
const at = (image: Uint8Array, width: number, channels: number, y: number, x: number, c: number) => image[(y * width + x) * channels + c];

test('a crop moves pixels by its offset and fills with zeros; a flip mirrors; crop then flip compose', () => {
  const [height, width, channels] = [5, 6, 2];
  const source = makeSplit(1, height, width, channels).images;
  const target = new Uint8Array(source.length);
  const transforms: ImageTransform[] = [
    { shiftY: 2, shiftX: -3, flip: false },
    { shiftY: -4, shiftX: 4, flip: false },
    { shiftY: 0, shiftX: 0, flip: true },
    { shiftY: -1, shiftX: 2, flip: true },
  ];
  for (const transform of transforms) {
    transformImage(source, 0, height, width, channels, transform, target);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const sourceY = y + transform.shiftY;
        const sourceX = (transform.flip ? width - 1 - x : x) + transform.shiftX;
        const inside = sourceY >= 0 && sourceY < height && sourceX >= 0 && sourceX < width;
        for (let c = 0; c < channels; c++) {
          const want = inside ? at(source, width, channels, sourceY, sourceX, c) : 0;
          assert.equal(at(target, width, channels, y, x, c), want, `${JSON.stringify(transform)} (${y},${x},${c})`);
        }
      }
    }
  }
  // Shift down by 2 and right by 3 (the crop window sits up-left): rows 0–1 and columns 0–2 are padding.
  transformImage(source, 0, height, width, channels, { shiftY: -2, shiftX: -3, flip: false }, target);
  assert.equal(at(target, width, channels, 1, 5, 0), 0);
  assert.equal(at(target, width, channels, 4, 2, 1), 0);
  assert.equal(at(target, width, channels, 2, 3, 0), at(source, width, channels, 0, 0, 0));
  assert.equal(at(target, width, channels, 4, 5, 1), at(source, width, channels, 2, 2, 1));
  // The identity copies; a flip of a flip is the identity.
  transformImage(source, 0, height, width, channels, IDENTITY_TRANSFORM, target);
  assert.deepEqual(target, source);
  const flipped = new Uint8Array(source.length);
  transformImage(source, 0, height, width, channels, { shiftY: 0, shiftX: 0, flip: true }, flipped);
  transformImage(flipped, 0, height, width, channels, { shiftY: 0, shiftX: 0, flip: true }, target);
  assert.deepEqual(target, source);
});

test('random transforms cover every offset in [−4, 4] and both flips', () => {
  const random = seededRandom(3);
  const shifts = new Set<number>();
  const flips = new Set<boolean>();
  for (let i = 0; i < 2000; i++) {
    const { shiftY, shiftX, flip } = randomTransform(random);
    shifts.add(shiftY).add(shiftX);
    flips.add(flip);
  }
  assert.deepEqual([...shifts].sort((a, b) => a - b), Array.from({ length: 2 * AUGMENT_PADDING + 1 }, (_, i) => i - AUGMENT_PADDING));
  assert.equal(flips.size, 2);
});

// --- Batches --------------------------------------------------------------------------------

test('batches in order: sizes, remainder, labels, indices and normalised values', () => {
  const split = makeSplit(10, 2, 3, 3);
  const normalization = { mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] };
  const all = collect(split, normalization, { batchSize: 4 });
  assert.deepEqual(all.map((b) => b.size), [4, 4, 2]);
  assert.equal(batchCount(split, { batchSize: 4 }), 3);
  assert.deepEqual(all.flatMap((b) => Array.from(b.indices)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(all.flatMap((b) => Array.from(b.labels)), Array.from(split.labels));
  const imageSize = 2 * 3 * 3;
  const last = all[2];
  assert.equal(last.x.length, 2 * imageSize);
  for (let i = 0; i < last.x.length; i++) {
    const c = i % 3;
    const pixel = split.images[8 * imageSize + i];
    assert.ok(Math.abs(last.x[i] - (pixel / 255 - normalization.mean[c]) / normalization.std[c]) < 1e-6);
  }

  const dropped = collect(split, UNIT, { batchSize: 4, dropRemainder: true });
  assert.deepEqual(dropped.map((b) => b.size), [4, 4]);
  assert.equal(batchCount(split, { batchSize: 4, dropRemainder: true }), 2);
  assert.deepEqual(collect(split, UNIT, { batchSize: 5, dropRemainder: true }).map((b) => b.size), [5, 5]);
  assert.deepEqual(collect(split, UNIT, { batchSize: 11, dropRemainder: true }), []);

  const limited = collect(split, UNIT, { batchSize: 3, limit: 7 });
  assert.deepEqual(limited.map((b) => b.size), [3, 3, 1]);
  assert.equal(batchCount(split, { batchSize: 3, limit: 7 }), 3);
  assert.deepEqual(collect(split, UNIT, { batchSize: 3, limit: 100 }).length, 4);
});

test('a shuffled epoch covers every index exactly once; the same seed repeats it, another seed does not', () => {
  const split = makeSplit(103, 4, 4, 3);
  const epoch = (seed: number, extra = {}) => collect(split, UNIT, { batchSize: 16, shuffle: true, seed, ...extra });
  const order = (batchList: Batch[]) => batchList.flatMap((b) => Array.from(b.indices));

  const first = epoch(7);
  assert.deepEqual([...order(first)].sort((a, b) => a - b), Array.from({ length: 103 }, (_, i) => i));
  assert.notDeepEqual(order(first), Array.from({ length: 103 }, (_, i) => i));
  for (const b of first) {
    b.indices.forEach((index, i) => assert.equal(b.labels[i], split.labels[index]));
  }
  assert.deepEqual(epoch(7), first);
  assert.notDeepEqual(order(epoch(8)), order(first));

  // A shuffled subset holds exactly the first `limit` examples.
  const subset = order(collect(split, UNIT, { batchSize: 8, shuffle: true, seed: 1, limit: 20 }));
  assert.deepEqual([...subset].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
  // Dropping the remainder drops the last (shuffled) examples only.
  const dropped = order(epoch(7, { dropRemainder: true }));
  assert.deepEqual(dropped, order(first).slice(0, 96));
});

test('augmented batches: reproducible from the seed, each image a crop/flip of its source, order unchanged', () => {
  const [height, width, channels] = [6, 6, 3];
  const split = makeSplit(12, height, width, channels);
  const normalization = computeNormalization(split);
  const options = { batchSize: 5, shuffle: true, seed: 11, augment: true };
  const augmented = collect(split, normalization, options);
  assert.deepEqual(collect(split, normalization, options), augmented);
  assert.notDeepEqual(collect(split, normalization, { ...options, seed: 12 }).map((b) => b.x), augmented.map((b) => b.x));
  const plain = collect(split, normalization, { ...options, augment: false });
  assert.deepEqual(augmented.map((b) => b.indices), plain.map((b) => b.indices), 'augmentation does not change the order');

  // Every augmented image is the normalised transform of its source image by one of the
  // 9 × 9 × 2 possible crops and flips, and not all of them are the identity.
  const table = normalizationTable(normalization, channels);
  const imageSize = height * width * channels;
  const transformed = new Uint8Array(imageSize);
  const expected = new Float32Array(imageSize);
  const candidates: ImageTransform[] = [];
  for (let shiftY = -AUGMENT_PADDING; shiftY <= AUGMENT_PADDING; shiftY++) {
    for (let shiftX = -AUGMENT_PADDING; shiftX <= AUGMENT_PADDING; shiftX++) for (const flip of [false, true]) candidates.push({ shiftY, shiftX, flip });
  }
  let identities = 0;
  let images = 0;
  for (const b of augmented) {
    for (let i = 0; i < b.size; i++) {
      const actual = b.x.subarray(i * imageSize, (i + 1) * imageSize);
      const match = candidates.find((transform) => {
        transformImage(split.images, b.indices[i] * imageSize, height, width, channels, transform, transformed);
        normalizeInto(transformed, channels, table, expected, 0);
        return expected.every((v, j) => v === actual[j]);
      });
      assert.ok(match, `batch image ${i} is a crop/flip of example ${b.indices[i]}`);
      if (match.shiftX === 0 && match.shiftY === 0 && !match.flip) identities++;
      images++;
    }
  }
  assert.equal(images, 12);
  assert.ok(identities < images / 2, `${identities} of ${images} images unchanged`);
  // Padding is black before normalisation: (0 − mean) / std.
  const padded = collect(makeSplit(200, height, width, channels), normalization, options).flatMap((b) => Array.from(b.x));
  const blackValues = normalization.mean.map((m, c) => Math.fround((0 - m) / normalization.std[c]));
  assert.ok(blackValues.some((v) => padded.includes(v)), 'some padding appears');
});

test('bad batch options are InputErrors', () => {
  const split = makeSplit(4, 1, 1, 3);
  for (const options of [{ batchSize: 0 }, { batchSize: 2.5 }, { batchSize: 2, limit: -1 }, { batchSize: 2, seed: NaN }]) {
    assert.throws(() => collect(split, UNIT, options), InputError, JSON.stringify(options));
  }
});
