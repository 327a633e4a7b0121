/**
 * CIFAR-10, binary version (https://www.cs.toronto.edu/~kriz/cifar.html): the archive
 * `cifar-10-binary.tar.gz` holds `cifar-10-batches-bin/` with five training batches
 * `data_batch_{1‥5}.bin` and `test_batch.bin`, 10,000 records each. A record is one label byte
 * then 3,072 pixel bytes: the red, green and blue 32×32 planes in turn (CHW), converted here to
 * HWC.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { InputError } from '../errors.js';
import {
  asWriteError,
  checkMd5,
  ensureDirectory,
  isFile,
  md5OfFile,
  removeQuietly,
  renameDirectoryIntoPlace,
  temporaryPathBeside,
} from './cache.js';
import { downloadFile, joinUrl } from './download.js';
import { computeNormalization } from './normalize.js';
import { throttledProgress } from './progress.js';
import type { ImageDataset, ImageSplit, LoadOptions } from './types.js';

export const CIFAR10_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;
export const CIFAR10_BASE_URL = 'https://www.cs.toronto.edu/~kriz/';
export const CIFAR10_ARCHIVE = 'cifar-10-binary.tar.gz';
/** As published on the CIFAR page. */
export const CIFAR10_ARCHIVE_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
/** The Python version's archive (cifar-10-python.tar.gz), which RepSim does not read: recognised to say so. */
const CIFAR10_PYTHON_ARCHIVE_MD5 = 'c58f30108f718f92721af3b95e74349a';
export const CIFAR10_DIRECTORY = 'cifar-10-batches-bin';
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const;
export const CIFAR10_TEST_FILE = 'test_batch.bin';

const SIDE = 32;
const CHANNELS = 3;
const PLANE = SIDE * SIDE;
const IMAGE_BYTES = PLANE * CHANNELS;
export const CIFAR10_RECORD_BYTES = 1 + IMAGE_BYTES;

/**
 * Converts the records in `bytes` (whole records only) into `images` (HWC) and `labels`,
 * starting at record `first` of the split.
 */
function decodeRecords(bytes: Uint8Array, source: string, images: Uint8Array, labels: Uint8Array, first: number): void {
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  for (let record = 0; record < count; record++) {
    const start = record * CIFAR10_RECORD_BYTES;
    const label = bytes[start];
    if (label >= CIFAR10_CLASS_NAMES.length) {
      throw new InputError(`${source}: record ${record} has label ${label}, expected 0‥9 (not a CIFAR-10 binary batch?)`, source);
    }
    labels[first + record] = label;
    const red = start + 1;
    const green = red + PLANE;
    const blue = green + PLANE;
    for (let p = 0, out = (first + record) * IMAGE_BYTES; p < PLANE; p++, out += CHANNELS) {
      images[out] = bytes[red + p];
      images[out + 1] = bytes[green + p];
      images[out + 2] = bytes[blue + p];
    }
  }
}

/** Parses CIFAR-10 binary batches (in memory) into one split. `source` names each in errors. */
export function parseCifarBatches(batches: readonly { readonly bytes: Uint8Array; readonly source: string }[]): ImageSplit {
  for (const { bytes, source } of batches) checkBatchLength(bytes.length, source);
  const count = batches.reduce((sum, { bytes }) => sum + bytes.length / CIFAR10_RECORD_BYTES, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let first = 0;
  for (const { bytes, source } of batches) {
    decodeRecords(bytes, source, images, labels, first);
    first += bytes.length / CIFAR10_RECORD_BYTES;
  }
  return { count, height: SIDE, width: SIDE, channels: CHANNELS, images, labels };
}

function checkBatchLength(length: number, source: string): void {
  if (length === 0 || length % CIFAR10_RECORD_BYTES !== 0) {
    throw new InputError(
      `${source}: ${length} bytes is not a whole number of ${CIFAR10_RECORD_BYTES}-byte records (truncated, or not a CIFAR-10 binary batch)`,
      source,
    );
  }
}

/** Where a copy of CIFAR-10 was found. */
type CifarLocation = { readonly kind: 'directory'; readonly path: string } | { readonly kind: 'archive'; readonly path: string; readonly cacheDir: string };

const BATCH_FILES = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];

