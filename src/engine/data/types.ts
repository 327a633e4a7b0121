/**
 * The shapes shared by the dataset modules: images in memory, and the options and progress
 * reports of loading.
 */

/** One split (train or test) of an image dataset, held as raw bytes. */
export interface ImageSplit {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** count·height·width·channels bytes in 0‥255, image after image, each in HWC order. */
  readonly images: Uint8Array;
  /** count class indices, each < the dataset's class count. */
  readonly labels: Uint8Array;
}

/** Per-channel mean and standard deviation of pixel values on the [0, 1] scale. */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export interface ImageDataset {
  readonly name: DatasetName;
  readonly classNames: readonly string[];
  readonly train: ImageSplit;
  readonly test: ImageSplit;
  /** Computed from the training split (see `computeNormalization`). */
  readonly normalization: Normalization;
  /** Where the data was read from: a directory or an archive. */
  readonly source: string;
}

export type DatasetName = 'cifar10' | 'fashion-mnist' | 'fashion-mnist-subset';

export interface LoadProgress {
  readonly phase: 'download' | 'verify' | 'extract' | 'read';
  /** The file or URL being worked on. */
  readonly file: string;
  /** Bytes for download, verify and extract; files for read. */
  readonly done: number;
  /** 0 when unknown (a download whose server sent no length). */
  readonly total: number;
}

export interface LoadOptions {
  /**
   * Where the dataset lives or is to be cached: a directory holding an existing copy in one of
   * the layouts the loaders accept, or into which a download is extracted. Resolved by the
   * caller (settings, `--data-dir`).
   */
  readonly dataDir?: string;
  /** Fetch the dataset when no local copy is found (default false: never touch the network). */
  readonly download?: boolean;
  /** Replaces the official download location (a mirror, or a local server in tests). */
  readonly baseUrl?: string;
  /**
   * Further directories holding an existing copy, searched after `dataDir`. Default: for
   * Fashion-MNIST, where Debian's `dataset-fashion-mnist` package installs it; none for CIFAR-10.
   */
  readonly searchPaths?: readonly string[];
  /** MD5s by file name, replacing the published ones (for mirrors of repacked files, tests). */
  readonly checksums?: Readonly<Record<string, string>>;
  readonly onProgress?: (progress: LoadProgress) => void;
  readonly signal?: AbortSignal;
}
