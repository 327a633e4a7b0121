/**
 * `repsim run` end to end: the CLI starts the server, runs an experiment of activation files,
 * writes the documented result files, and the report it writes draws the heatmap in Chromium.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import type { Browser } from 'playwright-core';
import { FIXTURES, loadJson, assertMatrixClose } from '../helpers/fixtures.js';
import { makeCifarArchive, writeCifarDirectory } from '../fixtures/data/builders.js';
import { NO_CHROMIUM, launchChromium, newTestPage, probeHeatmap, settle, artifactPath } from '../webview/harness.js';
import { ckaDomain, scaleRgb } from '../../webview/charts/colorScale.js';
import { heatmapLayout } from '../../webview/figures/heatmapSvg.js';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

function repsim(...args: string[]) {
  return spawnSync(process.execPath, [CLI, '--backend', process.env.REPSIM_TEST_BACKEND ?? 'auto', ...args], { encoding: 'utf8' });
}

describe('repsim run', () => {
  let work: string;
  let file: string;
  const out = () => join(work, 'results');

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'repsim-run-'));
    copyFileSync(join(FIXTURES, 'cka', 'model_a.npz'), join(work, 'a.npz'));
    copyFileSync(join(FIXTURES, 'cka', 'model_b.npz'), join(work, 'b.npz'));
    file = join(work, 'acts.repsim.json');
    writeFileSync(
      file,
      `// activations exported elsewhere, compared three ways
{
  "experiments": [
    {
      "name": "acts",
      "models": { "a": { "activations": "./a.npz" }, "b": { "activations": "./b.npz" } },
      "comparisons": [
        { "name": "minibatch", "a": "a", "b": "b", "batchSize": 64 },
        { "name": "rbf-debiased", "a": "a", "b": "b", "kernel": "rbf", "threshold": 0.5, "estimator": "debiased" }
      ],
      "output": "./results"
    }
  ]
}
`,
    );
  });

  test('writes results.json, per-comparison JSON/CSV, SVG/PNG figures and report.html, with the documented fields', () => {
    const run = repsim('run', file);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /acts: done \(2 comparisons\)/);
    for (const f of ['results.json', 'report.html', 'minibatch.json', 'minibatch.csv', 'minibatch.stderr.csv', 'minibatch.png', 'minibatch.svg', 'minibatch.layers.svg', 'minibatch.layers.png', 'rbf-debiased.json']) assert.ok(existsSync(join(out(), f)), f);
    const reference = loadJson<{ layers: { cases: Record<string, { matrix: number[][]; stderr: number[][] } | number[][]> } }>('cka/reference.json').layers.cases;
    const minibatch = JSON.parse(readFileSync(join(out(), 'minibatch.json'), 'utf8'));
    for (const field of ['layersA', 'layersB', 'matrix', 'stderr', 'measure', 'settings', 'batches', 'examples', 'accuracy', 'warnings', 'significance', 'details']) assert.ok(field in minibatch, field);
    assert.equal(minibatch.measure, 'cka');
    assert.deepEqual(minibatch.settings, { kernel: 'linear', estimator: 'minibatch', batchSize: 64, passes: 1, seed: 0, permutations: 100 });
    assertMatrixClose(minibatch.matrix, (reference['linear/minibatch64'] as { matrix: number[][] }).matrix, 1e-4, 'minibatch');
    assertMatrixClose(minibatch.stderr, (reference['linear/minibatch64'] as { stderr: number[][] }).stderr, 1e-4, 'stderr');
    const rbf = JSON.parse(readFileSync(join(out(), 'rbf-debiased.json'), 'utf8'));
    assertMatrixClose(rbf.matrix, reference['rbf:0.5/debiased'] as number[][], 1e-4, 'rbf debiased');
    const png = PNG.sync.read(readFileSync(join(out(), 'minibatch.png')));
    // The publication figure: its SVG drawn at 2×, the cells in the colour scale (the largest, surely not hatched as insignificant).
    const [, svgWidth, svgHeight] = /<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(readFileSync(join(out(), 'minibatch.svg'), 'utf8'))!;
    assert.deepEqual([png.width, png.height], [2 * Number(svgWidth), 2 * Number(svgHeight)]);
    const layout = heatmapLayout(minibatch);
    const values = (minibatch.matrix as number[][]).flatMap((row, i) => row.map((v, j) => ({ v, i, j })));
    const top = values.reduce((best, c) => (c.v > best.v ? c : best));
    const corner = layout.cellOrigin(top.i, top.j);
    const at = (Math.round(2 * (corner.y + layout.cell / 2)) * png.width + Math.round(2 * (corner.x + layout.cell / 2))) * 4;
    const want = scaleRgb(top.v, ckaDomain(minibatch.matrix));
    assert.ok(want.every((c, k) => Math.abs(c - png.data[at + k]) <= 1), `cell (${top.i}, ${top.j}) in the colour scale`);
    const results = JSON.parse(readFileSync(join(out(), 'results.json'), 'utf8'));
    assert.equal(results.status, 'done');
    // ONNX Runtime computed it, and the snapshot says so in words too.
    if (!process.env.REPSIM_TEST_BACKEND || process.env.REPSIM_TEST_BACKEND === 'auto') {
      assert.match(results.backend, /^onnx-(cpu|cuda|dml|coreml)$/);
      assert.match(results.backendDetail, /^compute: ONNX Runtime [0-9.]+: \w+ .*; training: TensorFlow\.js /);
    }
    assert.deepEqual(results.comparisons.map((c: { name: string }) => c.name), ['minibatch', 'rbf-debiased']);
  });

  test('a second run reuses the finished comparisons from the cache', () => {
    const run = repsim('run', file);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /minibatch: reusing the finished comparison from the cache/);
  });

  test('an invalid experiment file is one clear error naming the JSON path', () => {
    const bad = join(work, 'bad.repsim.json');
    writeFileSync(bad, '{ "experiments": [ { "name": "x", "models": { "a": { "activations": "./a.npz" } }, "comparisons": [ { "a": "a", "b": "zz" } ] } ] }');
    const run = repsim('run', bad);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /experiments\[0\]\.comparisons\[0\]\.b: unknown model 'zz'/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });

  describe('its report in headless Chromium', { skip: NO_CHROMIUM }, () => {
    let browser: Browser;
    before(async () => (browser = await launchChromium()));
    after(async () => browser?.close());

    test('draws the heatmap of every comparison from the file alone', async () => {
      const url = pathToFileURL(join(out(), 'report.html')).href;
      const { page, errors, requests } = await newTestPage(browser, url);
      await page.goto(url);
      await page.waitForFunction(() => customElements.get('repsim-app') !== undefined);
      await settle(page);
      const probe = await probeHeatmap(page);
      assert.deepEqual([probe.rows, probe.columns, probe.dataLength], [3, 2, 6]);
      assert.deepEqual(requests, [url], 'no network');
      assert.deepEqual(errors, []);
      await page.screenshot({ path: artifactPath('cli-run-report.png'), fullPage: true });
      await page.close();
    });
  });
});

/**
 * A newcomer's first runs: the data directory's default (~/.cache/repsim/data, as the extension
 * documents it), a CIFAR-10 copy of their own (archive checked by its MD5, or the extracted
 * folder), messages in their words, and the last line of a run: where the results are and what
 * it found, or what failed and what was kept.
 */
