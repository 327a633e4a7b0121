/**
 * Training augmentation, as in the usual CIFAR ResNet recipe: pad the image with `padding`
 * zero (black) pixels on every side, take a random crop of the original size, then mirror it
 * left–right with probability ½. The padding is zero in pixel space, before normalisation, as
 * torchvision's RandomCrop(padding=4) does.
 */
import type { RandomSource } from '../random.js';

export const AUGMENT_PADDING = 4;

/**
 * Where the crop window sits and whether it is mirrored: the output pixel (y, x) is the input
 * pixel (y + shiftY, x′ + shiftX) with x′ = width − 1 − x when flipped, x otherwise; 0 where
 * that falls outside the input. Shifts lie in [−padding, padding].
 */
export interface ImageTransform {
  readonly shiftY: number;
  readonly shiftX: number;
  readonly flip: boolean;
}

export const IDENTITY_TRANSFORM: ImageTransform = { shiftY: 0, shiftX: 0, flip: false };

/** A random crop position in the padded image and a coin flip, drawn in that order. */
export function randomTransform(random: RandomSource, padding: number = AUGMENT_PADDING): ImageTransform {
  const positions = 2 * padding + 1;
  const shiftY = Math.floor(random() * positions) - padding;
  const shiftX = Math.floor(random() * positions) - padding;
  return { shiftY, shiftX, flip: random() < 0.5 };
}

/**
 * Writes `transform` of the HWC image at `source[sourceOffset…]` into `target` (height·width·
 * channels bytes).
 */
export function transformImage(
  source: Uint8Array,
  sourceOffset: number,
  height: number,
  width: number,
  channels: number,
  transform: ImageTransform,
  target: Uint8Array,
): void {
  const { shiftY, shiftX, flip } = transform;
  target.fill(0);
  const rowBytes = width * channels;
  for (let y = 0; y < height; y++) {
    const sourceY = y + shiftY;
    if (sourceY < 0 || sourceY >= height) continue;
    const sourceRow = sourceOffset + sourceY * rowBytes;
    const targetRow = y * rowBytes;
    if (!flip) {
      // A shifted row is one contiguous copy of the part that stays inside the image.
      const firstX = Math.max(0, -shiftX);
      const endX = Math.min(width, width - shiftX);
      if (endX > firstX) target.set(source.subarray(sourceRow + (firstX + shiftX) * channels, sourceRow + (endX + shiftX) * channels), targetRow + firstX * channels);
      continue;
    }
    for (let x = 0; x < width; x++) {
      const sourceX = width - 1 - x + shiftX;
      if (sourceX < 0 || sourceX >= width) continue;
      for (let c = 0; c < channels; c++) target[targetRow + x * channels + c] = source[sourceRow + sourceX * channels + c];
    }
  }
}
