/**
 * Image datasets for training and comparing models: CIFAR-10 and Fashion-MNIST read from a
 * local copy or downloaded into a cache, a small Fashion-MNIST subset embedded in the package,
 * per-channel normalisation, seeded augmentation and minibatches. Pure Node: no VS Code.
 */
import { InputError } from '../errors.js';
import { loadCifar10 } from './cifar.js';
import { loadFashionMnist, loadFashionMnistSubset } from './fashionMnist.js';
import type { DatasetName, ImageDataset, LoadOptions } from './types.js';

export type { DatasetName, ImageDataset, ImageSplit, LoadOptions, LoadProgress, Normalization } from './types.js';
export { batchCount, batches, type Batch, type BatchOptions } from './batches.js';
export { AUGMENT_PADDING, IDENTITY_TRANSFORM, randomTransform, transformImage, type ImageTransform } from './augment.js';
export { computeNormalization, normalizationTable, normalizeInto } from './normalize.js';
export { CIFAR10_ARCHIVE, CIFAR10_ARCHIVE_MD5, CIFAR10_BASE_URL, CIFAR10_CLASS_NAMES, CIFAR10_DIRECTORY, loadCifar10, parseCifarBatches } from './cifar.js';
export {
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_BASE_URL,
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_FILES,
  FASHION_MNIST_MD5,
  embeddedSubsetDirectory,
  loadFashionMnist,
  loadFashionMnistSubset,
} from './fashionMnist.js';
export { encodeIdx, parseIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './idx.js';
export { downloadFile } from './download.js';

export const DATASET_NAMES: readonly DatasetName[] = ['cifar10', 'fashion-mnist', 'fashion-mnist-subset'];

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/**
 * Loads a dataset by name. 'fashion-mnist-subset' is read from the package and ignores the
 * location options; the others look for a local copy and download only when `download` is set.
 */
export function loadDataset(name: DatasetName, options: LoadOptions = {}): Promise<ImageDataset> {
  switch (name) {
    case 'cifar10':
      return loadCifar10(options);
    case 'fashion-mnist':
      return loadFashionMnist(options);
    case 'fashion-mnist-subset':
      return loadFashionMnistSubset(options);
    default:
      throw new InputError(`unknown dataset '${name as string}': expected one of ${DATASET_NAMES.join(', ')}`, 'dataset');
  }
}
