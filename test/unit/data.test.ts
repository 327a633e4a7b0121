import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError } from '../../src/engine/errors.js';
import {
  CIFAR10_CLASS_NAMES,
  FASHION_MNIST_CLASS_NAMES,
  encodeIdx,
  loadCifar10,
  loadDataset,
  loadFashionMnist,
  parseCifarBatches,
  parseIdx,
  type ImageSplit,
  type LoadProgress,
} from '../../src/engine/data/index.js';
import { findPackageRoot } from '../../src/engine/packageRoot.js';
import {
  CIFAR_BATCH_NAMES,
  FASHION_FILE_NAMES,
  cifarLabel,
  cifarPixel,
  fashionPixel,
  makeCifarArchive,
  makeCifarBatch,
  makeFashionFiles,
  md5,
  withTempDir,
  writeCifarDirectory,
  writeFiles,
} from '../fixtures/data/builders.js';

/** Asserts that `promise` rejects with an InputError whose one-line message matches `pattern`. */
async function rejectsInput(promise: Promise<unknown>, pattern: RegExp): Promise<InputError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes('\n'), `one line: ${error.message}`);
    return error;
  }
  assert.fail(`expected a rejection matching ${pattern}`);
}

const pixelAt = (split: ImageSplit, image: number, y: number, x: number, c: number) =>
  split.images[((image * split.height + y) * split.width + x) * split.channels + c];

// --- IDX ------------------------------------------------------------------------------------

test('IDX: gzipped and plain files round-trip; dimensions are big-endian', () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 5);
  const plain = encodeIdx([2, 3, 4], data, { gzip: false });
  assert.deepEqual(Array.from(plain.subarray(0, 16)), [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
  for (const bytes of [plain, encodeIdx([2, 3, 4], data)]) {
    const parsed = parseIdx(bytes, 'x.idx', 2051);
    assert.deepEqual(parsed.dims, [2, 3, 4]);
    assert.deepEqual(Array.from(parsed.data), Array.from(data));
  }
});

test('IDX: wrong magic, truncated data, extra bytes and truncated gzip are InputErrors naming the file', () => {
  const images = encodeIdx([2, 2, 2], new Uint8Array(8), { gzip: false });
  const fail = (bytes: Uint8Array, pattern: RegExp) =>
    assert.throws(() => parseIdx(bytes, 'images.gz', 2051), (error: unknown) => error instanceof InputError && pattern.test(error.message) && error.input === 'images.gz');
  fail(encodeIdx([8], new Uint8Array(8), { gzip: false }), /^images\.gz: bad magic number 2049, expected 2051/);
  fail(images.subarray(0, images.length - 1), /truncated: dimensions \[2,2,2\] need 8 bytes of data, the file has 7/);
  fail(Uint8Array.from([...images, 0]), /1 unexpected bytes after the data/);
  fail(images.subarray(0, 10), /truncated IDX header/);
  const gzipped = gzipSync(images);
  fail(gzipped.subarray(0, gzipped.length - 6), /^images\.gz: truncated gzip data/);
  const corrupted = Uint8Array.from(gzipped);
  corrupted[corrupted.length - 8] ^= 0xff; // the CRC32
  fail(corrupted, /^images\.gz: corrupt gzip data/);
});

// --- CIFAR-10 -------------------------------------------------------------------------------

test('CIFAR-10 records are converted from CHW planes to HWC with their labels', () => {
  const split = parseCifarBatches([
    { bytes: makeCifarBatch(0, 2), source: 'a.bin' },
    { bytes: makeCifarBatch(1, 3), source: 'b.bin' },
  ]);
  assert.equal(split.count, 5);
  assert.deepEqual([split.height, split.width, split.channels], [32, 32, 3]);
  assert.deepEqual(Array.from(split.labels), [cifarLabel(0, 0), cifarLabel(0, 1), cifarLabel(1, 0), cifarLabel(1, 1), cifarLabel(1, 2)]);
  for (const [image, batch, record] of [[0, 0, 0], [1, 0, 1], [4, 1, 2]]) {
    for (const [y, x] of [[0, 0], [0, 31], [5, 7], [31, 31]]) {
      for (let c = 0; c < 3; c++) assert.equal(pixelAt(split, image, y, x, c), cifarPixel(batch, record, c, y * 32 + x), `image ${image} (${y},${x}) channel ${c}`);
    }
  }
});

