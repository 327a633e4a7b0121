// Downloads from a loopback HTTP server (127.0.0.1) only: never the real network.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError } from '../../src/engine/errors.js';
import { checkDownloadUrl, downloadFile } from '../../src/engine/data/download.js';
import { loadCifar10, loadDataset, loadFashionMnist, type LoadProgress } from '../../src/engine/data/index.js';
import { makeCifarArchive, makeFashionFiles, md5, startServer, withTempDir, type TestServer } from '../fixtures/data/builders.js';

const TIMEOUT = { timeout: 20_000 };
const ARCHIVE = 'cifar-10-binary.tar.gz';

let server: TestServer;
let archive: Buffer;
let cifarChecksums: Record<string, string>;
const fashionFiles = makeFashionFiles(6, 4);
const fashionChecksums = Object.fromEntries([...fashionFiles].map(([name, bytes]) => [name, md5(bytes)]));

before(async () => {
  archive = await makeCifarArchive(2);
  cifarChecksums = { [ARCHIVE]: md5(archive) };
  server = await startServer();
});
after(() => server.close());

/** Serves `routes` (paths without the leading slash) for the duration of `body`. */
async function serving<T>(routes: Record<string, Parameters<TestServer['routes']['set']>[1]>, body: () => Promise<T>): Promise<T> {
  server.routes.clear();
  server.requests.length = 0;
  for (const [path, route] of Object.entries(routes)) server.routes.set(`/${path}`, route);
  try {
    return await body();
  } finally {
    server.routes.clear();
  }
}

async function rejectsInput(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes('\n'));
    return true;
  });
}

test('CIFAR-10 downloads over HTTP from the base URL with progress, is verified, extracted, cached and reused', TIMEOUT, () =>
  withTempDir((dir) =>
    serving({ [ARCHIVE]: { body: archive } }, async () => {
      const dataDir = join(dir, 'cache'); // created on demand
      const events: LoadProgress[] = [];
      const dataset = await loadDataset('cifar10', { dataDir, download: true, baseUrl: server.baseUrl, checksums: cifarChecksums, onProgress: (p) => events.push(p) });
      assert.deepEqual([dataset.train.count, dataset.test.count], [10, 2]);

      const url = `${server.baseUrl}${ARCHIVE}`;
      const downloads = events.filter((p) => p.phase === 'download');
      assert.deepEqual(downloads[0], { phase: 'download', file: url, done: 0, total: archive.length });
      assert.deepEqual(downloads.at(-1), { phase: 'download', file: url, done: archive.length, total: archive.length });
      assert.ok(downloads.every((p, i) => i === 0 || p.done >= downloads[i - 1].done), 'download progress never goes back');
      assert.deepEqual([...new Set(events.map((p) => p.phase))], ['download', 'verify', 'extract', 'read']);
      assert.ok(events.filter((p) => p.phase === 'extract').every((p) => p.file === url), 'extraction is reported by URL, not a temporary path');

      // Only the extracted batches remain: no archive, no temporary files.
      assert.deepEqual(readdirSync(dataDir), ['cifar-10-batches-bin']);
      assert.deepEqual(server.requests, [`/${ARCHIVE}`]);
      const again = await loadCifar10({ dataDir, download: true, baseUrl: server.baseUrl });
      assert.deepEqual(again.train.images, dataset.train.images);
      assert.equal(server.requests.length, 1, 'the cache is reused without a request');
    }),
  ),
);

