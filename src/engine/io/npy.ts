/**
 * NumPy `.npy` reading and writing, following the format spec:
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 *
 * A file is: the magic `\x93NUMPY`, a major and minor version byte, the header length
 * (uint16 LE in 1.0, uint32 LE in 2.0 and 3.0), a header that is a Python dict literal
 * (latin1 in 1.0/2.0, utf8 in 3.0) with keys `descr`, `fortran_order` and `shape`, then the
 * raw data.
 */
import { InputError } from '../errors.js';
import { size, type FloatData, type NdArray, type NpyDtype, type ReadOptions } from './ndarray.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** NumPy pads the header so that the data starts on a multiple of this many bytes. */
const HEADER_ALIGNMENT = 64;
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Reading

/** Parses a whole `.npy` file. `source` names it in errors (e.g. `a.npz:layer3`). */
export function parseNpy(bytes: Uint8Array, source: string, options: ReadOptions = {}): NdArray {
  const header = parseNpyHeader(bytes, source);
  const fail = failFor(source);
  const count = size(header.shape);
  checkDataLength(bytes.length - header.dataStart, count, header.dtype, header.shape, fail);

  const dataBytes = bytes.subarray(header.dataStart, header.dataStart + count * header.dtype.itemSize);
  const fileOrder = decodeData(dataBytes, header.dtype, count, options.precision ?? 'float32');
  const data = header.fortranOrder ? fortranToC(fileOrder, header.shape) : fileOrder;
  return { dtype: header.dtype.name, shape: header.shape, data };
}

/** What a `.npy` header says: where the data starts, its dtype, order and shape. */
export interface NpyHeader {
  readonly dataStart: number;
  readonly dtype: DtypeInfo;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  /** Bytes of data the shape and dtype need. */
  readonly dataBytes: number;
}

/**
 * Parses the preamble and header of a `.npy` (`bytes` needs to hold only its start: the header
 * is at most a few kilobytes past the 12-byte preamble; see `NPY_HEADER_PROBE_BYTES`).
 */
export function parseNpyHeader(bytes: Uint8Array, source: string): NpyHeader {
  const fail = failFor(source);
  const header = parseRawNpyHeader(bytes, source);
  const dtype = parseDescr(header.descr as PyValue, fail);
  return { dataStart: header.dataStart, dtype, fortranOrder: header.fortranOrder, shape: header.shape, dataBytes: size(header.shape) * dtype.itemSize };
}

/** A `.npy` header as written, its dtype not checked: for the arrays read as text (example ids). */
export interface RawNpyHeader {
  readonly dataStart: number;
  /** The `descr` value: a dtype string such as '<U8', or a list for a structured dtype. */
  readonly descr: unknown;
  readonly fortranOrder: boolean;
  readonly shape: number[];
}

/** Parses the preamble and header dict of a `.npy`, leaving the dtype to the caller. */
export function parseRawNpyHeader(bytes: Uint8Array, source: string): RawNpyHeader {
  const fail = failFor(source);
  const { headerText, dataStart } = readPreamble(bytes, fail);
  const header = parseHeader(headerText, fail);
  return { dataStart, descr: header.descr, fortranOrder: header.fortranOrder, shape: header.shape };
}

/** Enough of a file's start to hold the header of any `.npy` RepSim meets (NumPy's are under 1 KiB unless the shape is huge). */
export const NPY_HEADER_PROBE_BYTES = 64 * 1024;

/** The header length a `.npy`'s preamble announces (null when `bytes` is too short to tell): lets a reader fetch exactly that much. */
export function npyHeaderEnd(bytes: Uint8Array): number | null {
  if (bytes.length < 12) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[6] === 1) return 10 + view.getUint16(8, true);
  if (bytes[6] === 2 || bytes[6] === 3) return 12 + view.getUint32(8, true);
  return null;
}

/** Raises when the data after the header does not have the size the header needs. */
export function checkNpyDataLength(header: NpyHeader, available: number, source: string): void {
  checkDataLength(available, size(header.shape), header.dtype, header.shape, failFor(source));
}

/**
 * Converts raw element bytes of a C-order `.npy` (whole elements) to float32, in file order.
 * float32 data in host byte order at an aligned offset is returned as a view of `bytes`.
 */
