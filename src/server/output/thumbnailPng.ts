/**
 * One example image as a small PNG data URL, for a cell's drill-down: 8-bit pixels (HWC, one or
 * three channels) enlarged by a whole factor with nearest-neighbour, so that its shorter side is
 * at least THUMBNAIL_MIN_SIDE pixels and its pixels stay sharp.
 */
import { PNG } from 'pngjs';

export const THUMBNAIL_MIN_SIDE = 64;

/** An image as 8-bit pixels, row after row, each pixel's channels together (HWC). */
export interface ImageBytes {
  readonly height: number;
  readonly width: number;
  /** 1 (grey) or 3 (RGB). */
  readonly channels: number;
  readonly pixels: Uint8Array;
}

/** The whole enlargement factor that brings the shorter side to at least `minSide`. */
export function thumbnailScale(height: number, width: number, minSide = THUMBNAIL_MIN_SIDE): number {
  return Math.max(1, Math.ceil(minSide / Math.max(1, Math.min(height, width))));
}

/** The image as PNG bytes, enlarged (nearest-neighbour) to a thumbnail. */
export function thumbnailPng(image: ImageBytes, minSide = THUMBNAIL_MIN_SIDE): Buffer {
  const { height, width, channels, pixels } = image;
  if (channels !== 1 && channels !== 3) throw new Error(`an image has 1 or 3 channels, not ${channels}`);
  if (pixels.length !== height * width * channels) throw new Error(`${pixels.length} bytes for a ${height}×${width}×${channels} image`);
  const scale = thumbnailScale(height, width, minSide);
  const png = new PNG({ width: width * scale, height: height * scale });
  const out = png.data;
  for (let y = 0; y < height * scale; y++) {
    const row = Math.floor(y / scale) * width;
    for (let x = 0; x < width * scale; x++) {
      const from = (row + Math.floor(x / scale)) * channels;
      const to = (y * width * scale + x) * 4;
      out[to] = pixels[from];
      out[to + 1] = pixels[from + (channels === 3 ? 1 : 0)];
      out[to + 2] = pixels[from + (channels === 3 ? 2 : 0)];
      out[to + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** The image as a `data:image/png;base64,…` URL. */
export function thumbnailDataUrl(image: ImageBytes, minSide = THUMBNAIL_MIN_SIDE): string {
  return `data:image/png;base64,${thumbnailPng(image, minSide).toString('base64')}`;
}
