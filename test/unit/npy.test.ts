import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/engine/errors.js';
import { readActivationFile, readNpyFile, readNpzFile, writeFileAtomic } from '../../src/engine/io/files.js';
import { assertAllFinite, firstNonFiniteIndex, size, unravelIndex, type NdArray } from '../../src/engine/io/ndarray.js';
import { encodeNpy, float16ToNumber, parseNpy } from '../../src/engine/io/npy.js';
import { encodeNpz, parseNpz } from '../../src/engine/io/npz.js';

const FIXTURES = join(__dirname, '..', 'fixtures', 'npy');

type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';
interface ExpectedArray {
  dtype: string;
  shape: number[];
  values: JsonNumber[];
}
interface Expected {
  valid: Record<string, ExpectedArray | { entries: (ExpectedArray & { name: string })[] }>;
  invalid: Record<string, string>;
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

function toNumber(value: JsonNumber): number {
  return typeof value === 'number' ? value : Number(value); // Number('NaN') is NaN
}

/** Compares exactly (Object.is semantics, so NaN matches NaN); float32 data against rounded values. */
function assertArrayEquals(actual: NdArray, want: ExpectedArray, label: string): void {
  assert.equal(actual.dtype, want.dtype, `${label}: dtype`);
  assert.deepEqual(actual.shape, want.shape, `${label}: shape`);
  const round = actual.data instanceof Float32Array ? Math.fround : (x: number) => x;
  assert.deepEqual(Array.from(actual.data), want.values.map((v) => round(toNumber(v))), `${label}: values`);
}

function withTempDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repsim-npy-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const npyFixtures = Object.entries(expected.valid).filter(([name]) => name.endsWith('.npy')) as [string, ExpectedArray][];
const npzFixtures = Object.entries(expected.valid).filter(([name]) => name.endsWith('.npz')) as [
  string,
  { entries: (ExpectedArray & { name: string })[] },
][];

test('the fixtures cover every dtype, both byte orders, Fortran order, 0-d and header versions 2 and 3', () => {
  const dtypes = new Set(npyFixtures.map(([, want]) => want.dtype));
  for (const dtype of ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool']) {
    assert.ok(dtypes.has(dtype), dtype);
  }
  const names = npyFixtures.map(([name]) => name).join(' ');
  for (const kind of ['bigendian_', 'fortran_', 'scalar_', 'empty_', 'version2_', 'version3_']) assert.match(names, new RegExp(kind));
});

test('every .npy fixture reads as NumPy wrote it, as float32 and as float64', async () => {
  for (const [name, want] of npyFixtures) {
    const path = join(FIXTURES, name);
    const single = await readNpyFile(path);
    assert.ok(single.data instanceof Float32Array);
    assertArrayEquals(single, want, name);
    const double = await readNpyFile(path, { precision: 'float64' });
    assert.ok(double.data instanceof Float64Array);
    assertArrayEquals(double, want, name);
  }
});

test('.npz fixtures (savez, savez_compressed, zip64 records) read in archive order, not alphabetical', async () => {
  for (const [name, want] of npzFixtures) {
    const entries = await readNpzFile(join(FIXTURES, name), { precision: 'float64' });
    assert.deepEqual(
      entries.map((e) => e.name),
      ['conv2', 'conv1', 'fc', 'encoder.layer.10', 'encoder.layer.2'],
    );
    entries.forEach((entry, i) => assertArrayEquals(entry.array, want.entries[i], `${name}:${entry.name}`));
  }
});

test('readActivationFile takes an .npz as one layer per array and an .npy as one layer named after its stem', async () => {
  const layers = await readActivationFile(join(FIXTURES, 'layers_savez_compressed.npz'));
  assert.deepEqual(layers.map((l) => l.name), ['conv2', 'conv1', 'fc', 'encoder.layer.10', 'encoder.layer.2']);
  const single = await readActivationFile(join(FIXTURES, 'c_order_float32_3d.npy'));
  assert.equal(single.length, 1);
  assert.equal(single[0].name, 'c_order_float32_3d');
  assert.deepEqual(single[0].array.shape, [2, 3, 4]);
});

test('every invalid fixture is a one-line InputError naming the file', async () => {
  const names = Object.keys(expected.invalid);
  assert.ok(names.length >= 10);
  for (const name of names) {
    const path = join(FIXTURES, name);
    await assert.rejects(readActivationFile(path), (error: unknown) => {
      assert.ok(error instanceof InputError, `${name}: ${String(error)}`);
      assert.ok(error.message.startsWith(`${path}`), `${name}: ${error.message}`);
      assert.ok(error.message.includes(expected.invalid[name]), `${name}: ${error.message}`);
      assert.ok(!error.message.includes('\n'), `${name}: ${error.message}`);
      return true;
    });
  }
});

test('unsupported dtypes say what they are and what is expected', () => {
  const bytes = readFileSync(join(FIXTURES, 'invalid_complex128.npy'));
  assert.throws(
    () => parseNpy(bytes, 'a.npz:layer3'),
    isInputError(`a.npz:layer3: unsupported dtype '<c16' (complex numbers); expected float16/32/64, int or bool`, 'a.npz:layer3'),
  );
});

test('a bad entry in an .npz is named as file:entry', () => {
  const bytes = readFileSync(join(FIXTURES, 'invalid_entry.npz'));
  assert.throws(() => parseNpz(bytes, 'acts.npz'), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /^acts\.npz:logits: unsupported dtype '<c16'/);
    assert.equal(error.input, 'acts.npz:logits');
    return true;
  });
});