test('CIFAR-10: a batch that is not whole records, or has a label ≥ 10, is an InputError naming it', () => {
  const batch = makeCifarBatch(0, 2);
  assert.throws(() => parseCifarBatches([{ bytes: batch.subarray(0, 3073 + 100), source: 'cut.bin' }]), /^InputError: cut\.bin: 3173 bytes is not a whole number of 3073-byte records/);
  batch[3073] = 10;
  assert.throws(() => parseCifarBatches([{ bytes: batch, source: 'bad.bin' }]), /bad\.bin: record 1 has label 10/);
});

test('CIFAR-10 reads an extracted cifar-10-batches-bin/ (from the data directory or given directly)', () =>
  withTempDir(async (dir) => {
    const batchDir = writeCifarDirectory(dir, 3);
    const reads: LoadProgress[] = [];
    const dataset = await loadCifar10({ dataDir: dir, onProgress: (p) => reads.push(p) });
    assert.equal(dataset.name, 'cifar10');
    assert.deepEqual(dataset.classNames, CIFAR10_CLASS_NAMES);
    assert.equal(dataset.source, batchDir);
    assert.equal(dataset.train.count, 15);
    assert.equal(dataset.test.count, 3);
    // Training images in batch order; the test batch is batch index 5 of the builder.
    assert.equal(dataset.train.labels[7], cifarLabel(2, 1));
    assert.equal(pixelAt(dataset.train, 7, 2, 3, 1), cifarPixel(2, 1, 1, 2 * 32 + 3));
    assert.equal(pixelAt(dataset.test, 2, 31, 0, 2), cifarPixel(5, 2, 2, 31 * 32));
    assert.deepEqual(reads.map((p) => [p.phase, p.done, p.total]).at(-1), ['read', 6, 6]);
    assert.equal(dataset.normalization.mean.length, 3);

    const direct = await loadCifar10({ dataDir: batchDir });
    assert.deepEqual(direct.train.images, dataset.train.images);
  }));

