/**
 * Reads the `.npy` of an example-ids array as strings: integers (any width, int64 exactly) or
 * text, which NumPy stores at a fixed width per item, as '<U<k>' (k UTF-32 code points, padded
 * with NULs) or '|S<k>' (k bytes, NUL-padded; read as UTF-8). Only the ids array is read this
 * way: every other array is numbers (npy.ts).
 */
import { InputError } from '../errors.js';
import { parseRawNpyHeader } from './npy.js';

/** The ids of a 1-D integer or string `.npy`, as strings; `source` (e.g. `a.npz:ids`) names it in errors. */
export function parseExampleIdsNpy(bytes: Uint8Array, source: string): string[] {
  const fail = (reason: string): never => {
    throw new InputError(`${source}: ${reason}`, source);
  };
  const header = parseRawNpyHeader(bytes, source);
  const dtype = idsDtype(header.descr, fail);
  if (header.shape.length !== 1) fail(`example ids of shape (${header.shape.join(', ')}); expected a 1-D array, one id per example`);
  const count = header.shape[0];
  const needed = count * dtype.itemSize;
  const available = bytes.length - header.dataStart;
  if (available !== needed) fail(`${available < needed ? 'truncated .npy data' : '.npy data does not match its shape'}: ${count} ids of '${dtype.descr}' need ${needed} data bytes, the file has ${available}`);
  const data = bytes.subarray(header.dataStart, header.dataStart + needed);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) ids[i] = dtype.read(view, i * dtype.itemSize, data, i, fail);
  return ids;
}

interface IdsDtype {
  readonly descr: string;
  readonly itemSize: number;
  read(view: DataView, offset: number, data: Uint8Array, index: number, fail: (reason: string) => never): string;
}

const INTEGER_READERS: Readonly<Record<string, (view: DataView, offset: number, littleEndian: boolean) => number | bigint>> = {
  i1: (v, o) => v.getInt8(o),
  i2: (v, o, le) => v.getInt16(o, le),
  i4: (v, o, le) => v.getInt32(o, le),
  i8: (v, o, le) => v.getBigInt64(o, le),
  u1: (v, o) => v.getUint8(o),
  u2: (v, o, le) => v.getUint16(o, le),
  u4: (v, o, le) => v.getUint32(o, le),
  u8: (v, o, le) => v.getBigUint64(o, le),
};

const EXPECTED = 'example ids must be integers or strings';

function idsDtype(descr: unknown, fail: (reason: string) => never): IdsDtype {
  if (typeof descr !== 'string') return fail(`${EXPECTED}; got a structured dtype`);
  const match = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (!match) return fail(`${EXPECTED}; got dtype '${descr}'`);
  const [, order, kind, width] = match;
  const hint =
    kind === 'f' ? ' (floats: save whole-number ids as integers, ids.astype(np.int64))' : kind === 'O' ? ' (Python objects: save text ids as fixed-width strings, ids.astype(str))' : '';
  if (width === '') return fail(`${EXPECTED}; got dtype '${descr}'${hint}`);
  const littleEndian = order !== '>';
  const itemSize = Number(width);
  const integer = INTEGER_READERS[kind + width];
  if (integer) return { descr, itemSize, read: (view, offset) => String(integer(view, offset, littleEndian)) };
  if (kind === 'U') {
    return {
      descr,
      itemSize: 4 * itemSize,
      read: (view, offset, _data, index, fail) => {
        let end = itemSize;
        while (end > 0 && view.getUint32(offset + 4 * (end - 1), littleEndian) === 0) end--; // NumPy drops the NUL padding
        let text = '';
        for (let k = 0; k < end; k++) {
          const codePoint = view.getUint32(offset + 4 * k, littleEndian);
          if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) fail(`example id ${index} is not valid UTF-32 text (code point 0x${codePoint.toString(16)})`);
          text += String.fromCodePoint(codePoint);
        }
        return text;
      },
    };
  }
  if (kind === 'S' || kind === 'a') {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    return {
      descr,
      itemSize,
      read: (_view, offset, data, index, fail) => {
        let end = offset + itemSize;
        while (end > offset && data[end - 1] === 0) end--;
        try {
          return decoder.decode(data.subarray(offset, end));
        } catch {
          return fail(`example id ${index} is bytes that are not UTF-8 text`);
        }
      },
    };
  }
  return fail(`${EXPECTED}; got dtype '${descr}'${hint}`);
}