export function decodeNpyElements(bytes: Uint8Array, header: NpyHeader): Float32Array {
  const { dtype } = header;
  if (dtype.name === 'float32' && dtype.bigEndian !== HOST_IS_LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return decodeData(bytes, header.dtype, bytes.length / header.dtype.itemSize, 'float32') as Float32Array;
}

type Fail = (reason: string) => never;

function failFor(source: string): Fail {
  return (reason: string): never => {
    throw new InputError(`${source}: ${reason}`, source);
  };
}

function readPreamble(bytes: Uint8Array, fail: Fail): { headerText: string; dataStart: number } {
  const magicLength = Math.min(MAGIC.length, bytes.length);
  for (let i = 0; i < magicLength; i++) {
    if (bytes[i] !== MAGIC[i]) fail(`not a .npy file (bad magic string${guessFileKind(bytes)})`);
  }
  if (bytes.length < MAGIC.length + 4) fail(`truncated .npy file (${bytes.length} bytes)`);

  const major = bytes[6];
  const minor = bytes[7];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(`truncated .npy file (${bytes.length} bytes)`);
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    return fail(`unsupported .npy format version ${major}.${minor}; expected 1.0, 2.0 or 3.0`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) fail(`truncated .npy header (needs ${dataStart} bytes, file has ${bytes.length})`);

  const headerBytes = bytes.subarray(headerStart, dataStart);
  const headerText = major === 3 ? decodeUtf8(headerBytes, fail) : decodeLatin1(headerBytes);
  return { headerText, dataStart };
}

/** A hint for files that are something else; empty when we cannot tell. */
function guessFileKind(bytes: Uint8Array): string {
  if (bytes.length === 0) return '; the file is empty';
  if (bytes[0] === 0x80) return '; looks like a Python pickle, which RepSim does not load';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return '; looks like a zip archive, i.e. an .npz';
  return '';
}

function decodeLatin1(bytes: Uint8Array): string {
  let text = '';
  const chunk = 8192; // keeps the spread within the engine's argument limit
  for (let i = 0; i < bytes.length; i += chunk) text += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return text;
}

function decodeUtf8(bytes: Uint8Array, fail: Fail): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('.npy header is not valid utf-8');
  }
}

// --- Header dict -----------------------------------------------------------------------------

interface Header {
  readonly descr: PyValue;
  readonly fortranOrder: boolean;
  readonly shape: number[];
}

function parseHeader(text: string, fail: Fail): Header {
  const literal = parsePythonLiteral(text, fail);
  if (!(literal instanceof Map)) return fail(`.npy header is not a dict: ${quote(text)}`);
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!literal.has(key)) fail(`.npy header has no '${key}' key: ${quote(text)}`);
  }
  const fortranOrder = literal.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') return fail(`.npy header 'fortran_order' is not True or False: ${quote(text)}`);
  return { descr: literal.get('descr')!, fortranOrder, shape: parseShape(literal.get('shape')!, text, fail) };
}

function parseShape(value: PyValue, text: string, fail: Fail): number[] {
  const valid =
    Array.isArray(value) && value.every((extent) => typeof extent === 'number' && Number.isSafeInteger(extent) && extent >= 0);
  if (!valid) return fail(`.npy header 'shape' is not a tuple of non-negative integers: ${quote(text)}`);
  const shape = value as number[];
  if (!Number.isSafeInteger(size(shape) * 8)) fail(`.npy shape (${shape.join(', ')}) is too large`);
  return shape;
}

/** The subset of Python literals a header can hold; tuples and lists both become arrays. */
type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

/**
 * A recursive-descent parser for Python literals (the header is `repr()` of a dict, not JSON):
 * quoted strings, integers (with Python 2's `L` suffix), True/False/None, tuples, lists, dicts.
 */
function parsePythonLiteral(text: string, fail: Fail): PyValue {
  let pos = 0;
  const invalid = (): never => fail(`cannot parse .npy header at character ${pos}: ${quote(text)}`);
  const skipSpace = (): void => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const expect = (char: string): void => {
    skipSpace();
    if (text[pos] !== char) invalid();
    pos++;
  };

  /** Items up to `close`, separated by commas, a trailing comma allowed; `(x,)` is a tuple. */
  const parseSequence = <T>(close: string, parseItem: () => T): T[] => {
    const items: T[] = [];
    for (;;) {
      skipSpace();
      if (text[pos] === close) break;
      items.push(parseItem());
      skipSpace();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== close) invalid();
    }
    pos++;
    return items;
  };

  const parseString = (): string => {
    const delimiter = text[pos++];
    let value = '';
    while (pos < text.length && text[pos] !== delimiter) {
      if (text[pos] === '\\') pos++; // descr and key names never need more than a literal escape
      value += text[pos++];
    }
    if (pos >= text.length) invalid();
    pos++;
    return value;
  };

  const parseValue = (): PyValue => {
    skipSpace();
    const char = text[pos];
    if (char === "'" || char === '"') return parseString();
    if (char === '(' || char === '[') {
      pos++;
      return parseSequence(char === '(' ? ')' : ']', parseValue);
    }
    if (char === '{') {
      pos++;
      const entries = parseSequence('}', (): [string, PyValue] => {
        const key = parseValue();
        if (typeof key !== 'string') invalid();
        expect(':');
        return [key as string, parseValue()];
      });
      return new Map(entries);
    }
    const word = /^(?:[+-]?\d+L?|True|False|None)/.exec(text.slice(pos, pos + 32))?.[0];
    if (!word) return invalid();
    pos += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    return Number(word.replace('L', ''));
  };

  const value = parseValue();
  skipSpace();
  if (pos !== text.length) invalid();
  return value;
}

