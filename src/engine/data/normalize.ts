/**
 * Per-channel normalisation: x = (pixel / 255 − mean) / std, with mean and std measured on the
 * training split, on the [0, 1] scale.
 *
 * The statistics are computed rather than taken from published constants, so that every
 * dataset (the embedded subset included) is normalised by its own training images, the same
 * way. They are exact: a per-channel histogram of the 256 byte values is summed in doubles.
 * On the full training sets this should give the commonly reported values: CIFAR-10 mean ≈
 * (0.4914, 0.4822, 0.4465), std ≈ (0.2470, 0.2435, 0.2616) (the std over all pixels; the also
 * quoted (0.2023, 0.1994, 0.2010) is something else); Fashion-MNIST mean ≈ 0.2860, std ≈ 0.3530
 * (checked against Debian's copy). The embedded 2,000-image subset gets its own, close values.
 */
import type { ImageSplit, Normalization } from './types.js';

/** Mean and population standard deviation per channel of `split`'s pixels, on the [0, 1] scale. */
export function computeNormalization(split: ImageSplit): Normalization {
  const { channels, images } = split;
  const counts = new Float64Array(channels * 256); // channel c's histogram at c·256
  for (let c = 0; c < channels; c++) {
    const base = c << 8;
    for (let i = c; i < images.length; i += channels) counts[base + images[i]]++;
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    const histogram = counts.subarray(c * 256, (c + 1) * 256);
    let count = 0;
    let sum = 0;
    for (let value = 0; value < 256; value++) {
      count += histogram[value];
      sum += histogram[value] * (value / 255);
    }
    const channelMean = count > 0 ? sum / count : 0;
    let squares = 0;
    for (let value = 0; value < 256; value++) squares += histogram[value] * (value / 255 - channelMean) ** 2;
    const channelStd = count > 0 ? Math.sqrt(squares / count) : 0;
    mean.push(channelMean);
    // A constant channel carries no information; dividing by 1 just centres it.
    std.push(channelStd > 0 ? channelStd : 1);
  }
  return { mean, std };
}

/**
 * A lookup table: entry `channel·256 + byte` is that byte's normalised value in that channel.
 * Normalising an image is then one table read per pixel.
 */
export function normalizationTable(normalization: Normalization, channels: number): Float32Array {
  if (normalization.mean.length !== channels || normalization.std.length !== channels) {
    throw new RangeError(`normalisation has ${normalization.mean.length} means and ${normalization.std.length} stds for ${channels} channels`);
  }
  const table = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    for (let value = 0; value < 256; value++) table[c * 256 + value] = (value / 255 - normalization.mean[c]) / normalization.std[c];
  }
  return table;
}

/** Normalises `pixels` (HWC bytes) into `out` from `outOffset`. */
export function normalizeInto(pixels: Uint8Array, channels: number, table: Float32Array, out: Float32Array, outOffset: number): void {
  for (let i = 0, c = 0; i < pixels.length; i++) {
    out[outOffset + i] = table[c * 256 + pixels[i]];
    if (++c === channels) c = 0;
  }
}
