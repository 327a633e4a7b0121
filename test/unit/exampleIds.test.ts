// Optional per-example ids (an `ids` array beside the layers or the inputs): read as integers or
// NumPy strings, checked to be one per example, and compared row by row between the two files.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { zipSync } from 'fflate';
import { InputError } from '../../src/engine/errors.js';
import { loadActivationFile, loadActivations } from '../../src/engine/io/activationFiles.js';
import { assertSameExampleIds } from '../../src/engine/io/exampleIds.js';
import { parseExampleIdsNpy } from '../../src/engine/io/exampleIdsNpy.js';
import { encodeNpy } from '../../src/engine/io/npy.js';
import { readInputs } from '../../src/cli/models.js';
import { readActivationArrays, readNpyFile } from '../../src/engine/io/files.js';
import { loadOnnxModel } from '../../src/engine/onnx/import/index.js';
import { WorkspaceCache } from '../../src/server/cache/workspaceCache.js';
import { obtainModel, type ModelContext, type ObtainedModel } from '../../src/server/runs/obtainModels.js';
import { runComparison } from '../../src/server/runs/runComparison.js';
import { testBackend } from '../helpers/backend.js';
import { FIXTURES } from '../helpers/fixtures.js';

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'repsim-ids-'));
});

// --- .npy bytes as NumPy writes them (np.lib.format.write_array, format 1.0) ------------------