test('a wrong checksum is an InputError naming the URL and leaves no cache', TIMEOUT, () =>
  withTempDir((dir) =>
    serving({ [ARCHIVE]: { body: archive }, 'short/cifar-10-binary.tar.gz': { body: archive.subarray(0, 1000) } }, async () => {
      // The published MD5 is the real archive's, so this archive is refused.
      await rejectsInput(
        loadCifar10({ dataDir: dir, download: true, baseUrl: server.baseUrl }),
        new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${ARCHIVE}: MD5 checksum [0-9a-f]{32} does not match the published c32a1d4ab5d03f1284b67883e8d87530`),
      );
      assert.deepEqual(readdirSync(dir), []);
      // A body cut short by a server that declares the short length is caught by the checksum too.
      await rejectsInput(loadCifar10({ dataDir: dir, download: true, baseUrl: `${server.baseUrl}short`, checksums: cifarChecksums }), /short\/cifar-10-binary\.tar\.gz: MD5 checksum/);
      assert.deepEqual(readdirSync(dir), []);
    }),
  ),
);

test('a connection dropped mid-way (with or without a declared length) leaves no half-written cache', TIMEOUT, () =>
  withTempDir((dir) =>
    serving(
      {
        [ARCHIVE]: { truncateAt: 600, body: archive },
        'chunked/cifar-10-binary.tar.gz': { truncateAt: 600, body: archive, declareLength: false },
      },
      async () => {
        const options = { dataDir: dir, download: true, checksums: cifarChecksums };
        await rejectsInput(loadCifar10({ ...options, baseUrl: server.baseUrl }), new RegExp(`${ARCHIVE}: download failed after 600 of ${archive.length} bytes`));
        assert.deepEqual(readdirSync(dir), []);
        await rejectsInput(loadCifar10({ ...options, baseUrl: `${server.baseUrl}chunked/` }), /chunked\/cifar-10-binary\.tar\.gz: download failed after 600 bytes/);
        assert.deepEqual(readdirSync(dir), []);
      },
    ),
  ),
);

test('HTTP errors, refused connections and non-HTTPS remote URLs are InputErrors naming the URL', TIMEOUT, () =>
  withTempDir(async (dir) => {
    const options = { dataDir: dir, download: true, checksums: cifarChecksums };
    // Each failed download says how to use a copy the user already has instead.
    const escapedDir = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await serving({}, () =>
      rejectsInput(
        loadCifar10({ ...options, baseUrl: server.baseUrl }),
        new RegExp(`/${ARCHIVE}: download failed \\(HTTP 404 Not Found\\); to use a copy you already have, put cifar-10-binary\\.tar\\.gz \\(or its extracted cifar-10-batches-bin/\\) in ${escapedDir}, or make the data directory the folder that holds it$`),
      ),
    );
    await serving({ [ARCHIVE]: { status: 500 } }, () => rejectsInput(loadCifar10({ ...options, baseUrl: server.baseUrl }), /download failed \(HTTP 500/));

    const closed = await startServer();
    const closedUrl = closed.baseUrl;
    await closed.close();
    await rejectsInput(loadCifar10({ ...options, baseUrl: closedUrl }), /^http:\/\/127\.0\.0\.1:\d+\/cifar-10-binary\.tar\.gz: download failed \(ECONNREFUSED\); to use a copy you already have, put /);

    // Refused before any connection is attempted.
    await rejectsInput(loadCifar10({ ...options, baseUrl: 'http://example.invalid/data' }), /^http:\/\/example\.invalid\/data\/cifar-10-binary\.tar\.gz: downloads must use https:\/\//);
    assert.throws(() => checkDownloadUrl('ftp://127.0.0.1/x'), /downloads must use https/);
    assert.throws(() => checkDownloadUrl('not a url'), /not a valid URL/);
    assert.equal(checkDownloadUrl('https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz').hostname, 'www.cs.toronto.edu');
    assert.equal(checkDownloadUrl('http://localhost:8/x').hostname, 'localhost');
    assert.deepEqual(readdirSync(dir), []);

    await rejectsInput(loadCifar10({ download: true, baseUrl: server.baseUrl, searchPaths: [] }), /no data directory to download into/);
  }),
);

test('redirects are followed', TIMEOUT, () =>
  withTempDir((dir) =>
    serving({ [ARCHIVE]: { redirect: '/mirror/archive.tgz' }, 'mirror/archive.tgz': { body: archive } }, async () => {
      const dataset = await loadCifar10({ dataDir: dir, download: true, baseUrl: server.baseUrl, checksums: cifarChecksums });
      assert.equal(dataset.train.count, 10);
      assert.deepEqual(server.requests, [`/${ARCHIVE}`, '/mirror/archive.tgz']);
    }),
  ),
);

test('a downloaded archive that is not a valid tar.gz is refused and leaves no cache', TIMEOUT, () =>
  withTempDir(async (dir) => {
    const notTar = gzipSync(Buffer.alloc(5000, 7));
    const notGzip = Buffer.from('not a gzip file at all');
    for (const body of [notTar, notGzip, gzipSync(Buffer.alloc(1024))]) {
      await serving({ [ARCHIVE]: { body } }, () =>
        rejectsInput(loadCifar10({ dataDir: dir, download: true, baseUrl: server.baseUrl, checksums: { [ARCHIVE]: md5(body) } }), new RegExp(`/${ARCHIVE}: (corrupt or truncated archive|the archive has no)`)),
      );
      assert.deepEqual(readdirSync(dir), []);
    }
  }),
);

test('an aborted download rejects with an AbortError and leaves nothing behind', TIMEOUT, () =>
  withTempDir((dir) =>
    serving({ [ARCHIVE]: { stallAfter: 700, body: archive } }, async () => {
      const controller = new AbortController();
      const promise = loadCifar10({
        dataDir: dir,
        download: true,
        baseUrl: server.baseUrl,
        checksums: cifarChecksums,
        signal: controller.signal,
        // The first report comes with the response headers; the body then stalls after 700 bytes.
        onProgress: (p) => p.phase === 'download' && p.done === 0 && setTimeout(() => controller.abort(), 50),
      });
      await assert.rejects(promise, { name: 'AbortError' });
      assert.deepEqual(readdirSync(dir), []);
    }),
  ),
);

test('downloadFile keeps an existing destination when a new download fails', TIMEOUT, () =>
  withTempDir((dir) =>
    serving({ 'file.bin': { truncateAt: 10, body: Buffer.alloc(100, 1) } }, async () => {
      const destination = join(dir, 'file.bin');
      writeFileSync(destination, 'old');
      await rejectsInput(downloadFile(`${server.baseUrl}file.bin`, destination), /file\.bin: download failed after 10 of 100 bytes/);
      assert.equal(readFileSync(destination, 'utf8'), 'old');
      assert.deepEqual(readdirSync(dir), ['file.bin']);
    }),
  ),
);

test('Fashion-MNIST downloads its four files into dataDir/fashion-mnist/, each verified; a later run fetches only what is missing', TIMEOUT, () =>
  withTempDir((dir) =>
    serving(Object.fromEntries([...fashionFiles].map(([name, body]) => [`fm/${name}`, { body }])), async () => {
      const options = { dataDir: dir, download: true, baseUrl: `${server.baseUrl}fm`, checksums: fashionChecksums, searchPaths: [] };
      const events: LoadProgress[] = [];
      const dataset = await loadFashionMnist({ ...options, onProgress: (p) => events.push(p) });
      assert.deepEqual([dataset.train.count, dataset.test.count], [6, 4]);
      const cacheDir = join(dir, 'fashion-mnist');
      assert.equal(dataset.source, cacheDir);
      assert.deepEqual(readdirSync(cacheDir).sort(), [...fashionFiles.keys()].sort());
      for (const [name, bytes] of fashionFiles) {
        assert.deepEqual(readFileSync(join(cacheDir, name)), Buffer.from(bytes));
        const final = events.filter((p) => p.phase === 'download' && p.file.endsWith(`/${name}`)).at(-1);
        assert.deepEqual([final?.done, final?.total], [bytes.length, bytes.length]);
      }

      rmSync(join(cacheDir, 't10k-images-idx3-ubyte.gz'));
      server.requests.length = 0;
      await loadFashionMnist(options);
      assert.deepEqual(server.requests, ['/fm/t10k-images-idx3-ubyte.gz']);
    }),
  ),
);

test('Fashion-MNIST: a file with the wrong checksum is not cached; the verified ones are', TIMEOUT, () =>
  withTempDir((dir) =>
    serving(Object.fromEntries([...fashionFiles].map(([name, body]) => [name, { body }])), async () => {
      const checksums = { ...fashionChecksums, 't10k-images-idx3-ubyte.gz': '0'.repeat(32) };
      await rejectsInput(
        loadFashionMnist({ dataDir: dir, download: true, baseUrl: server.baseUrl, checksums, searchPaths: [] }),
        /\/t10k-images-idx3-ubyte\.gz: MD5 checksum [0-9a-f]{32} does not match the published 0{32}/,
      );
      assert.deepEqual(readdirSync(join(dir, 'fashion-mnist')).sort(), ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
      // With the published checksums (the official files'), these small files are all refused.
      rmSync(join(dir, 'fashion-mnist'), { recursive: true });
      await rejectsInput(loadFashionMnist({ dataDir: dir, download: true, baseUrl: server.baseUrl, searchPaths: [] }), /train-images-idx3-ubyte\.gz: MD5 checksum .* the published 8d4fb7e6c68d591d4c3dfef9ec88bf0d/);
      assert.ok(existsSync(join(dir, 'fashion-mnist')));
      assert.deepEqual(readdirSync(join(dir, 'fashion-mnist')), []);
    }),
  ),
);
