/**
 * Fashion-MNIST (https://github.com/zalandoresearch/fashion-mnist): 28×28 grey images of 10
 * kinds of clothing, 60,000 for training and 10,000 for testing, in four gzipped IDX files.
 * Also the small subset embedded in this package (data/fashion-mnist-subset/), same format.
 */
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { ensureDirectory, isFile, readInputFile } from './cache.js';
import { downloadFile, joinUrl } from './download.js';
import { splitFromIdx } from './idx.js';
import { computeNormalization } from './normalize.js';
import { findPackageRoot } from '../packageRoot.js';
import type { DatasetName, ImageDataset, ImageSplit, LoadOptions } from './types.js';

export const FASHION_MNIST_CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

/**
 * The upstream repository's copy of the files. The README's other link, an S3 website
 * endpoint, serves plain HTTP only; the checksums are the same.
 */
export const FASHION_MNIST_BASE_URL = 'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/';

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The subdirectory of the data directory that downloads go to. */
export const FASHION_MNIST_CACHE_DIRECTORY = 'fashion-mnist';

/** The four files, without their `.gz`. */
export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/**
 * MD5s of the gzipped files as published in the upstream README (and used by torchvision).
 * Other gzip wrappings of the same data differ: Debian's package recompressed them, so its .gz
 * files have other MD5s, while their decompressed content matches the upstream files'.
 */
export const FASHION_MNIST_MD5: Readonly<Record<string, string>> = {
  'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
  'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
  't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
  't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
};

/** The embedded subset: the first 2,000 training and 1,000 test images of Fashion-MNIST. */
export const SUBSET_DIRECTORY = join('data', 'fashion-mnist-subset');
export const SUBSET_COUNTS = { train: 2000, test: 1000 } as const;

const FILE_STEMS = Object.values(FASHION_MNIST_FILES);

/** The path of each file in `dir`, gzipped or not (null where absent), in FASHION_MNIST_FILES order. */
async function findFiles(dir: string): Promise<(string | null)[]> {
  return Promise.all(
    FILE_STEMS.map(async (stem) => {
      for (const name of [`${stem}.gz`, stem]) if (await isFile(join(dir, name))) return join(dir, name);
      return null;
    }),
  );
}

/** Reads the four IDX files into a dataset, reporting 'read' progress in files. */
async function readFiles(paths: readonly string[], name: DatasetName, source: string, options: LoadOptions): Promise<ImageDataset> {
  const contents: Uint8Array[] = [];
  for (const [i, path] of paths.entries()) {
    options.signal?.throwIfAborted();
    options.onProgress?.({ phase: 'read', file: path, done: i, total: paths.length });
    contents.push(await readInputFile(path));
  }
  options.onProgress?.({ phase: 'read', file: paths[paths.length - 1], done: paths.length, total: paths.length });
  const [trainImages, trainLabels, testImages, testLabels] = contents.map((bytes, i) => ({ bytes, source: paths[i] }));
  const classCount = FASHION_MNIST_CLASS_NAMES.length;
  const train = splitFromIdx(trainImages, trainLabels, classCount);
  const test = splitFromIdx(testImages, testLabels, classCount);
  checkSameImageSize(train, test, paths[2]);
  return { name, classNames: FASHION_MNIST_CLASS_NAMES, train, test, normalization: computeNormalization(train), source };
}

function checkSameImageSize(train: ImageSplit, test: ImageSplit, testSource: string): void {
  if (train.height !== test.height || train.width !== test.width) {
    throw new InputError(`${testSource}: test images are ${test.height}×${test.width}, training images ${train.height}×${train.width}`, testSource);
  }
}

/**
 * Loads Fashion-MNIST from the first directory holding all four files (gzipped or not):
 * `dataDir`, `dataDir/fashion-mnist/`, then `searchPaths` (default: Debian's install
 * directory). Otherwise, with `download`, fetches the missing files into
 * `dataDir/fashion-mnist/`, each checked against its published MD5 before it is renamed into
 * place. A local copy is checked by its structure (gzip CRCs, IDX magic numbers and sizes,
 * label counts and range), not by checksum, so that recompressed or uncompressed copies work.
 */
export async function loadFashionMnist(options: LoadOptions = {}): Promise<ImageDataset> {
  const cacheDir = options.dataDir !== undefined ? join(options.dataDir, FASHION_MNIST_CACHE_DIRECTORY) : undefined;
  const places = [...(options.dataDir !== undefined ? [options.dataDir, cacheDir!] : []), ...(options.searchPaths ?? [DEBIAN_FASHION_MNIST_DIR])];
  for (const place of places) {
    const paths = await findFiles(place);
    if (paths.every((path) => path !== null)) return readFiles(paths as string[], 'fashion-mnist', place, options);
    const resumable = place === cacheDir && options.download; // an earlier download stopped part-way
    if (paths.some((path) => path !== null) && !resumable) {
      const missing = FILE_STEMS.filter((_, i) => paths[i] === null).map((stem) => `${stem}.gz`);
      throw new InputError(`${place}: incomplete Fashion-MNIST (missing ${missing.join(', ')})`, place);
    }
  }

  const baseUrl = options.baseUrl ?? FASHION_MNIST_BASE_URL;
  if (!options.download) {
    const where = places.length ? `in ${places.join(', ')}` : '(no data directory given)';
    throw new InputError(
      `Fashion-MNIST not found ${where}: expected ${FILE_STEMS.map((stem) => `${stem}.gz`).join(', ')}; enable downloading to fetch them from ${baseUrl}`,
      options.dataDir ?? 'dataDir',
    );
  }
  if (cacheDir === undefined) throw new InputError('Fashion-MNIST: no data directory to download into', 'dataDir');
  await ensureDirectory(cacheDir);
  const present = await findFiles(cacheDir);
  for (const [i, stem] of FILE_STEMS.entries()) {
    if (present[i] !== null) continue;
    const name = `${stem}.gz`;
    await downloadFile(joinUrl(baseUrl, name), join(cacheDir, name), {
      md5: options.checksums?.[name] ?? FASHION_MNIST_MD5[name],
      onProgress: options.onProgress,
      signal: options.signal,
    });
  }
  return readFiles((await findFiles(cacheDir)) as string[], 'fashion-mnist', cacheDir, options);
}

/** The directory of the embedded subset in this package. */
export function embeddedSubsetDirectory(): string {
  return join(findPackageRoot(), SUBSET_DIRECTORY);
}

/** Loads the subset embedded in the package: the first 2,000 training and 1,000 test images. */
export async function loadFashionMnistSubset(options: Pick<LoadOptions, 'onProgress' | 'signal'> = {}): Promise<ImageDataset> {
  const dir = embeddedSubsetDirectory();
  const paths = FILE_STEMS.map((stem) => join(dir, `${stem}.gz`));
  const dataset = await readFiles(paths, 'fashion-mnist-subset', dir, options);
  if (dataset.train.count !== SUBSET_COUNTS.train || dataset.test.count !== SUBSET_COUNTS.test) {
    throw new InputError(
      `${dir}: the embedded subset holds ${dataset.train.count} training and ${dataset.test.count} test images, expected ${SUBSET_COUNTS.train} and ${SUBSET_COUNTS.test}`,
      dir,
    );
  }
  return dataset;
}
