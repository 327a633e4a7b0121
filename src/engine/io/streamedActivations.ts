/**
 * Activation files too large to read at once (Node reads at most 2 GiB into one buffer; an early
 * conv layer over CIFAR-10's 10,000 test images alone is 2.6 GB): the archive's directory and
 * each array's header are read, and the rows of a batch are read from the file when the batch
 * is computed.
 *
 * - A `.npy`, or an `.npz` member stored without compression (`np.savez`) in C order, streams:
 *   its rows lie at fixed offsets. It is checked once when opened, in one sequential pass (the
 *   CRC-32 of an `.npz` member, and that every value is finite), so a damaged or NaN-holding
 *   file fails at once, naming the file and layer, rather than halfway through a comparison.
 * - A compressed member (`np.savez_compressed`) or a Fortran-order array has no row offsets: it
 *   is read whole when it is small enough to hold, and otherwise refused with what to do instead.
 *
 * Each read opens the file, checks that it is still the file that was opened (size and
 * modification time), reads and closes it, so nothing is left open between batches.
 */
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { basename, extname } from 'node:path';
import { InputError } from '../errors.js';
import type { BatchPlan } from '../similarity/schedule.js';
import { unravelIndex, firstNonFiniteIndex, size } from './ndarray.js';
import { checkNpyDataLength, decodeNpyElements, npyHeaderEnd, NPY_HEADER_PROBE_BYTES, parseNpy, parseNpyHeader, type NpyHeader } from './npy.js';
import { crc32, METHOD_DEFLATE, METHOD_STORED, npzMembers, printable, ZipReader, type ByteSource, type ZipEntry } from './npz.js';
import { splitExampleIds, type WithExampleIds } from './exampleIds.js';

/** A layer whose rows are read from its file batch by batch. */
export interface StreamedArray {
  readonly name: string;
  readonly shape: readonly number[];
  /** `file:layer`, for messages. */
  readonly source: string;
  /** The rows of a batch (a range or a list of example indices), row-major float32. */
  readRows(examples: BatchPlan['examples']): Float32Array;
}

/** An array of a large file that was small enough, or had to be, read whole. */
export interface WholeArray {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
  readonly dtype: string;
}

export interface StreamOptions {
  /** A compressed or Fortran-order member up to this many bytes (uncompressed) is read whole; larger ones are refused. */
  readonly wholeMemberLimit: number;
}

/** Bytes read at a time by the opening check. */
const SCAN_CHUNK_BYTES = 16 * 1024 * 1024;
/** Window of the cache that serves the zip directory's small reads. */
const DIRECTORY_WINDOW_BYTES = 256 * 1024;

const GIB = 1024 ** 3;

/** The arrays of a large activation file, in archive order: streamed where possible; an `.npz`'s `ids` array read whole as its example ids. */
export function openLargeActivationFile(path: string, options: StreamOptions): WithExampleIds<StreamedArray | WholeArray> {
  const file = new LargeFile(path);
  try {
    const start = file.read(0, Math.min(file.length, 8));
    const isZip = start[0] === 0x50 && start[1] === 0x4b; // "PK"
    const isNpy = start[0] === 0x93 && start[1] === 0x4e; // "\x93N"
    if (isZip || (!isNpy && extname(path).toLowerCase() === '.npz')) return openNpz(file, options);
    return { arrays: [openMember(file, basename(path, extname(path)), path, 0, file.length, undefined, options)] };
  } finally {
    file.close();
  }
}