describe('repsim run: the data directory, messages, and how a run ends', () => {
  let home: string;
  let dir: string;
  const dataDirectory = () => join(home, '.cache', 'repsim', 'data');
  // A fresh HOME, so that the default data directory is this test's.
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, '--backend', process.env.REPSIM_TEST_BACKEND ?? 'auto', ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, HOME: home, USERPROFILE: home } });
  const lastLine = (text: string) => text.trim().split('\n').at(-1) ?? '';
  const train = (seed: number, epochs: number) => ({ architecture: 'resnet-8', seed, training: { epochs, batchSize: 8, augment: false } });
  const experiment = (name: string, models: object, comparisons: object[]) => ({ name, data: { dataset: 'cifar10', download: false }, models, comparisons });

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'repsim-home-'));
    dir = mkdtempSync(join(tmpdir(), 'repsim-newcomer-'));
    const blocks = { layers: 'blocks', batchSize: 4 };
    writeFileSync(
      join(dir, 'cifar.repsim.json'),
      JSON.stringify({
        experiments: [
          experiment('cifar', { t: train(0, 1), u: train(0, 0) }, [{ name: 'trained-vs-untrained', a: 't', b: 'u', ...blocks }]),
          // The second comparison cannot run: its layer pattern matches nothing.
          experiment('partial', { t1: train(1, 1), u: train(0, 0) }, [
            { name: 'first', a: 't1', b: 'u', ...blocks },
            { name: 'second', a: 't1', b: 'u', layers: { pattern: 'nothing*' }, batchSize: 4 },
          ]),
        ],
      }),
    );
  });

  test('no data directory given: ~/.cache/repsim/data, as --help says; a run that fails there writes no results and ends with one line', () => {
    assert.match(run('run', '--help').stdout, /--data-dir DIR[\s\S]*\(default: ~\/\.cache\/repsim\/data\)/);
    const failed = run('run', 'cifar.repsim.json', '--experiment', 'cifar');
    assert.equal(failed.status, 1, failed.stderr);
    assert.equal(
      lastLine(failed.stderr),
      `repsim: cifar failed: CIFAR-10 not found in ${dataDirectory()}: expected cifar-10-batches-bin/ or cifar-10-binary.tar.gz; enable downloading to fetch it from https://www.cs.toronto.edu/~kriz/; kept nothing`,
    );
    assert.doesNotMatch(failed.stdout + failed.stderr, /results in/);
    assert.equal(existsSync(join(dir, 'repsim-results')), false, 'no results folder');
  });

  test('a cifar-10-binary.tar.gz of their own is checked against the published MD5', async () => {
    const downloads = join(home, 'Downloads');
    mkdirSync(downloads, { recursive: true });
    const archive = join(downloads, 'cifar-10-binary.tar.gz');
    writeFileSync(archive, await makeCifarArchive(2));
    const failed = run('run', 'cifar.repsim.json', '--experiment', 'cifar', '--data-dir', archive);
    assert.equal(failed.status, 1, failed.stderr);
    assert.match(lastLine(failed.stderr), new RegExp(`^repsim: cifar failed: ${archive.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: MD5 checksum [0-9a-f]{32} does not match the published c32a1d4ab5d03f1284b67883e8d87530 .*; kept nothing$`));
    assert.deepEqual(readdirSync(downloads), ['cifar-10-binary.tar.gz'], 'nothing extracted from a file that failed its check');
  });

  test('its extracted folder in the data directory is read; the run ends with where the results are and its finding', () => {
    writeCifarDirectory(dataDirectory(), 8);
    const done = run('run', 'cifar.repsim.json', '--experiment', 'cifar');
    assert.equal(done.status, 0, done.stderr);
    const lines = done.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 1), [`cifar: done (1 comparison); results in ${join('repsim-results', 'cifar')}`]);
    assert.match(lines[1], /^finding: t vs u: [0-4] of 4 layers most similar to their counterpart \(mean CKA -?[01]\.\d\d\)$/);
    assert.equal(lines.length, 2);
    assert.equal((done.stderr.match(/results in/g) ?? []).length, 0, 'said once, on stdout');
    const results = JSON.parse(readFileSync(join(dir, 'repsim-results', 'cifar', 'results.json'), 'utf8'));
    assert.equal(`finding: ${results.finding}`, lines[1]);
    assert.equal(results.comparisons[0].layerIdentification.total, 4);
  });

  test('a run that fails after a finished comparison keeps it, and its last line says so', () => {
    const failed = run('run', 'cifar.repsim.json', '--experiment', 'partial');
    assert.equal(failed.status, 1, failed.stderr);
    assert.match(
      lastLine(failed.stderr),
      new RegExp(`^repsim: partial failed: layer pattern 'nothing\\*' matches none .*; kept 1 finished comparison \\(first\\) in ${join('repsim-results', 'partial')} and the trained model t1 in \\.repsim$`),
    );
    const results = JSON.parse(readFileSync(join(dir, 'repsim-results', 'partial', 'results.json'), 'utf8'));
    assert.equal(results.status, 'failed');
    assert.deepEqual(results.comparisons.map((c: { name: string }) => c.name), ['first']);
  });

  test('errors in the user\'s words: no transport text; exit 1 for failed work, 2 for usage errors', () => {
    const missing = run('run', 'nope.json');
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'repsim: nope.json: no such file\n');
    const unknown = run('run', 'cifar.repsim.json', '--experiment', 'nope');
    assert.equal(unknown.status, 1);
    assert.equal(lastLine(unknown.stderr), "repsim: cifar.repsim.json: no experiment named 'nope' (it has: cifar, partial)");
    assert.doesNotMatch(unknown.stderr, /Request repsim|failed with message/);
    const folder = run('run', '.');
    assert.equal(folder.status, 1);
    assert.equal(folder.stderr, 'repsim: .: is a folder, expected an experiment file (*.repsim.json)\n');
    for (const args of [['run'], ['run', 'a.repsim.json', 'b.repsim.json'], ['run', 'cifar.repsim.json', '--epochs', '3']]) {
      const usage = run(...args);
      assert.equal(usage.status, 2, `${args.join(' ')}: ${usage.stderr}`);
      assert.match(usage.stderr, /^repsim: .* \(see repsim help run\)\n$/);
    }
  });
});
