/**
 * Activation files too large to read whole: their layers read the rows of each batch from the
 * file. Forced on small files (inMemoryLimit 0) to compare with the in-memory path, plus one
 * sparse file over 2 GiB (which Node cannot read into one buffer at all).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, utimesSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadActivations, layerInMemory } from '../../src/engine/io/activationFiles.js';
import { encodeNpy } from '../../src/engine/io/npy.js';
import { encodeNpz } from '../../src/engine/io/npz.js';
import { ckaMatrix, LINEAR, sliceBatch } from '../../src/engine/similarity/index.js';
import { InputError } from '../../src/engine/errors.js';
import { seededRandom } from '../../src/engine/random.js';
import { testBackend } from '../helpers/backend.js';

let work: string;
const EXAMPLES = 96;

function randomArray(rows: number, cols: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: rows * cols }, () => random() - 0.5);
}

before(async () => {
  await testBackend();
  work = mkdtempSync(join(tmpdir(), 'repsim-acts-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('activation files read batch by batch', () => {
  const layers = () => [
    { name: 'conv', array: { shape: [EXAMPLES, 2, 3, 4], data: randomArray(EXAMPLES, 24, 1) } },
    { name: 'fc', array: { shape: [EXAMPLES, 7], data: Float64Array.from(randomArray(EXAMPLES, 7, 2)) } },
  ];

  test('stored .npz and .npy: the same rows and the same CKA as the file read whole', async () => {
    const npz = join(work, 'a.npz');
    writeFileSync(npz, encodeNpz(layers()));
    const npy = join(work, 'b.npy');
    writeFileSync(npy, encodeNpy({ shape: [EXAMPLES, 5], data: randomArray(EXAMPLES, 5, 3) }));
    for (const path of [npz, npy]) {
      const whole = await loadActivations(path);
      const streamed = await loadActivations(path, { inMemoryLimit: 0 });
      assert.deepEqual(streamed.map((l) => [l.name, l.shape]), whole.map((l) => [l.name, l.shape]));
      for (const [i, layer] of streamed.entries()) {
        assert.ok(layer.readRows, 'streamed');
        assert.throws(() => layer.data, /batch by batch/);
        const shuffled = Uint32Array.from([5, 6, 7, 0, 95, 40, 41, 1]);
        for (const examples of [{ start: 0, end: 32 }, { start: 60, end: 96 }, shuffled]) {
          assert.deepEqual(sliceBatch(layer, examples), sliceBatch(whole[i], examples));
        }
        assert.deepEqual(layerInMemory(layer, path).data, whole[i].data);
      }
    }
    const [a, b] = [await loadActivations(npz, { inMemoryLimit: 0 }), await loadActivations(npy, { inMemoryLimit: 0 })];
    const options = { kernel: LINEAR, estimator: 'minibatch' as const, batchSize: 16, passes: 3, seed: 4 };
    const streamedResult = await ckaMatrix(a, b, options);
    const wholeResult = await ckaMatrix(await loadActivations(npz), await loadActivations(npy), options);
    assert.deepEqual(streamedResult.matrix, wholeResult.matrix);
    assert.deepEqual(streamedResult.stderr, wholeResult.stderr);
  });

  test('a compressed member is read whole when it fits, refused with advice when it does not', async () => {
    const path = join(work, 'c.npz');
    writeFileSync(path, encodeNpz(layers(), { compress: true }));
    await assert.rejects(loadActivations(path, { inMemoryLimit: 0 }), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /c\.npz:conv: compressed \(np\.savez_compressed\).*too large to hold in memory: save the activations with np\.savez/);
      return true;
    });
    const size = readFileSync(path).length;
    const mixed = await loadActivations(path, { inMemoryLimit: size - 1 }); // the file streams, each member fits
    assert.deepEqual(mixed.map((l) => l.readRows), [undefined, undefined]);
    assert.deepEqual(mixed.map((l) => l.data), (await loadActivations(path)).map((l) => l.data));
  });

  test('checked when opened: a damaged member (CRC-32) or a NaN fails at once, naming file and layer', async () => {
    const bytes = encodeNpz(layers());
    const damaged = join(work, 'damaged.npz');
    const copy = bytes.slice();
    copy[400] ^= 0x10; // inside conv's data
    writeFileSync(damaged, copy);
    await assert.rejects(loadActivations(damaged, { inMemoryLimit: 0 }), /damaged\.npz: corrupt \.npz archive \(CRC-32 mismatch in 'conv\.npy'\)/);
    const withNan = randomArray(EXAMPLES, 24, 1);
    withNan[2 * 24 + 5] = Number.NaN;
    const nan = join(work, 'nan.npz');
    writeFileSync(nan, encodeNpz([{ name: 'conv', array: { shape: [EXAMPLES, 2, 3, 4], data: withNan } }]));
    await assert.rejects(loadActivations(nan, { inMemoryLimit: 0 }), /nan\.npz:conv: value at \[2, 0, 1, 1\] is NaN; activations must be finite/);
  });

  test('a file replaced after it was opened is an error, not other numbers', async () => {
    const path = join(work, 'changing.npy');
    writeFileSync(path, encodeNpy({ shape: [EXAMPLES, 5], data: randomArray(EXAMPLES, 5, 3) }));
    const [layer] = await loadActivations(path, { inMemoryLimit: 0 });
    writeFileSync(path, encodeNpy({ shape: [EXAMPLES, 5], data: randomArray(EXAMPLES, 5, 9) }));
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    assert.throws(() => sliceBatch(layer, { start: 0, end: 8 }), /changing\.npy: the file changed while it was being read/);
  });

  test('a file over 2 GiB is read (ERR_FS_FILE_TOO_LARGE before): a sparse .npy of zeros, CKA undefined with the zero-variance warning', async () => {
    const rows = 512;
    const cols = 1 << 20; // 512 × 2^20 float32 = 2 GiB of data
    const path = join(work, 'big.npy');
    const headerBytes = npyHeader([rows, cols]);
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, headerBytes);
      ftruncateSync(fd, headerBytes.length + rows * cols * 4);
    } finally {
      closeSync(fd);
    }
    const [layer] = await loadActivations(path);
    assert.deepEqual(layer.shape, [rows, cols]);
    assert.ok(layer.readRows, 'streamed');
    assert.deepEqual(sliceBatch(layer, Uint32Array.from([511, 3])).data, new Float32Array(2 * cols));
    // CKA over the first 32 examples (all 512 would spend the test's time on grams of zeros).
    const first32 = { name: layer.name, shape: [32, cols], data: new Float32Array(0), readRows: layer.readRows };
    const result = await ckaMatrix([first32], [first32], { kernel: LINEAR, estimator: 'minibatch', batchSize: 16 });
    assert.deepEqual(result.matrix, [[null]]);
    assert.equal(result.batches, 2);
    assert.ok(result.warnings.some((w) => /zero variance|no variance|constant/i.test(w)), result.warnings.join('; '));
  });
});

/** A float32 C-order .npy header for `shape`, padded to 64 bytes as NumPy does. */
function npyHeader(shape: number[]): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const unpadded = 10 + dict.length + 1;
  const text = `${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}
