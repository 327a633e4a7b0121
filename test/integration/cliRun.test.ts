/**
 * `repsim run` end to end: the CLI starts the server, runs an experiment of activation files,
 * writes the documented result files, and the report it writes draws the heatmap in Chromium.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import type { Browser } from 'playwright-core';
import { FIXTURES, loadJson, assertMatrixClose } from '../helpers/fixtures.js';
import { NO_CHROMIUM, launchChromium, newTestPage, probeHeatmap, settle, artifactPath } from '../webview/harness.js';

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

  test('writes results.json, per-comparison JSON/CSV/PNG and report.html, with the documented fields', () => {
    const run = repsim('run', file);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /acts: done \(2 comparisons\)/);
    for (const f of ['results.json', 'report.html', 'minibatch.json', 'minibatch.csv', 'minibatch.stderr.csv', 'minibatch.png', 'rbf-debiased.json']) assert.ok(existsSync(join(out(), f)), f);
    const reference = loadJson<{ layers: { cases: Record<string, { matrix: number[][]; stderr: number[][] } | number[][]> } }>('cka/reference.json').layers.cases;
    const minibatch = JSON.parse(readFileSync(join(out(), 'minibatch.json'), 'utf8'));
    for (const field of ['layersA', 'layersB', 'matrix', 'stderr', 'measure', 'settings', 'batches', 'examples', 'accuracy', 'warnings']) assert.ok(field in minibatch, field);
    assert.equal(minibatch.measure, 'cka');
    assert.deepEqual(minibatch.settings, { kernel: 'linear', estimator: 'minibatch', batchSize: 64, passes: 1, seed: 0 });
    assertMatrixClose(minibatch.matrix, (reference['linear/minibatch64'] as { matrix: number[][] }).matrix, 1e-4, 'minibatch');
    assertMatrixClose(minibatch.stderr, (reference['linear/minibatch64'] as { stderr: number[][] }).stderr, 1e-4, 'stderr');
    const rbf = JSON.parse(readFileSync(join(out(), 'rbf-debiased.json'), 'utf8'));
    assertMatrixClose(rbf.matrix, reference['rbf:0.5/debiased'] as number[][], 1e-4, 'rbf debiased');
    const png = PNG.sync.read(readFileSync(join(out(), 'minibatch.png')));
    // 3 rows × 2 columns of square cells, then a gap and the colour bar.
    const cell = Math.floor(1024 / 3);
    assert.deepEqual([png.width, png.height], [2 * cell + 8 + 16, 3 * cell]);
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