/** Quotes header text for a one-line message: control characters escaped, long text cut. */
function quote(text: string): string {
  const trimmed = text.trim();
  const short = trimmed.length > 120 ? `${trimmed.slice(0, 117)}...` : trimmed;
  return short.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

// --- dtype -----------------------------------------------------------------------------------

export interface DtypeInfo {
  readonly name: NpyDtype;
  readonly itemSize: number;
  readonly bigEndian: boolean;
}

const SUPPORTED_DTYPES: Readonly<Record<string, NpyDtype>> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
  b1: 'bool',
};

/** Why a dtype kind (the letter in `descr`) is not supported, for the error message. */
const UNSUPPORTED_KINDS: Readonly<Record<string, string>> = {
  c: 'complex numbers',
  O: 'Python objects, stored as a pickle',
  U: 'unicode strings',
  S: 'byte strings',
  a: 'byte strings',
  V: 'raw bytes or records',
  M: 'datetimes',
  m: 'timedeltas',
  f: 'a float width other than 16, 32 or 64 bits',
};

const EXPECTED_DTYPES = 'expected float16/32/64, int or bool';

function parseDescr(descr: PyValue, fail: Fail): DtypeInfo {
  if (typeof descr !== 'string') {
    // A list of (name, dtype) pairs: a structured array.
    return fail(`unsupported structured dtype ${quote(JSON.stringify(descr) ?? '')}; ${EXPECTED_DTYPES}`);
  }
  const match = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const name = match ? SUPPORTED_DTYPES[match[2] + match[3]] : undefined;
  if (!match || !name) {
    const kind = /^[<>|=]?([a-zA-Z])/.exec(descr)?.[1] ?? '';
    const why = Object.hasOwn(UNSUPPORTED_KINDS, kind) ? ` (${UNSUPPORTED_KINDS[kind]})` : '';
    return fail(`unsupported dtype '${quote(descr)}'${why}; ${EXPECTED_DTYPES}`);
  }
  // '|' (byte order irrelevant) and '=' (native; NumPy never writes it) are read as little-endian.
  return { name, itemSize: Number(match[3]), bigEndian: match[1] === '>' };
}

function checkDataLength(available: number, count: number, dtype: DtypeInfo, shape: readonly number[], fail: Fail): void {
  const needed = count * dtype.itemSize;
  if (available === needed) return;
  const what = `shape (${shape.join(', ')}) of ${dtype.name} needs ${needed} data bytes`;
  if (available < needed) fail(`truncated .npy data: ${what}, the file has ${available}`);
  fail(`.npy data does not match its shape: ${what}, the file has ${available}`);
}

// --- Data ------------------------------------------------------------------------------------

/** Converts raw element bytes to floats, in the file's element order. */
function decodeData(bytes: Uint8Array, dtype: DtypeInfo, count: number, precision: 'float32' | 'float64'): FloatData {
  const out = precision === 'float64' ? new Float64Array(count) : new Float32Array(count);
  const buffer = hostOrderedBytes(bytes, dtype);
  const view = <T>(Kind: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => T): T =>
    new Kind(buffer.buffer, buffer.byteOffset, count);

  switch (dtype.name) {
    case 'float16': {
      const bits = view(Uint16Array);
      for (let i = 0; i < count; i++) out[i] = float16ToNumber(bits[i]);
      break;
    }
    case 'bool': {
      const flags = view(Uint8Array);
      for (let i = 0; i < count; i++) out[i] = flags[i] === 0 ? 0 : 1;
      break;
    }
    case 'int64':
    case 'uint64': {
      // Values beyond 2^53 cannot be exact in a double; Number() rounds to the nearest.
      const wide = dtype.name === 'int64' ? view(BigInt64Array) : view(BigUint64Array);
      for (let i = 0; i < count; i++) out[i] = Number(wide[i]);
      break;
    }
    default:
      // TypedArray.set converts element by element between numeric types.
      out.set(view<ArrayLike<number>>(NUMERIC_ARRAYS[dtype.name]));
  }
  return out;
}