/**
 * Looks in `dir` for the batches (in `cifar-10-batches-bin/` or `dir` itself), then the archive.
 * `dir` may name the .tar.gz itself: then the copy extracted beside it, if complete, is used.
 */
async function locateIn(dir: string): Promise<CifarLocation | null> {
  if (await isFile(dir)) {
    const extracted = join(dirname(dir), CIFAR10_DIRECTORY);
    if ((await Promise.all(BATCH_FILES.map((name) => isFile(join(extracted, name))))).every(Boolean)) return { kind: 'directory', path: extracted };
    return { kind: 'archive', path: dir, cacheDir: dirname(dir) };
  }
  for (const candidate of [join(dir, CIFAR10_DIRECTORY), dir]) {
    const present = await Promise.all(BATCH_FILES.map((name) => isFile(join(candidate, name))));
    if (present.every(Boolean)) return { kind: 'directory', path: candidate };
    if (present.some(Boolean)) {
      const missing = BATCH_FILES.filter((_, i) => !present[i]);
      throw new InputError(`${candidate}: incomplete CIFAR-10 binary batches (missing ${missing.join(', ')})`, candidate);
    }
  }
  const archive = join(dir, CIFAR10_ARCHIVE);
  if (await isFile(archive)) return { kind: 'archive', path: archive, cacheDir: dir };
  return null;
}

/** Batch files by name, read on demand: from a directory, or from an archive in memory. */
interface BatchSource {
  size(name: string): number;
  bytes(name: string): Promise<Uint8Array>;
  /** Names a batch in errors and progress (an archive member is named inside its archive). */
  describe(name: string): string;
}

/** Decodes the six batches into the training and test splits, reporting 'read' progress in files. */
async function decodeBatches(source: BatchSource, options: LoadOptions): Promise<{ train: ImageSplit; test: ImageSplit }> {
  for (const name of BATCH_FILES) checkBatchLength(source.size(name), source.describe(name));
  // The official batches all hold 10,000 records: one that differs was cut short.
  const [first, ...others] = BATCH_FILES;
  const perBatch = source.size(first) / CIFAR10_RECORD_BYTES;
  for (const name of others) {
    const records = source.size(name) / CIFAR10_RECORD_BYTES;
    if (records !== perBatch) {
      throw new InputError(`${source.describe(name)}: ${records} records but ${source.describe(first)} has ${perBatch} (truncated?)`, source.describe(name));
    }
  }

  const train = emptySplit(perBatch * CIFAR10_TRAIN_FILES.length);
  const test = emptySplit(perBatch);
  for (const [i, name] of BATCH_FILES.entries()) {
    options.signal?.throwIfAborted();
    options.onProgress?.({ phase: 'read', file: source.describe(name), done: i, total: BATCH_FILES.length });
    const split = name === CIFAR10_TEST_FILE ? test : train;
    decodeRecords(await source.bytes(name), source.describe(name), split.images, split.labels, name === CIFAR10_TEST_FILE ? 0 : i * perBatch);
  }
  options.onProgress?.({ phase: 'read', file: source.describe(CIFAR10_TEST_FILE), done: BATCH_FILES.length, total: BATCH_FILES.length });
  return { train, test };
}

function emptySplit(count: number): ImageSplit {
  return { count, height: SIDE, width: SIDE, channels: CHANNELS, images: new Uint8Array(count * IMAGE_BYTES), labels: new Uint8Array(count) };
}

async function directorySource(dir: string): Promise<BatchSource> {
  const sizes = new Map<string, number>();
  for (const name of BATCH_FILES) {
    const size = (await stat(join(dir, name)).catch(() => null))?.size;
    if (size === undefined) throw new InputError(`${join(dir, name)}: missing`, join(dir, name));
    sizes.set(name, size);
  }
  return {
    size: (name) => sizes.get(name)!,
    bytes: (name) => readExactly(join(dir, name), sizes.get(name)!),
    describe: (name) => join(dir, name),
  };
}