function openNpz(file: LargeFile, options: StreamOptions): WithExampleIds<StreamedArray | WholeArray> {
  const fail = (reason: string): never => {
    throw new InputError(`${file.path}: ${reason}`, file.path);
  };
  const start = file.read(0, Math.min(file.length, 2));
  if (!(start[0] === 0x50 && start[1] === 0x4b)) fail('not an .npz file (not a zip archive)');
  const zip = new ZipReader(file.directorySource(), fail);
  return splitExampleIds(npzMembers(zip, fail), file.path, ({ entry }) => zip.contents(entry), ({ name, entry }): StreamedArray | WholeArray => {
    const source = `${file.path}:${printable(name)}`;
    const dataStart = zip.dataOffset(entry);
    if (entry.method === METHOD_STORED) {
      if (entry.compressedSize !== entry.size) fail(`corrupt .npz archive ('${printable(entry.name)}' is stored with ${entry.compressedSize} bytes, its header says ${entry.size})`);
      return openMember(file, name, source, dataStart, entry.size, entry, options);
    }
    if (entry.method === METHOD_DEFLATE && entry.size > options.wholeMemberLimit) {
      throw new InputError(
        `${source}: compressed (np.savez_compressed) and ${gib(entry.size)} when inflated, too large to hold in memory: save the activations with np.savez (uncompressed), whose arrays RepSim reads batch by batch`,
        source,
      );
    }
    // Small enough to inflate whole (or an unknown method, which contents() names).
    const array = parseNpy(zip.contents(entry), source);
    return { name, shape: array.shape, data: array.data as Float32Array, dtype: array.dtype };
  });
}

/** A `.npy` at [offset, offset + length) of the file (the whole file, or a stored `.npz` member). */
function openMember(file: LargeFile, name: string, source: string, offset: number, length: number, entry: ZipEntry | undefined, options: StreamOptions): StreamedArray | WholeArray {
  const probe = file.read(offset, Math.min(length, NPY_HEADER_PROBE_BYTES));
  const headerEnd = npyHeaderEnd(probe);
  const header = parseNpyHeader(headerEnd !== null && headerEnd > probe.length && headerEnd <= length ? file.read(offset, headerEnd) : probe, source);
  checkNpyDataLength(header, length - header.dataStart, source);
  if (header.fortranOrder && header.shape.filter((extent) => extent > 1).length > 1) {
    if (length > options.wholeMemberLimit) {
      throw new InputError(`${source}: stored in Fortran order and ${gib(length)}, too large to hold in memory: save it in C order (np.ascontiguousarray), whose rows RepSim reads batch by batch`, source);
    }
    const bytes = file.read(offset, length);
    if (entry && crc32(bytes) !== entry.crc32) throw new InputError(`${file.path}: corrupt .npz archive (CRC-32 mismatch in '${printable(entry.name)}')`, file.path);
    const array = parseNpy(bytes, source);
    return { name, shape: array.shape, data: array.data as Float32Array, dtype: array.dtype };
  }
  scanMember(file, source, offset, length, header, entry);
  return streamedArray(file.path, file.identity, name, source, offset + header.dataStart, header);
}

/** One sequential pass: the member's CRC-32 (in an .npz) and that every value is finite. */
function scanMember(file: LargeFile, source: string, offset: number, length: number, header: NpyHeader, entry: ZipEntry | undefined): void {
  let crc = entry ? crc32(file.read(offset, header.dataStart)) : 0;
  const itemSize = header.dtype.itemSize;
  const chunkBytes = SCAN_CHUNK_BYTES - (SCAN_CHUNK_BYTES % itemSize);
  const dataStart = offset + header.dataStart;
  for (let done = 0; done < header.dataBytes; done += chunkBytes) {
    const bytes = file.read(dataStart + done, Math.min(chunkBytes, header.dataBytes - done));
    if (entry) crc = crc32(bytes, crc);
    const values = decodeNpyElements(bytes, header);
    const bad = firstNonFiniteIndex(values);
    if (bad >= 0) {
      const flat = done / itemSize + bad;
      const overflow = !Number.isNaN(values[bad]) && header.dtype.name === 'float64' ? ' (or a float64 value beyond the float32 range)' : '';
      throw new InputError(`${source}: value at [${unravelIndex(flat, header.shape).join(', ')}] is ${values[bad]}${overflow}; activations must be finite`, source);
    }
  }
  if (entry) {
    const rest = length - header.dataStart - header.dataBytes; // 0: checkNpyDataLength made sure
    if (rest > 0) crc = crc32(file.read(dataStart + header.dataBytes, rest), crc);
    if (crc >>> 0 !== entry.crc32) throw new InputError(`${file.path}: corrupt .npz archive (CRC-32 mismatch in '${printable(entry.name)}')`, file.path);
  }
}

