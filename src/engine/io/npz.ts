/**
 * NumPy `.npz` archives: a zip of `.npy` files, one per array, as written by `np.savez`
 * (stored) and `np.savez_compressed` (deflate).
 *
 * The zip structure is read here rather than with fflate's `unzipSync`, which returns entries
 * keyed by name (losing the archive order for integer-like names), does not check CRCs (so a
 * damaged stored archive would yield wrong numbers silently) and trusts the central
 * directory's offsets. fflate still does the inflating and all the writing.
 */
import { inflateSync, zipSync, type Zippable } from 'fflate';
import { InputError } from '../errors.js';
import type { NdArray, ReadOptions } from './ndarray.js';
import { encodeNpy, parseNpy, type EncodableArray } from './npy.js';

export interface NpzEntry {
  /** The entry's name without its `.npy` suffix: the keyword given to `np.savez`. */
  readonly name: string;
  readonly array: NdArray;
}

const NPY_SUFFIX = '.npy';

/**
 * Parses an `.npz` archive into its arrays in archive order (the order numpy.savez wrote
 * them: its keyword arguments' order). `source` names the file in errors; an entry is named
 * `source:entry`.
 */
export function parseNpz(bytes: Uint8Array, source: string, options: ReadOptions = {}): NpzEntry[] {
  return npzMemberBytes(bytes, source).map((member) => ({ name: member.name, array: parseNpy(member.bytes(), member.source, options) }));
}

/** One array of an archive, not yet parsed: its name, `source:name` for messages, and its `.npy` bytes. */
export interface NpzMember {
  readonly name: string;
  readonly source: string;
  /** The member's `.npy` bytes, inflated and checked against its CRC-32 when asked for. */
  bytes(): Uint8Array;
}

/** The arrays of an `.npz` archive as `.npy` bytes, in archive order, for callers that parse some differently. */
export function npzMemberBytes(bytes: Uint8Array, source: string): NpzMember[] {
  const fail = (reason: string): never => {
    throw new InputError(`${source}: ${reason}`, source);
  };
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b)) fail('not an .npz file (not a zip archive)');
  const zip = new ZipReader(memorySource(bytes), fail);
  return npzMembers(zip, fail).map(({ name, entry }) => ({ name, source: `${source}:${printable(name)}`, bytes: () => zip.contents(entry) }));
}

/** The archive's arrays (directories skipped), named without `.npy`, each name once; in archive order. */
export function npzMembers(zip: ZipReader, fail: (reason: string) => never): { name: string; entry: ZipEntry }[] {
  const files = zip.entries().filter((entry) => !entry.name.endsWith('/')); // skip directories
  if (files.length === 0) fail('the .npz archive holds no arrays');
  const names = new Set<string>();
  return files.map((entry) => {
    const name = entry.name.endsWith(NPY_SUFFIX) ? entry.name.slice(0, -NPY_SUFFIX.length) : entry.name;
    if (names.has(name)) fail(`the .npz archive holds '${printable(name)}' twice`);
    names.add(name);
    return { name, entry };
  });
}