function npy(descr: string, shape: readonly number[], data: Uint8Array): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = `${dict}${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}

/** np.array(ids) of str: '<U<width>', UTF-32 code points padded with NULs. */
function unicodeNpy(ids: readonly string[], bigEndian = false): Uint8Array {
  const width = Math.max(1, ...ids.map((id) => [...id].length));
  const data = new Uint8Array(ids.length * width * 4);
  const view = new DataView(data.buffer);
  ids.forEach((id, i) => [...id].forEach((char, k) => view.setUint32((i * width + k) * 4, char.codePointAt(0)!, !bigEndian)));
  return npy(`${bigEndian ? '>' : '<'}U${width}`, [ids.length], data);
}

/** np.array(ids, dtype=bytes): '|S<width>', NUL-padded bytes. */
function bytesNpy(ids: readonly string[]): Uint8Array {
  const encoded = ids.map((id) => new TextEncoder().encode(id));
  const width = Math.max(1, ...encoded.map((e) => e.length));
  const data = new Uint8Array(ids.length * width);
  encoded.forEach((e, i) => data.set(e, i * width));
  return npy(`|S${width}`, [ids.length], data);
}

function int64Npy(ids: readonly bigint[]): Uint8Array {
  return npy('<i8', [ids.length], new Uint8Array(BigInt64Array.from(ids).buffer));
}

function layer(rows: number, cols: number, seed = 1): Uint8Array {
  return encodeNpy({ shape: [rows, cols], data: Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(seed * (i + 1))) });
}

/** An .npz (np.savez: stored entries, in order) of the given `.npy` members. */
function writeNpz(name: string, members: Record<string, Uint8Array>): string {
  const path = join(work, name);
  writeFileSync(path, zipSync(Object.fromEntries(Object.entries(members).map(([key, bytes]) => [`${key}.npy`, bytes])), { level: 0 }));
  return path;
}

const names = (count: number, from = 0) => Array.from({ length: count }, (_, i) => `img_${String(from + i).padStart(4, '0')}`);

function rejectsWith(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InputError, `an InputError, got ${String(error)}`);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `'${error.message}' should mention '${fragment}'`);
    return true;
  });
}

// --- Reading ---------------------------------------------------------------------------------

test('string ids (<U, >U, |S) and integer ids are read as strings', () => {
  assert.deepEqual(parseExampleIdsNpy(unicodeNpy(['img_0001', 'b', 'ünï😀']), 'x:ids'), ['img_0001', 'b', 'ünï😀']);
  assert.deepEqual(parseExampleIdsNpy(unicodeNpy(['ab', 'c'], true), 'x:ids'), ['ab', 'c']);
  assert.deepEqual(parseExampleIdsNpy(bytesNpy(['cat/001.png', 'dog', 'é']), 'x:ids'), ['cat/001.png', 'dog', 'é']);
  assert.deepEqual(parseExampleIdsNpy(int64Npy([0n, 17n, 9007199254740993n, -4n]), 'x:ids'), ['0', '17', '9007199254740993', '-4']);
  assert.deepEqual(parseExampleIdsNpy(npy('>u2', [2], Uint8Array.from([1, 2, 0, 7])), 'x:ids'), ['258', '7']);
});

test('ids that are not a 1-D integer or string array are refused, naming the file', () => {
  rejectsWith(() => parseExampleIdsNpy(npy('<i4', [2, 2], new Uint8Array(16)), 'a.npz:ids'), 'a.npz:ids', 'shape (2, 2)', '1-D');
  rejectsWith(() => parseExampleIdsNpy(npy('<f8', [2], new Uint8Array(16)), 'a.npz:ids'), 'a.npz:ids', 'integers or strings', 'astype(np.int64)');
  rejectsWith(() => parseExampleIdsNpy(npy('|O', [2], new Uint8Array(16)), 'a.npz:ids'), 'a.npz:ids', 'astype(str)');
  rejectsWith(() => parseExampleIdsNpy(npy('<i8', [3], new Uint8Array(16)), 'a.npz:ids'), 'a.npz:ids', 'truncated');
  rejectsWith(() => parseExampleIdsNpy(npy('|S2', [1], Uint8Array.from([0xff, 0xfe])), 'a.npz:ids'), 'a.npz:ids', 'not UTF-8');
});

test('an ids array is not a layer; its length must be one per example', async () => {
  const path = writeNpz('with-ids.npz', { fc1: layer(5, 3), ids: unicodeNpy(names(5)), fc2: layer(5, 2) });
  const file = await loadActivationFile(path);
  assert.deepEqual(file.layers.map((l) => l.name), ['fc1', 'fc2']);
  assert.deepEqual(file.ids, names(5));
  assert.deepEqual((await loadActivations(path)).map((l) => l.name), ['fc1', 'fc2']);
  // Read batch by batch (a file over the in-memory limit), the ids come along all the same.
  const streamed = await loadActivationFile(path, { inMemoryLimit: 1 });
  assert.deepEqual(streamed.ids, names(5));
  assert.ok(streamed.layers[0].readRows, 'streamed');

  const short = writeNpz('short-ids.npz', { fc1: layer(5, 3), ids: int64Npy([1n, 2n, 3n, 4n]) });
  await assert.rejects(loadActivationFile(short), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /short-ids\.npz:ids holds 4 example ids but .*short-ids\.npz:fc1 has 5 examples/);
    return true;
  });
  await assert.rejects(loadActivationFile(short, { inMemoryLimit: 1 }), /short-ids\.npz:ids holds 4 example ids/);
  await assert.rejects(loadActivationFile(writeNpz('only-ids.npz', { ids: int64Npy([1n]) })), /only-ids\.npz: holds only example ids, no layers/);
  const noIds = await loadActivationFile(writeNpz('no-ids.npz', { fc1: layer(5, 3) }));
  assert.equal(noIds.ids, undefined);
});

// --- Comparing -------------------------------------------------------------------------------

test('equal ids pass; the first differing row is named with both ids and both files', () => {
  assert.equal(assertSameExampleIds(names(20), names(20), 'a.npz', 'b.npz'), undefined);
  assert.equal(assertSameExampleIds(undefined, undefined, 'a.npz', 'b.npz'), undefined);
  const shifted = [...names(17), ...names(3, 18)];
  rejectsWith(
    () => assertSameExampleIds(names(20), shifted, 'a.npz', 'b.npz'),
    "a.npz and b.npz: example ids differ at row 17: 'img_0017' in a.npz, 'img_0018' in b.npz (the rows must be the same examples in the same order)",
  );
  rejectsWith(() => assertSameExampleIds(names(3), names(4), 'a.npz', 'b.npz'), 'a.npz and b.npz', '3 example ids in a.npz, 4 in b.npz');
});

test('ids in one file only: allowed, with a warning naming both files', () => {
  const warning = assertSameExampleIds(names(3), undefined, 'a.npz', 'b.npz');
  assert.match(warning!, /^a\.npz has example ids but b\.npz has none/);
  assert.match(assertSameExampleIds(undefined, names(3), 'a.npz', 'b.npz')!, /^b\.npz has example ids but a\.npz has none/);
});

// --- Inputs files ----------------------------------------------------------------------------

test('an inputs .npz may hold ids beside its one inputs array', async () => {
  const inputs = writeNpz('inputs.npz', { x: layer(4, 6), ids: bytesNpy(names(4)) });
  const read = await readActivationArrays(inputs);
  assert.deepEqual(read.arrays.map((a) => a.name), ['x']);
  assert.deepEqual(read.ids, names(4));
  const cli = await readInputs(inputs);
  assert.deepEqual(cli.array.shape, [4, 6]);
  assert.deepEqual(cli.ids, names(4));
  await assert.rejects(readInputs(writeNpz('inputs-bad.npz', { x: layer(4, 6), ids: bytesNpy(names(3)) })), /inputs-bad\.npz:ids holds 3 example ids but .*inputs-bad\.npz:x has 4 examples/);
});

test('data.inputs: an experiment with inputs and ids in one .npz runs; ids of the wrong length are refused naming the file', async () => {
  await testBackend();
  const x = await readNpyFile(join(FIXTURES, 'onnx', 'x.npy'));
  const inputsNpy = encodeNpy({ shape: x.shape, data: Float32Array.from(x.data) });
  const model = async (id: string): Promise<ObtainedModel> => ({ kind: 'onnx', file: await loadOnnxModel(join(FIXTURES, 'onnx', `${id}.onnx`)), image: { layout: 'NCHW', normalization: 'dataset' }, key: id, summary: { id, source: 'saved' } });
  const [a, b] = [await model('a'), await model('b')];
  const logs: string[] = [];
  const compare = (inputs: string) =>
    runComparison(a, b, {
      name: 'ids',
      spec: { a: 'a', b: 'b', layers: 'blocks', batchSize: 16, permutations: 0 },
      data: { inputs, evaluationExamples: 32 },
      dataset: () => Promise.reject(new Error('no dataset: data.inputs')),
      cache: new WorkspaceCache(join(work, `cache-${basename(inputs)}`)),
      signal: new AbortController().signal,
      onPartial: async () => undefined,
      onProgress: () => undefined,
      log: (message) => logs.push(message),
    });
  const withIds = writeNpz('experiment-inputs.npz', { inputs: inputsNpy, ids: unicodeNpy(names(64)) });
  const result = await compare(withIds);
  assert.equal(result.examples, 32);
  assert.deepEqual(result.layersA, ['stem.relu', 'blocks.0.relu2', 'blocks.1.relu2', 'pool']);
  const shortIds = writeNpz('experiment-short-ids.npz', { inputs: inputsNpy, ids: int64Npy([1n, 2n]) });
  await assert.rejects(compare(shortIds), /experiment-short-ids\.npz:ids holds 2 example ids but .*experiment-short-ids\.npz:inputs has 64 examples/);
  const two = writeNpz('experiment-two.npz', { inputs: inputsNpy, more: inputsNpy, ids: unicodeNpy(names(64)) });
  await assert.rejects(compare(two), /experiment-two\.npz: holds 2 arrays \(inputs, more\); data\.inputs takes one array, and optionally one named 'ids'/);
});

test('an experiment comparing activation files: mismatching ids stop it naming the row; ids on one side only warn', async () => {
  const modelContext = { filePath: join(work, 'x.repsim.json') } as ModelContext;
  const a = await obtainModel('a', { activations: writeNpz('run-a.npz', { fc1: layer(12, 4, 1), ids: unicodeNpy(names(12)) }) }, modelContext);
  const b = await obtainModel('b', { activations: writeNpz('run-b.npz', { fc1: layer(12, 4, 2), ids: unicodeNpy([...names(5), 'other', ...names(6, 6)]) }) }, modelContext);
  const bare = await obtainModel('c', { activations: writeNpz('run-c.npz', { fc1: layer(12, 4, 3) }) }, modelContext);
  assert.ok(a.kind === 'activations');
  assert.deepEqual(a.ids, names(12));
  const compare = (x: ObtainedModel, y: ObtainedModel, name: string) =>
    runComparison(x, y, {
      name,
      spec: { a: x.summary.id, b: y.summary.id, estimator: 'biased', permutations: 0 },
      data: {},
      dataset: () => Promise.reject(new Error('no dataset')),
      cache: new WorkspaceCache(join(work, `cache-${name}`)),
      signal: new AbortController().signal,
      onPartial: async () => undefined,
      onProgress: () => undefined,
      log: () => undefined,
    });
  await assert.rejects(compare(a, b, 'mismatch'), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /run-a\.npz and .*run-b\.npz: example ids differ at row 5: 'img_0005' in .*run-a\.npz, 'other' in .*run-b\.npz/);
    return true;
  });
  const oneSided = await compare(a, bare, 'one-sided');
  assert.ok(oneSided.warnings.some((w) => /run-a\.npz has example ids but .*run-c\.npz has none/.test(w)), oneSided.warnings.join('\n'));
});

// --- The CLI ---------------------------------------------------------------------------------

test('repsim cka with mismatching ids exits 1 with the message; ids in one file only warn', () => {
  const a = writeNpz('a.npz', { fc1: layer(20, 4, 1), fc2: layer(20, 3, 2), ids: unicodeNpy(names(20)) });
  const b = writeNpz('b.npz', { fc1: layer(20, 4, 3), ids: unicodeNpy([...names(17), ...names(3, 18)]) });
  const bare = writeNpz('bare.npz', { fc1: layer(20, 4, 3) });
  const root = join(__dirname, '..', '..');
  const repsim = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), '--backend', 'cpu', ...args], { encoding: 'utf8', cwd: root });
  const mismatch = repsim('cka', a, b, '--estimator', 'biased', '--quiet');
  assert.equal(mismatch.status, 1, mismatch.stderr);
  assert.equal(mismatch.stderr.trim().split('\n').at(-1), `repsim: ${a} and ${b}: example ids differ at row 17: 'img_0017' in ${a}, 'img_0018' in ${b} (the rows must be the same examples in the same order)`);
  const oneSided = repsim('cka', a, bare, '--estimator', 'biased', '--quiet');
  assert.equal(oneSided.status, 0, oneSided.stderr);
  assert.match(oneSided.stderr, /a\.npz has example ids but .*bare\.npz has none/);
});