function streamedArray(path: string, identity: FileIdentity, name: string, source: string, dataStart: number, header: NpyHeader): StreamedArray {
  const rowValues = size(header.shape.slice(1));
  const rowBytes = rowValues * header.dtype.itemSize;
  const rows = header.shape[0] ?? 0;
  const checkRow = (row: number) => {
    if (!(row >= 0 && row < rows)) throw new RangeError(`${source}: row ${row} is outside 0‥${rows - 1}`);
  };
  return {
    name,
    shape: header.shape,
    source,
    readRows(examples) {
      const file = new LargeFile(path, identity);
      try {
        if (!(examples instanceof Uint32Array)) {
          const count = examples.end - examples.start;
          if (count === 0) return new Float32Array(0);
          checkRow(examples.start);
          checkRow(examples.end - 1);
          return decodeNpyElements(file.read(dataStart + examples.start * rowBytes, count * rowBytes), header);
        }
        // Shuffled rows: read runs of consecutive rows in file order, place each row where the batch wants it.
        const out = new Float32Array(examples.length * rowValues);
        const order = Array.from(examples.keys()).sort((i, j) => examples[i] - examples[j]);
        for (let k = 0; k < order.length; ) {
          let end = k + 1;
          while (end < order.length && examples[order[end]] === examples[order[end - 1]] + 1) end++;
          const first = examples[order[k]];
          checkRow(first);
          checkRow(examples[order[end - 1]]);
          const values = decodeNpyElements(file.read(dataStart + first * rowBytes, (end - k) * rowBytes), header);
          for (let r = k; r < end; r++) out.set(values.subarray((r - k) * rowValues, (r - k + 1) * rowValues), order[r] * rowValues);
          k = end;
        }
        return out;
      } finally {
        file.close();
      }
    },
  };
}

function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

interface FileIdentity {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

function identityOf(stats: Stats): FileIdentity {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino };
}

/** A file open for reading at offsets; with `expected`, it must still be that file. */
class LargeFile {
  readonly fd: number;
  readonly identity: FileIdentity;

  constructor(
    readonly path: string,
    expected?: FileIdentity,
  ) {
    try {
      this.fd = openSync(path, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (error as Error).message})`}`, path);
    }
    this.identity = identityOf(fstatSync(this.fd));
    if (expected && (expected.size !== this.identity.size || expected.mtimeMs !== this.identity.mtimeMs || expected.ino !== this.identity.ino)) {
      this.close();
      throw new InputError(`${path}: the file changed while it was being read; run again`, path);
    }
  }

  get length(): number {
    return this.identity.size;
  }

  /** `length` bytes at `offset`, in a buffer of their own (aligned for typed-array views). */
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || offset + length > this.identity.size) throw new InputError(`${this.path}: truncated (needs bytes up to ${offset + length}, the file has ${this.identity.size})`, this.path);
    // Not zero-filled (every byte is read below), and its own ArrayBuffer at offset 0, so views are aligned.
    const out: Uint8Array = Buffer.allocUnsafeSlow(length);
    let done = 0;
    while (done < length) {
      // readSync reads at most 2 GiB at a time
      const read = readSync(this.fd, out, done, Math.min(length - done, 0x40000000), offset + done);
      if (read === 0) throw new InputError(`${this.path}: truncated while reading`, this.path);
      done += read;
    }
    return out;
  }

  /** For the zip directory's many small reads: a window cache in front of `read`. */
  directorySource(): ByteSource {
    let windowStart = 0;
    let window: Uint8Array = new Uint8Array(0);
    return {
      length: this.length,
      read: (offset, length) => {
        if (offset >= windowStart && offset + length <= windowStart + window.length) return window.subarray(offset - windowStart, offset - windowStart + length);
        if (length >= DIRECTORY_WINDOW_BYTES) return this.read(offset, length);
        windowStart = offset;
        window = this.read(offset, Math.min(DIRECTORY_WINDOW_BYTES, this.length - offset));
        return window.subarray(0, length);
      },
    };
  }

  close(): void {
    closeSync(this.fd);
  }
}