/** Reads `size` bytes; a file that changed size since it was measured is an error. */
async function readExactly(path: string, size: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(size);
  try {
    const handle = await open(path, 'r');
    try {
      const { bytesRead } = await handle.read(bytes, 0, size, 0);
      if (bytesRead !== size) throw new InputError(`${path}: truncated while reading (${bytesRead} of ${size} bytes)`, path);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, path);
  }
  return bytes;
}

/** No official batch comes near this; a larger member is refused before it is buffered. */
const MAX_MEMBER_BYTES = 64 * 1024 * 1024;

/**
 * Extracts the six batch files of `archive` into memory with tar's parser, reporting bytes of
 * the archive read. `label` names the archive in errors and progress (its URL when downloaded).
 * Members are collected rather than written by tar, so that nothing is left on disk by a
 * failure part-way and no path from the archive is ever used as a file name.
 */
async function extractBatches(archive: string, label: string, options: LoadOptions): Promise<Map<string, Uint8Array>> {
  const total = (await stat(archive)).size;
  const report = throttledProgress(options.onProgress, 'extract', label, total);
  let done = 0;
  report(done);
  const members = new Map<string, Uint8Array>();
  const memberName = (path: string) => {
    const match = /^(?:\.\/)?cifar-10-batches-bin\/([^/]+)$/.exec(path);
    return match && (BATCH_FILES as readonly string[]).includes(match[1]) ? match[1] : null;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const input = createReadStream(archive, { signal: options.signal });
      const parser = new tar.Parser({
        strict: true, // tar's warnings (bad headers, zlib errors, truncation) become errors
        filter: (path, entry) => memberName(path) !== null && 'type' in entry && entry.type === 'File',
        onReadEntry: (entry) => {
          if (entry.size > MAX_MEMBER_BYTES) {
            input.destroy(new Error(`${entry.path} is ${entry.size} bytes, too large for a CIFAR-10 batch`));
            return;
          }
          const chunks: Buffer[] = [];
          entry.on('data', (chunk: Buffer) => chunks.push(chunk));
          entry.on('end', () => {
            const whole = Buffer.concat(chunks);
            // A plain Uint8Array view, so the decoder sees one array type from either source.
            members.set(memberName(entry.path)!, new Uint8Array(whole.buffer, whole.byteOffset, whole.length));
          });
        },
      });
      input.on('data', (chunk) => report((done += chunk.length)));
      input.on('error', reject);
      parser.on('error', reject);
      parser.on('end', () => resolve());
      input.pipe(parser);
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new InputError(`${label}: corrupt or truncated archive (${(error as Error).message})`, label);
  }
  report(done, true);
  const missing = BATCH_FILES.filter((name) => !members.has(name));
  if (missing.length) throw new InputError(`${label}: the archive has no ${missing.map((name) => `${CIFAR10_DIRECTORY}/${name}`).join(', ')}`, label);
  return members;
}

/**
 * Writes the batches into `dir` (new), each flushed to disk before the directory is renamed
 * into place. Failures name `cacheDir`, not the temporary directory.
 */
