// Makes the Fashion-MNIST subset embedded in the package (data/fashion-mnist-subset/): the
// first 2,000 training and first 1,000 test images with their labels, as gzipped IDX files
// named like the official ones.
//
// Usage: node scripts/make-embedded-subset.mjs [SOURCE_DIR]
//   SOURCE_DIR holds the official four files, gzipped or not (default: where Debian's
//   dataset-fashion-mnist package installs them, /usr/share/datasets/fashion-mnist).
//
// The source is checked against the MD5s of the official files' decompressed content (Debian
// recompressed the .gz files, so their own MD5s differ from the published ones; the content is
// identical). The output is deterministic: gzip level 9 with no file name and time 0.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const SOURCE_DIR = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'fashion-mnist-subset');

const FILES = [
  // name, magic, MD5 of the official decompressed file, examples to keep
  { name: 'train-images-idx3-ubyte', magic: 2051, md5: 'f4a8712d7a061bf5bd6d2ca38dc4d50a', keep: 2000 },
  { name: 'train-labels-idx1-ubyte', magic: 2049, md5: '9018921c3c673c538a1fc5bad174d6f9', keep: 2000 },
  { name: 't10k-images-idx3-ubyte', magic: 2051, md5: '8181f5470baa50b63fa0f6fddb340f0a', keep: 1000 },
  { name: 't10k-labels-idx1-ubyte', magic: 2049, md5: '15d484375f8d13e6eb1aabb0c3f46965', keep: 1000 },
];

const md5 = (bytes) => createHash('md5').update(bytes).digest('hex');

function readOfficial({ name, md5: expected }) {
  const gzipped = join(SOURCE_DIR, `${name}.gz`);
  const path = existsSync(gzipped) ? gzipped : join(SOURCE_DIR, name);
  const file = readFileSync(path);
  const content = file[0] === 0x1f && file[1] === 0x8b ? gunzipSync(file) : file;
  const actual = md5(content);
  if (actual !== expected) throw new Error(`${path}: decompressed MD5 ${actual}, expected the official ${expected}`);
  return content;
}

/** The first `keep` examples of an unsigned-byte IDX file, with its count rewritten. */
function firstExamples(content, { name, magic, keep }) {
  const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
  if (view.getUint32(0) !== magic) throw new Error(`${name}: magic ${view.getUint32(0)}, expected ${magic}`);
  const rank = content[3];
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  if (dims[0] < keep) throw new Error(`${name}: only ${dims[0]} examples`);
  const headerLength = 4 + 4 * rank;
  const exampleBytes = dims.slice(1).reduce((product, dim) => product * dim, 1);
  const subset = Buffer.from(content.subarray(0, headerLength + keep * exampleBytes));
  subset.writeUInt32BE(keep, 4);
  return { subset, dims: [keep, ...dims.slice(1)] };
}

mkdirSync(OUTPUT_DIR, { recursive: true });
for (const file of FILES) {
  const { subset, dims } = firstExamples(readOfficial(file), file);
  const gzipped = gzipSync(subset, { level: 9 });
  writeFileSync(join(OUTPUT_DIR, `${file.name}.gz`), gzipped);
  console.log(`${file.name}.gz  [${dims.join(', ')}]  ${gzipped.length} bytes  md5 ${md5(gzipped)}  content md5 ${md5(subset)}`);
}