const NUMERIC_ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
} as const;

/**
 * The element bytes in host byte order at an offset aligned to the item size (typed arrays
 * require both): the input itself when it already is, else a copy.
 */
function hostOrderedBytes(bytes: Uint8Array, dtype: DtypeInfo): Uint8Array {
  if (dtype.itemSize === 1) return bytes;
  if (dtype.bigEndian === HOST_IS_LITTLE_ENDIAN) return byteSwapped(bytes, dtype.itemSize);
  // new Uint8Array(bytes) copies; Node's Buffer#slice would not.
  return bytes.byteOffset % dtype.itemSize === 0 ? bytes : new Uint8Array(bytes);
}

function byteSwapped(bytes: Uint8Array, itemSize: number): Uint8Array {
  const swapped = new Uint8Array(bytes.length);
  for (let item = 0; item < bytes.length; item += itemSize) {
    for (let k = 0; k < itemSize; k++) swapped[item + k] = bytes[item + itemSize - 1 - k];
  }
  return swapped;
}

/** IEEE 754 half precision: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Reorders column-major (Fortran) data of `shape` into row-major (C) order. */
function fortranToC(data: FloatData, shape: readonly number[]): FloatData {
  if (shape.length < 2) return data;
  const out = data instanceof Float64Array ? new Float64Array(data.length) : new Float32Array(data.length);
  const fortranStrides: number[] = [];
  let stride = 1;
  for (const extent of shape) {
    fortranStrides.push(stride);
    stride *= extent;
  }
  // Walk the C-order index like an odometer (last axis fastest), tracking the Fortran offset.
  const index = shape.map(() => 0);
  let source = 0;
  for (let target = 0; target < out.length; target++) {
    out[target] = data[source];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis]++;
      source += fortranStrides[axis];
      if (index[axis] < shape[axis]) break;
      source -= fortranStrides[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface EncodableArray {
  readonly shape: readonly number[];
  readonly data: FloatData;
}

/**
 * Encodes a C-order array as `.npy`: little-endian float32 for a Float32Array, float64 for a
 * Float64Array. The header is format 1.0, padded to 64 bytes as NumPy does; 2.0 only when the
 * header does not fit 1.0's 16-bit length.
 */
export function encodeNpy(array: EncodableArray): Uint8Array {
  const { shape, data } = array;
  if (!shape.every((extent) => Number.isSafeInteger(extent) && extent >= 0)) {
    throw new RangeError(`encodeNpy: invalid shape (${shape.join(', ')})`);
  }
  if (size(shape) !== data.length) {
    throw new RangeError(`encodeNpy: shape (${shape.join(', ')}) needs ${size(shape)} values, got ${data.length}`);
  }
  const itemSize = data.BYTES_PER_ELEMENT;
  const descr = itemSize === 8 ? '<f8' : '<f4';
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${pythonTuple(shape)}, }`;

  let prefixLength = MAGIC.length + 2 + 2;
  let header = paddedHeader(dict, prefixLength);
  const major = header.length > 0xffff ? 2 : 1;
  if (major === 2) {
    prefixLength = MAGIC.length + 2 + 4;
    header = paddedHeader(dict, prefixLength);
  }

  const out = new Uint8Array(prefixLength + header.length + data.byteLength);
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  out[6] = major;
  out[7] = 0;
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefixLength + i] = header.charCodeAt(i);

  const dataBytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(HOST_IS_LITTLE_ENDIAN ? dataBytes : byteSwapped(dataBytes, itemSize), prefixLength + header.length);
  return out;
}

/** `repr()` of a Python tuple of ints: `()`, `(3,)`, `(2, 3)`. */
function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** The dict padded with spaces and ended by a newline, so that the data starts 64-aligned. */
function paddedHeader(dict: string, prefixLength: number): string {
  const unpadded = prefixLength + dict.length + 1;
  const padding = (HEADER_ALIGNMENT - (unpadded % HEADER_ALIGNMENT)) % HEADER_ALIGNMENT;
  return `${dict}${' '.repeat(padding)}\n`;
}
