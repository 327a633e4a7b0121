/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a magic
 * number whose third byte is the element type (0x08: unsigned byte) and fourth the number of
 * dimensions, then each dimension as a big-endian uint32, then the elements. Files usually come
 * gzipped; both forms are read.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import type { ImageSplit } from './types.js';

/** 0x00000803: unsigned bytes, 3 dimensions (count, rows, columns). */
export const IDX_IMAGES_MAGIC = 2051;
/** 0x00000801: unsigned bytes, 1 dimension (count). */
export const IDX_LABELS_MAGIC = 2049;
const UNSIGNED_BYTE = 0x08;

export interface IdxArray {
  readonly dims: readonly number[];
  /** The elements, row-major; a view into the parsed bytes. */
  readonly data: Uint8Array;
}

/** True when `bytes` starts with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Inflates gzip data; damage or truncation (caught by gzip's CRC and length) is an InputError naming `source`. */
export function gunzip(bytes: Uint8Array, source: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR' ? 'truncated' : 'corrupt';
    throw new InputError(`${source}: ${reason} gzip data (${(error as Error).message})`, source);
  }
}

/**
 * Parses an unsigned-byte IDX file (gzipped or not) whose magic number must be `expectedMagic`.
 * The data must be exactly as long as the dimensions say.
 */
export function parseIdx(fileBytes: Uint8Array, source: string, expectedMagic: number): IdxArray {
  const fail = (reason: string): never => {
    throw new InputError(`${source}: ${reason}`, source);
  };
  const bytes = isGzip(fileBytes) ? gunzip(fileBytes, source) : fileBytes;
  if (bytes.length < 4) fail(`truncated IDX file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    const what = expectedMagic === IDX_IMAGES_MAGIC ? 'IDX images' : expectedMagic === IDX_LABELS_MAGIC ? 'IDX labels' : 'IDX';
    fail(`bad magic number ${magic}, expected ${expectedMagic} (not an ${what} file)`);
  }
  if (bytes[2] !== UNSIGNED_BYTE) fail(`IDX element type 0x${bytes[2].toString(16)} is not unsigned bytes (0x08)`);
  const rank = bytes[3];
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) fail(`truncated IDX header (${bytes.length} bytes, ${rank} dimensions)`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const elements = dims.reduce((product, dim) => product * dim, 1);
  const available = bytes.length - headerLength;
  if (available < elements) fail(`truncated: dimensions [${dims}] need ${elements} bytes of data, the file has ${available}`);
  if (available > elements) fail(`${available - elements} unexpected bytes after the data of dimensions [${dims}]`);
  return { dims, data: bytes.subarray(headerLength) };
}

/**
 * An image split from an IDX image file (count × rows × columns, one channel) and its IDX label
 * file. `classCount` bounds the labels.
 */
export function splitFromIdx(
  images: { readonly bytes: Uint8Array; readonly source: string },
  labels: { readonly bytes: Uint8Array; readonly source: string },
  classCount: number,
): ImageSplit {
  const imageArray = parseIdx(images.bytes, images.source, IDX_IMAGES_MAGIC);
  const labelArray = parseIdx(labels.bytes, labels.source, IDX_LABELS_MAGIC);
  if (imageArray.dims.length !== 3) {
    throw new InputError(`${images.source}: images have dimensions [${imageArray.dims}], expected [count, rows, columns]`, images.source);
  }
  const [count, height, width] = imageArray.dims;
  if (labelArray.dims[0] !== count) {
    throw new InputError(`${labels.source}: ${labelArray.dims[0]} labels for ${count} images in ${images.source}`, labels.source);
  }
  const badLabel = labelArray.data.findIndex((label) => label >= classCount);
  if (badLabel >= 0) {
    throw new InputError(`${labels.source}: label ${labelArray.data[badLabel]} at index ${badLabel} is not a class (expected 0‥${classCount - 1})`, labels.source);
  }
  // Copies, so that the split owns whole buffers (not views into the inflated file).
  return { count, height, width, channels: 1, images: imageArray.data.slice(), labels: labelArray.data.slice() };
}

/** Encodes unsigned bytes as an IDX file, gzipped unless `gzip` is false. */
export function encodeIdx(dims: readonly number[], data: Uint8Array, options: { gzip?: boolean } = {}): Uint8Array {
  const elements = dims.reduce((product, dim) => product * dim, 1);
  if (elements !== data.length) throw new RangeError(`dimensions [${dims}] need ${elements} bytes, got ${data.length}`);
  const bytes = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(bytes.buffer);
  bytes[2] = UNSIGNED_BYTE;
  bytes[3] = dims.length;
  dims.forEach((dim, i) => view.setUint32(4 + 4 * i, dim, false));
  bytes.set(data, 4 + 4 * dims.length);
  return options.gzip === false ? bytes : gzipSync(bytes, { level: 9 });
}