test('CIFAR-10: a missing, shortened or incomplete copy is an InputError naming the file', () =>
  withTempDir(async (dir) => {
    await rejectsInput(loadCifar10({ dataDir: dir }), /^CIFAR-10 not found in .*: expected cifar-10-batches-bin\/ or cifar-10-binary\.tar\.gz; enable downloading/);
    await rejectsInput(loadCifar10({}), /CIFAR-10 not found \(no data directory given\)/);

    const batchDir = writeCifarDirectory(dir, 2);
    truncateSync(join(batchDir, 'data_batch_3.bin'), 3073 + 5);
    await rejectsInput(loadCifar10({ dataDir: dir }), /data_batch_3\.bin: 3078 bytes is not a whole number of 3073-byte records \(truncated/);
    truncateSync(join(batchDir, 'data_batch_3.bin'), 3073);
    await rejectsInput(loadCifar10({ dataDir: dir }), /data_batch_3\.bin: 1 records but .*data_batch_1\.bin has 2 \(truncated\?\)/);
    rmSync(join(batchDir, 'test_batch.bin'));
    await rejectsInput(loadCifar10({ dataDir: dir }), /cifar-10-batches-bin: incomplete CIFAR-10 binary batches \(missing test_batch\.bin\)/);
  }));

test('CIFAR-10 from a local cifar-10-binary.tar.gz: checked against its MD5, extracted beside it, then reused', () =>
  withTempDir(async (dir) => {
    const archive = await makeCifarArchive(2);
    const archivePath = join(dir, 'cifar-10-binary.tar.gz');
    writeFileSync(archivePath, archive);

    // The published checksum is the real archive's, so this small one is refused, and nothing is extracted.
    await rejectsInput(loadCifar10({ dataDir: dir }), /cifar-10-binary\.tar\.gz: MD5 checksum [0-9a-f]{32} does not match the published c32a1d4ab5d03f1284b67883e8d87530/);
    assert.deepEqual(readdirSync(dir), ['cifar-10-binary.tar.gz']);

    const checksums = { 'cifar-10-binary.tar.gz': md5(archive) };
    const phases = new Set<string>();
    const dataset = await loadCifar10({ dataDir: dir, checksums, onProgress: (p) => phases.add(p.phase) });
    assert.deepEqual([...phases], ['verify', 'extract', 'read']);
    assert.equal(dataset.train.count, 10);
    assert.equal(dataset.source, join(dir, 'cifar-10-batches-bin'));
    assert.deepEqual(readdirSync(dir).sort(), ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']);
    // Only the batch files are extracted.
    assert.deepEqual(readdirSync(join(dir, 'cifar-10-batches-bin')).sort(), [...CIFAR_BATCH_NAMES].sort());

    // Naming the archive itself works too, and the copy extracted beside it is now read
    // (neither checked nor extracted again).
    const named = new Set<string>();
    const again = await loadCifar10({ dataDir: archivePath, checksums, onProgress: (p) => named.add(p.phase) });
    assert.deepEqual(again.train.labels, dataset.train.labels);
    assert.deepEqual([...named], ['read']);
    assert.equal(again.source, join(dir, 'cifar-10-batches-bin'));
    const reused = new Set<string>();
    await loadCifar10({ dataDir: dir, onProgress: (p) => reused.add(p.phase) });
    assert.deepEqual([...reused], ['read']);
  }));

test('CIFAR-10: a corrupt local archive leaves no half-extracted cache', () =>
  withTempDir(async (dir) => {
    const archive = Buffer.from(await makeCifarArchive(2));
    const truncated = archive.subarray(0, archive.length - 200);
    writeFileSync(join(dir, 'cifar-10-binary.tar.gz'), truncated);
    await rejectsInput(
      loadCifar10({ dataDir: dir, checksums: { 'cifar-10-binary.tar.gz': md5(truncated) } }),
      /cifar-10-binary\.tar\.gz: corrupt or truncated archive/,
    );
    assert.deepEqual(readdirSync(dir), ['cifar-10-binary.tar.gz']);
  }));

// --- Fashion-MNIST --------------------------------------------------------------------------

test('Fashion-MNIST reads the four IDX files from a directory, gzipped or not', () =>
  withTempDir(async (dir) => {
    for (const gzip of [true, false]) {
      const local = join(dir, gzip ? 'gz' : 'plain');
      writeFiles(local, makeFashionFiles(12, 5, { gzip }));
      const dataset = await loadFashionMnist({ dataDir: local, searchPaths: [] });
      assert.equal(dataset.name, 'fashion-mnist');
      assert.deepEqual(dataset.classNames, FASHION_MNIST_CLASS_NAMES);
      assert.deepEqual([dataset.train.count, dataset.test.count], [12, 5]);
      assert.deepEqual([dataset.train.height, dataset.train.width, dataset.train.channels], [28, 28, 1]);
      assert.equal(pixelAt(dataset.train, 7, 3, 4, 0), fashionPixel('train', 7, 3 * 28 + 4));
      assert.equal(pixelAt(dataset.test, 4, 27, 27, 0), fashionPixel('test', 4, 783));
      assert.deepEqual(Array.from(dataset.test.labels), [0, 3, 6, 9, 2]);
      assert.equal(dataset.source, local);
    }
    // The cache layout, dataDir/fashion-mnist/, is found as well.
    writeFiles(join(dir, 'cached', 'fashion-mnist'), makeFashionFiles(3, 2));
    assert.equal((await loadFashionMnist({ dataDir: join(dir, 'cached'), searchPaths: [] })).train.count, 3);
  }));

test('Fashion-MNIST: missing, incomplete or inconsistent files are InputErrors naming the file', () =>
  withTempDir(async (dir) => {
    await rejectsInput(loadFashionMnist({ dataDir: dir, searchPaths: [] }), /^Fashion-MNIST not found in .*expected train-images-idx3-ubyte\.gz, .*enable downloading/);

    const files = makeFashionFiles(4, 2);
    writeFiles(dir, new Map([...files].slice(0, 3)));
    await rejectsInput(loadFashionMnist({ dataDir: dir, searchPaths: [] }), /: incomplete Fashion-MNIST \(missing t10k-labels-idx1-ubyte\.gz\)$/);

    writeFiles(dir, new Map([['t10k-labels-idx1-ubyte.gz', encodeIdx([3], new Uint8Array(3))]]));
    await rejectsInput(loadFashionMnist({ dataDir: dir, searchPaths: [] }), /t10k-labels-idx1-ubyte\.gz: 3 labels for 2 images in .*t10k-images-idx3-ubyte\.gz/);

    writeFiles(dir, new Map([['t10k-labels-idx1-ubyte.gz', encodeIdx([2], Uint8Array.of(1, 10))]]));
    await rejectsInput(loadFashionMnist({ dataDir: dir, searchPaths: [] }), /t10k-labels-idx1-ubyte\.gz: label 10 at index 1 is not a class/);

    writeFiles(dir, new Map([['t10k-labels-idx1-ubyte.gz', files.get('t10k-images-idx3-ubyte.gz')!]]));
    await rejectsInput(loadFashionMnist({ dataDir: dir, searchPaths: [] }), /t10k-labels-idx1-ubyte\.gz: bad magic number 2051, expected 2049/);

    const gz = files.get('train-images-idx3-ubyte.gz')!;
    writeFiles(dir, new Map([['t10k-labels-idx1-ubyte.gz', files.get('t10k-labels-idx1-ubyte.gz')!], ['train-images-idx3-ubyte.gz', gz.subarray(0, gz.length - 20)]]));
    await rejectsInput(loadFashionMnist({ dataDir: dir, searchPaths: [] }), /train-images-idx3-ubyte\.gz: truncated gzip data/);
  }));

// --- The embedded subset --------------------------------------------------------------------

test('the embedded Fashion-MNIST subset: 2,000 training and 1,000 test images, labels 0‥9, all classes', async () => {
  const dataset = await loadDataset('fashion-mnist-subset');
  assert.equal(dataset.name, 'fashion-mnist-subset');
  assert.deepEqual(dataset.classNames, ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
  assert.deepEqual([dataset.train.count, dataset.test.count], [2000, 1000]);
  for (const split of [dataset.train, dataset.test]) {
    assert.deepEqual([split.height, split.width, split.channels], [28, 28, 1]);
    assert.equal(split.images.length, split.count * 784);
    const perClass = new Array(10).fill(0);
    for (const label of split.labels) perClass[label]++;
    assert.equal(perClass.reduce((a, b) => a + b), split.count);
    assert.ok(perClass.every((n) => n > 0), `every class present: ${perClass}`);
  }
  // The official files' first labels: Ankle boot, T-shirt/top, T-shirt/top, Dress, …
  assert.deepEqual(Array.from(dataset.train.labels.subarray(0, 5)), [9, 0, 0, 3, 0]);
  assert.deepEqual(Array.from(dataset.test.labels.subarray(0, 5)), [9, 2, 1, 1, 6]);
  assert.ok(Math.abs(dataset.normalization.mean[0] - 0.286) < 0.01, `mean ${dataset.normalization.mean}`);
  assert.ok(Math.abs(dataset.normalization.std[0] - 0.353) < 0.01, `std ${dataset.normalization.std}`);

  const root = findPackageRoot();
  assert.equal(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name, 'repsim');
  assert.equal(dataset.source, join(root, 'data', 'fashion-mnist-subset'));
  for (const name of [...FASHION_FILE_NAMES.map((n) => `${n}.gz`), 'LICENSE', 'README.md']) assert.ok(readdirSync(dataset.source).includes(name), name);
  assert.match(readFileSync(join(dataset.source, 'LICENSE'), 'utf8'), /Copyright: 2017, Zalando SE/);
});

test('loadDataset refuses an unknown name with an InputError', async () => {
  await assert.rejects(async () => loadDataset('mnist' as never), /unknown dataset 'mnist': expected one of cifar10, fashion-mnist, fashion-mnist-subset/);
});

test('findPackageRoot walks up to the repsim package.json', () =>
  withTempDir(async (dir) => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'repsim' }));
    mkdirSync(join(dir, 'dist', 'deep'), { recursive: true });
    assert.equal(findPackageRoot(join(dir, 'dist', 'deep')), dir);
  }));