async function writeBatches(dir: string, cacheDir: string, members: Map<string, Uint8Array>): Promise<void> {
  try {
    await mkdir(dir);
    for (const [name, bytes] of members) {
      const handle = await open(join(dir, name), 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  } catch (error) {
    throw asWriteError(error, cacheDir);
  }
}

/**
 * Extracts `archive`, checks and decodes its batches, writes them to a temporary directory in
 * `cacheDir`, and only then renames that into place as `cifar-10-batches-bin/`.
 */
async function extractAndRead(archive: string, label: string, cacheDir: string, options: LoadOptions): Promise<{ train: ImageSplit; test: ImageSplit; source: string }> {
  const members = await extractBatches(archive, label, options);
  const splits = await decodeBatches(
    {
      size: (name) => members.get(name)!.length,
      bytes: async (name) => members.get(name)!,
      describe: (name) => `${label}:${CIFAR10_DIRECTORY}/${name}`,
    },
    options,
  );
  const finalDir = join(cacheDir, CIFAR10_DIRECTORY);
  const workDir = temporaryPathBeside(finalDir, 'extracting');
  try {
    await writeBatches(workDir, cacheDir, members);
    await renameDirectoryIntoPlace(workDir, finalDir);
  } finally {
    await removeQuietly(workDir);
  }
  return { ...splits, source: finalDir };
}

/**
 * Loads CIFAR-10 from the first copy found in `dataDir` then `searchPaths`: the extracted
 * `cifar-10-batches-bin/` (or a directory holding its six batches), or `cifar-10-binary.tar.gz`
 * (or `dataDir` naming that file), which is checked against its MD5 and extracted beside itself.
 * Otherwise, with `download`, the archive is fetched into `dataDir`, checked, extracted into
 * `dataDir/cifar-10-batches-bin/` and deleted.
 */
export async function loadCifar10(options: LoadOptions = {}): Promise<ImageDataset> {
  const places = [...(options.dataDir !== undefined ? [options.dataDir] : []), ...(options.searchPaths ?? [])];
  const expectedMd5 = options.checksums?.[CIFAR10_ARCHIVE] ?? CIFAR10_ARCHIVE_MD5;
  let location: CifarLocation | null = null;
  for (const place of places) {
    location = await locateIn(place);
    if (location) break;
  }

  let loaded: { train: ImageSplit; test: ImageSplit; source: string };
  if (location?.kind === 'directory') {
    const dir = location.path;
    loaded = { ...(await decodeBatches(await directorySource(dir), options)), source: dir };
  } else if (location?.kind === 'archive') {
    const md5 = await md5OfFile(location.path, options.onProgress, options.signal);
    if (md5 === CIFAR10_PYTHON_ARCHIVE_MD5 && md5 !== expectedMd5) {
      throw new InputError(`${location.path}: this is CIFAR-10's Python version; RepSim reads the binary version, ${CIFAR10_ARCHIVE} (${options.baseUrl ?? CIFAR10_BASE_URL})`, location.path);
    }
    checkMd5(location.path, md5, expectedMd5);
    loaded = await extractAndRead(location.path, location.path, location.cacheDir, options);
  } else if (options.download) {
    if (options.dataDir === undefined) throw new InputError('CIFAR-10: no data directory to download into', 'dataDir');
    await ensureDirectory(options.dataDir);
    const url = joinUrl(options.baseUrl ?? CIFAR10_BASE_URL, CIFAR10_ARCHIVE);
    // The archive is only a step to the extracted batches: it lives under a temporary name.
    const archive = temporaryPathBeside(join(options.dataDir, CIFAR10_ARCHIVE), 'download');
    try {
      await downloadFile(url, archive, { md5: expectedMd5, onProgress: options.onProgress, signal: options.signal }).catch((error: unknown) => {
        if (!(error instanceof InputError)) throw error;
        throw new InputError(
          `${error.message}; to use a copy you already have, put ${CIFAR10_ARCHIVE} (or its extracted ${CIFAR10_DIRECTORY}/) in ${options.dataDir}, or make the data directory the folder that holds it`,
          error.input,
        );
      });
      loaded = await extractAndRead(archive, url, options.dataDir, options);
    } finally {
      await removeQuietly(archive);
    }
  } else {
    const where = places.length ? `in ${places.join(', ')}` : '(no data directory given)';
    throw new InputError(
      `CIFAR-10 not found ${where}: expected ${CIFAR10_DIRECTORY}/ or ${CIFAR10_ARCHIVE}; enable downloading to fetch it from ${options.baseUrl ?? CIFAR10_BASE_URL}`,
      options.dataDir ?? 'dataDir',
    );
  }
  return {
    name: 'cifar10',
    classNames: CIFAR10_CLASS_NAMES,
    train: loaded.train,
    test: loaded.test,
    normalization: computeNormalization(loaded.train),
    source: loaded.source,
  };
}