/** An entry name fit for a one-line message: control characters escaped. */
export function printable(name: string): string {
  return name.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

// --- Zip reading (APPNOTE.TXT, zip64 included: numpy.savez forces it) ----------------------

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const SIGNATURE = {
  localHeader: 0x04034b50,
  centralHeader: 0x02014b50,
  endOfCentralDirectory: 0x06054b50,
  zip64Locator: 0x07064b50,
  zip64EndOfCentralDirectory: 0x06064b50,
} as const;
const ZIP64_EXTRA_FIELD = 0x0001;
const U32_MAX = 0xffffffff;
export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;
const FLAG_ENCRYPTED = 0x1;

/**
 * Random access to an archive's bytes: the whole file in memory, or a file read piece by piece
 * (archives too large to read at once).
 */
export interface ByteSource {
  readonly length: number;
  /** `length` bytes from `offset`; the caller has checked the bounds. May be a view into a cache. */
  read(offset: number, length: number): Uint8Array;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return { length: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

export class ZipReader {
  constructor(
    private readonly source: ByteSource,
    private readonly fail: (reason: string) => never,
  ) {}

  /** The central directory's entries, in order. */
  entries(): ZipEntry[] {
    const { count, offset: start } = this.centralDirectoryLocation();
    let offset = start;
    const entries: ZipEntry[] = [];
    for (let i = 0; i < count; i++) {
      if (this.u32(offset) !== SIGNATURE.centralHeader) this.corrupt(`bad central directory entry ${i}`);
      const nameLength = this.u16(offset + 28);
      const extraLength = this.u16(offset + 30);
      const commentLength = this.u16(offset + 32);
      const name = new TextDecoder().decode(this.slice(offset + 46, nameLength));
      const zip64 = this.zip64Extra(offset + 46 + nameLength, extraLength);
      // Fields saturated at 0xFFFFFFFF live in the zip64 extra field, in this order.
      let size = this.u32(offset + 24);
      let compressedSize = this.u32(offset + 20);
      let localHeaderOffset = this.u32(offset + 42);
      if (size === U32_MAX) size = zip64.next(name);
      if (compressedSize === U32_MAX) compressedSize = zip64.next(name);
      if (localHeaderOffset === U32_MAX) localHeaderOffset = zip64.next(name);
      entries.push({
        name,
        flags: this.u16(offset + 8),
        method: this.u16(offset + 10),
        crc32: this.u32(offset + 16),
        compressedSize,
        size,
        localHeaderOffset,
      });
      offset += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
  }

  /** Where an entry's (possibly compressed) data starts, after its local header; checks it is not encrypted and ends inside the file. */
  dataOffset(entry: ZipEntry): number {
    const where = `'${printable(entry.name)}'`;
    if (entry.flags & FLAG_ENCRYPTED) this.fail(`${where} is encrypted`);
    const header = entry.localHeaderOffset;
    if (this.u32(header) !== SIGNATURE.localHeader) this.corrupt(`no local header for ${where}`);
    const dataStart = header + 30 + this.u16(header + 26) + this.u16(header + 28);
    this.checkBounds(dataStart, entry.compressedSize);
    return dataStart;
  }

  /** An entry's uncompressed bytes, checked against its size and CRC-32. */
  contents(entry: ZipEntry): Uint8Array {
    const where = `'${printable(entry.name)}'`;
    const stored = this.slice(this.dataOffset(entry), entry.compressedSize);

    let data: Uint8Array;
    if (entry.method === METHOD_STORED) data = stored;
    else if (entry.method === METHOD_DEFLATE) data = this.inflate(stored, entry.size, where);
    else return this.fail(`${where} uses zip compression method ${entry.method}; expected stored or deflate`);

    if (data.length !== entry.size) this.corrupt(`${where} has ${data.length} bytes, its header says ${entry.size}`);
    if (crc32(data) !== entry.crc32) this.corrupt(`CRC-32 mismatch in ${where}`);
    return data;
  }

  private inflate(compressed: Uint8Array, size: number, where: string): Uint8Array {
    try {
      return inflateSync(compressed, { out: new Uint8Array(size) });
    } catch (error) {
      return this.corrupt(`cannot inflate ${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private centralDirectoryLocation(): { count: number; offset: number } {
    const end = this.findEndOfCentralDirectory();
    const locator = end - 20;
    if (locator >= 0 && this.u32(locator) === SIGNATURE.zip64Locator) {
      const record = this.u64(locator + 8);
      if (this.u32(record) !== SIGNATURE.zip64EndOfCentralDirectory) this.corrupt('bad zip64 end of central directory');
      return { count: this.u64(record + 32), offset: this.u64(record + 48) };
    }
    return { count: this.u16(end + 10), offset: this.u32(end + 16) };
  }

  /** The end record is 22 bytes plus a comment of up to 65535 bytes, at the end of the file. */
  private findEndOfCentralDirectory(): number {
    const length = this.source.length;
    const lowest = Math.max(0, length - 22 - 0xffff);
    if (length < 22) return this.corrupt('no end-of-central-directory record; truncated?');
    const tail = this.source.read(lowest, length - lowest);
    const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    for (let offset = length - 22; offset >= lowest; offset--) {
      if (view.getUint32(offset - lowest, true) === SIGNATURE.endOfCentralDirectory) return offset;
    }
    return this.corrupt('no end-of-central-directory record; truncated?');
  }

  /** Reads the zip64 extra field's 64-bit values one after another. */
  private zip64Extra(start: number, length: number): { next(name: string): number } {
    let cursor = -1;
    for (let field = start; field + 4 <= start + length; field += 4 + this.u16(field + 2)) {
      if (this.u16(field) === ZIP64_EXTRA_FIELD) {
        cursor = field + 4;
        break;
      }
    }
    return {
      next: (name) => {
        if (cursor < 0) this.corrupt(`'${printable(name)}' lacks its zip64 sizes`);
        const value = this.u64(cursor);
        cursor += 8;
        return value;
      },
    };
  }

  private corrupt(reason: string): never {
    return this.fail(`corrupt .npz archive (${reason})`);
  }

  private slice(offset: number, length: number): Uint8Array {
    this.checkBounds(offset, length);
    return this.source.read(offset, length);
  }

  private checkBounds(offset: number, length: number): void {
    if (offset < 0 || offset + length > this.source.length) this.corrupt('an entry points past the end of the file');
  }

  private field(offset: number, length: number): DataView {
    const bytes = this.slice(offset, length);
    return new DataView(bytes.buffer, bytes.byteOffset, length);
  }

  private u16(offset: number): number {
    return this.field(offset, 2).getUint16(0, true);
  }

  private u32(offset: number): number {
    return this.field(offset, 4).getUint32(0, true);
  }

  private u64(offset: number): number {
    const value = this.field(offset, 8).getBigUint64(0, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.corrupt('a zip64 size or offset is out of range');
    return Number(value);
  }
}

let crcTables: Uint32Array | undefined;

/**
 * CRC-32 (IEEE, reflected, polynomial 0xEDB88320), as zip stores it. Slicing-by-8: eight
 * table lookups per 8 bytes, several times faster than a byte at a time on large layers.
 */
export function crc32(data: Uint8Array, previous = 0): number {
  const t = (crcTables ??= makeCrcTables());
  let crc = ~previous;
  let i = 0;
  for (const end = data.length - (data.length % 8); i < end; i += 8) {
    const low = crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    crc =
      t[1792 + (low & 0xff)] ^
      t[1536 + ((low >>> 8) & 0xff)] ^
      t[1280 + ((low >>> 16) & 0xff)] ^
      t[1024 + (low >>> 24)] ^
      t[768 + data[i + 4]] ^
      t[512 + data[i + 5]] ^
      t[256 + data[i + 6]] ^
      t[data[i + 7]];
  }
  for (; i < data.length; i++) crc = t[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** Table k (at k * 256) advances the CRC of a byte by k further zero bytes. */
function makeCrcTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  }
  return t;
}

// --- Writing ---------------------------------------------------------------------------------

export interface NpzEncodeEntry {
  readonly name: string;
  readonly array: EncodableArray;
}

/**
 * Encodes arrays as an `.npz` that `np.load` reads, entries in the given order, each stored
 * as `<name>.npy`; deflated when `compress` is set (like `np.savez_compressed`).
 */
export function encodeNpz(entries: readonly NpzEncodeEntry[], options: { compress?: boolean } = {}): Uint8Array {
  // fflate writes entries in key order; keys ending in '.npy' are never integer-like, so that
  // is insertion order.
  const files: Zippable = {};
  for (const { name, array } of entries) {
    const fileName = `${name}${NPY_SUFFIX}`;
    if (Object.hasOwn(files, fileName)) throw new RangeError(`encodeNpz: duplicate entry name '${name}'`);
    files[fileName] = encodeNpy(array);
  }
  return zipSync(files, { level: options.compress ? 6 : 0 });
}