test('a damaged stored .npz fails its CRC check instead of yielding wrong numbers', () => {
  const archive = encodeNpz([{ name: 'fc', array: { shape: [4], data: new Float32Array([1, 2, 3, 4]) } }]);
  const damaged = archive.slice();
  const fcData = findBytes(damaged, new Uint8Array(new Float32Array([3]).buffer));
  damaged[fcData] ^= 0x01;
  assert.throws(() => parseNpz(damaged, 'x.npz'), /x\.npz: corrupt \.npz archive \(CRC-32 mismatch in 'fc\.npy'\)/);
});

test('header dicts are parsed as Python literals, not JSON', () => {
  const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
  for (const dict of [
    `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`,
    `{"shape":(2,3),"fortran_order":False,"descr":"<f4"}`, // any key order, double quotes, no spaces
    `{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }`, // Python 2 longs
    `  { 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , 3 , ) }  `,
  ]) {
    const array = parseNpy(npyWithHeader(dict, data), 'h.npy');
    assert.deepEqual(array.shape, [2, 3], dict);
    assert.deepEqual(Array.from(array.data), [1, 2, 3, 4, 5, 6], dict);
  }
  const transposed = parseNpy(npyWithHeader(`{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}`, data), 'h.npy');
  assert.deepEqual(Array.from(transposed.data), [1, 3, 5, 2, 4, 6]);

  for (const [dict, message] of [
    [`{'descr': '<f4', 'shape': (6,)}`, /no 'fortran_order' key/],
    [`{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}`, /'fortran_order' is not True or False/],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': (-6,)}`, /'shape' is not a tuple of non-negative integers/],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': (6,)`, /cannot parse \.npy header/],
    [`['descr', '<f4']`, /header is not a dict/],
  ] as const) {
    assert.throws(() => parseNpy(npyWithHeader(dict, data), 'h.npy'), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /^h\.npy: /);
      assert.match(error.message, message);
      return true;
    });
  }
});

test('data at an unaligned offset in a larger buffer is read correctly', () => {
  const file = encodeNpy({ shape: [3], data: new Float64Array([0.1, -2, 1e300]) });
  const buffer = new Uint8Array(file.length + 3);
  buffer.set(file, 3);
  const array = parseNpy(buffer.subarray(3), 'u.npy', { precision: 'float64' });
  assert.deepEqual(Array.from(array.data), [0.1, -2, 1e300]);
});

test('float16 decoding covers zeros, subnormals, normals, infinities and NaN', () => {
  assert.equal(float16ToNumber(0x0000), 0);
  assert.ok(Object.is(float16ToNumber(0x8000), -0));
  assert.equal(float16ToNumber(0x0001), 2 ** -24);
  assert.equal(float16ToNumber(0x3c00), 1);
  assert.equal(float16ToNumber(0xc000), -2);
  assert.equal(float16ToNumber(0x7bff), 65504);
  assert.equal(float16ToNumber(0x7c00), Infinity);
  assert.equal(float16ToNumber(0xfc00), -Infinity);
  assert.ok(Number.isNaN(float16ToNumber(0x7e00)));
});

test('encodeNpy → parseNpy round-trips float32 and float64 with a 64-byte aligned 1.0 header', () => {
  for (const shape of [[], [5], [2, 3, 4], [0, 3]]) {
    const count = size(shape);
    const single = Float32Array.from({ length: count }, (_, i) => Math.fround(Math.sin(i) * 10 ** (i % 7)));
    const double = Float64Array.from({ length: count }, (_, i) => Math.sin(i) * 10 ** (i % 300));
    for (const data of [single, double]) {
      const bytes = encodeNpy({ shape, data });
      assert.equal(bytes[6], 1, 'format version 1.0');
      const headerLength = bytes[8] | (bytes[9] << 8);
      assert.equal((10 + headerLength) % 64, 0);
      assert.equal(bytes[10 + headerLength - 1], 0x0a, 'header ends with a newline');
      const precision = data instanceof Float64Array ? 'float64' : 'float32';
      const array = parseNpy(bytes, 'r.npy', { precision });
      assert.equal(array.dtype, precision);
      assert.deepEqual(array.shape, shape);
      assert.deepEqual(array.data, data);
    }
  }
});

test('encodeNpy switches to format 2.0 only when the header exceeds 65535 bytes', () => {
  const shape = new Array<number>(25_000).fill(1);
  const bytes = encodeNpy({ shape, data: new Float32Array([7]) });
  assert.equal(bytes[6], 2);
  const headerLength = new DataView(bytes.buffer).getUint32(8, true);
  assert.equal((12 + headerLength) % 64, 0);
  const array = parseNpy(bytes, 'wide.npy');
  assert.equal(array.shape.length, 25_000);
  assert.deepEqual(Array.from(array.data), [7]);
});

test('encodeNpy rejects data that does not match the shape', () => {
  assert.throws(() => encodeNpy({ shape: [2, 2], data: new Float32Array(3) }), RangeError);
  assert.throws(() => encodeNpy({ shape: [-1], data: new Float32Array(0) }), RangeError);
});

test('encodeNpz → parseNpz keeps entry order, names and values, stored and compressed', () => {
  const names = ['z_last', '10', '2', 'encoder.layer.0', 'a_first'];
  const entries = names.map((name, i) => ({
    name,
    array: { shape: [2, i + 1], data: Float64Array.from({ length: 2 * (i + 1) }, (_, k) => k / 3 - i) },
  }));
  for (const compress of [false, true]) {
    const parsed = parseNpz(encodeNpz(entries, { compress }), 'r.npz', { precision: 'float64' });
    assert.deepEqual(parsed.map((e) => e.name), names);
    parsed.forEach((entry, i) => {
      assert.deepEqual(entry.array.shape, entries[i].array.shape);
      assert.deepEqual(entry.array.data, entries[i].array.data);
    });
  }
  assert.throws(() => encodeNpz([...entries, entries[0]]), /duplicate entry name 'z_last'/);
});

test('NumPy reads the files we write', withTempDir(async (dir) => {
  const cube = { shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => Math.fround(i / 7 - 1)) };
  const scalar = { shape: [], data: new Float64Array([Math.PI]) };
  const vector = { shape: [3], data: new Float64Array([1e-300, -0.1, 1e300]) };
  const entries = [
    { name: 'conv2', array: cube },
    { name: 'conv1', array: vector },
    { name: 'fc', array: scalar },
  ];
  await writeFileAtomic(join(dir, 'cube.npy'), encodeNpy(cube));
  await writeFileAtomic(join(dir, 'scalar.npy'), encodeNpy(scalar));
  await writeFileAtomic(join(dir, 'stored.npz'), encodeNpz(entries));
  await writeFileAtomic(join(dir, 'compressed.npz'), encodeNpz(entries, { compress: true }));

  // Prints, per file, [name, dtype, shape, values] for each array; floats as repr() so that
  // float64 values come back exactly.
  const script = `
import json, sys, numpy as np
def describe(name, a):
    return [name, a.dtype.str, list(a.shape), [repr(float(v)) for v in a.ravel()]]
out = {}
for f in ['cube.npy', 'scalar.npy']:
    out[f] = [describe(f, np.load(f, allow_pickle=False))]
for f in ['stored.npz', 'compressed.npz']:
    with np.load(f, allow_pickle=False) as z:
        out[f] = [describe(k, z[k]) for k in z.files]
print(json.dumps(out))
`;
  const result = spawnSync(process.env.REPSIM_PYTHON ?? 'python3', ['-c', script], { cwd: dir, encoding: 'utf8' });
  assert.equal(result.status, 0, `python3 with numpy is required for this test: ${result.error ?? result.stderr}`);
  const loaded = JSON.parse(result.stdout) as Record<string, [string, string, number[], string[]][]>;

  const describe = (name: string, array: { shape: number[]; data: Float32Array | Float64Array }) => [
    name,
    array.data instanceof Float64Array ? '<f8' : '<f4',
    array.shape,
    Array.from(array.data),
  ];
  const parsed = (rows: [string, string, number[], string[]][]) =>
    rows.map(([name, dtype, shape, values]) => [name, dtype, shape, values.map(Number)]);
  assert.deepEqual(parsed(loaded['cube.npy']), [describe('cube.npy', cube)]);
  assert.deepEqual(parsed(loaded['scalar.npy']), [describe('scalar.npy', scalar)]);
  const archive = entries.map((e) => describe(e.name, e.array));
  assert.deepEqual(parsed(loaded['stored.npz']), archive);
  assert.deepEqual(parsed(loaded['compressed.npz']), archive);
}));

test('finite checks find the first NaN or infinity and name the source and position', async () => {
  const array = await readNpyFile(join(FIXTURES, 'nonfinite_float32.npy'));
  assert.equal(firstNonFiniteIndex(array.data), 1);
  assert.equal(firstNonFiniteIndex(new Float32Array([1, 2])), -1);
  assert.deepEqual(unravelIndex(23, [2, 3, 4]), [1, 2, 3]);
  assert.deepEqual(unravelIndex(0, []), []);
  assert.throws(() => assertAllFinite(array, 'acts.npz:fc'), /^InputError: acts\.npz:fc: value at \[1\] is NaN/);
  const overflow: NdArray = { dtype: 'float64', shape: [1, 2], data: new Float32Array([0, 1e300]) };
  assert.throws(() => assertAllFinite(overflow, 'x.npy'), /x\.npy: value at \[0, 1\] is Infinity \(or a float64 value beyond the float32 range\)/);
  assert.doesNotThrow(() => assertAllFinite({ dtype: 'int8', shape: [2], data: new Float32Array([1, -1]) }, 'ok.npy'));
});

test('a missing file or a directory is an InputError naming the path', withTempDir(async (dir) => {
  const missing = join(dir, 'nope.npz');
  await assert.rejects(readNpzFile(missing), isInputError(`${missing}: no such file`, missing));
  await assert.rejects(readNpyFile(missing.replace('.npz', '.npy')), InputError);
  await assert.rejects(readActivationFile(dir), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /is a directory/);
    assert.equal(error.input, dir);
    return true;
  });
}));

test('writeFileAtomic replaces the file whole and leaves no temporary file, even on failure', withTempDir(async (dir) => {
  const target = join(dir, 'result.json');
  await writeFileAtomic(target, '{"old": true}');
  await writeFileAtomic(target, new TextEncoder().encode('{"new": true}'));
  assert.equal(readFileSync(target, 'utf8'), '{"new": true}');
  assert.deepEqual(readdirSync(dir), ['result.json']);

  // Rename onto a directory fails after the temporary file was written.
  const occupied = join(dir, 'occupied');
  mkdirSync(occupied);
  writeFileSync(join(occupied, 'keep'), 'x');
  await assert.rejects(writeFileAtomic(occupied, 'data'));
  assert.deepEqual(readdirSync(dir).sort(), ['occupied', 'result.json']);

  // Opening the temporary file fails: nothing is created.
  await assert.rejects(writeFileAtomic(join(dir, 'no-such-dir', 'out.npz'), 'data'));
  assert.deepEqual(readdirSync(dir).sort(), ['occupied', 'result.json']);
}));

/** An assert.throws/rejects validator for an InputError with exactly this message and input. */
function isInputError(message: string, input: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof InputError, String(error));
    assert.equal(error.message, message);
    assert.equal(error.input, input);
    return true;
  };
}

/** A .npy file (format 1.0) with this header text and raw data. */
function npyWithHeader(dict: string, data: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(`${dict}\n`);
  const bytes = new Uint8Array(10 + header.length + data.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  bytes.set(header, 10);
  bytes.set(data, 10 + header.length);
  return bytes;
}

function findBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return i;
  }
  throw new Error('not found');
}
