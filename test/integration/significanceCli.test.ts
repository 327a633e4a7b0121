/**
 * The permutation test through the CLI: `repsim run` (the experiment's `permutations`, and
 * `--permutations` in its place) and `repsim cka --permutations`, with the test and the cells'
 * drill-down data in the JSON they write.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.js';
import type { ComparisonResult } from '../../src/protocol/results.js';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

function repsim(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [CLI, '--backend', process.env.REPSIM_TEST_BACKEND ?? 'auto', ...args], { encoding: 'utf8', cwd });
}

describe('significance from the CLI', () => {
  let work: string;
  let file: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'repsim-significance-'));
    copyFileSync(join(FIXTURES, 'cka', 'model_a.npz'), join(work, 'a.npz'));
    copyFileSync(join(FIXTURES, 'cka', 'model_b.npz'), join(work, 'b.npz'));
    file = join(work, 'sig.repsim.json');
    writeFileSync(
      file,
      JSON.stringify({
        experiments: [
          {
            name: 'sig',
            models: { a: { activations: 'a.npz' }, b: { activations: 'b.npz' } },
            comparisons: [
              { name: 'default', a: 'a', b: 'b', batchSize: 16 },
              { name: 'diagonal', a: 'a', b: 'b', batchSize: 16, permutations: 30, permutationCells: 'diagonal' },
              { name: 'debiased', a: 'a', b: 'b', estimator: 'debiased', permutations: 20 },
              { name: 'est', a: 'a', b: 'b', estimator: ['biased', 'minibatch'], batchSize: 16, permutations: 10 },
            ],
          },
        ],
      }),
    );
  });

  const results = (folder: string): ComparisonResult[] => JSON.parse(readFileSync(join(folder, 'results.json'), 'utf8')).comparisons;

  test("repsim run: every comparison gets the test (default 100, the file's count, the cells asked for) and its cells' details", () => {
    const out = join(work, 'results-default');
    const run = repsim(work, 'run', file, '--out', out);
    assert.equal(run.status, 0, run.stderr);
    const [all, diagonal, debiased, biasedOfList, minibatchOfList] = results(out);
    // A list of estimators: one comparison per estimator, named after it.
    assert.deepEqual([biasedOfList.name, biasedOfList.settings.estimator, minibatchOfList.name, minibatchOfList.settings.estimator], ['est-biased', 'biased', 'est-minibatch', 'minibatch']);
    assert.ok(biasedOfList.matrix[0][0]! > minibatchOfList.matrix[0][0]! - 0.5);
    assert.equal(biasedOfList.significance!.permutations, 10);
    assert.equal(all.settings.permutations, 100);
    assert.equal(all.significance!.permutations, 100);
    const pValues = all.significance!.pValue.flat();
    assert.ok(pValues.every((p) => p !== null && p >= 1 / 101 && p <= 1));
    assert.equal(diagonal.significance!.permutations, 30);
    assert.ok(diagonal.significance!.pValue.every((row, i) => row.every((p, j) => (i === j) === (p !== null))), 'only the diagonal is tested');
    assert.equal(debiased.significance!.permutations, 20);
    assert.equal(all.details!.perBatch[0][0].length, all.batches);
    assert.ok(all.details!.top![0][0].length > 0);
    assert.equal(all.details!.images, false);
    assert.match(run.stderr + run.stdout, /default: .*permutation test \(100 permutations\): \d+ of \d+ tested cells have p ≤ 0\.05/);
  });

  test('repsim run --permutations: in place of the file\'s count, 0 turns the test off', () => {
    const out = join(work, 'results-override');
    const run = repsim(work, 'run', file, '--out', out, '--permutations', '0');
    assert.equal(run.status, 0, run.stderr);
    for (const comparison of results(out)) {
      assert.equal(comparison.settings.permutations, 0);
      assert.equal(comparison.significance, undefined);
    }
    const bad = repsim(work, 'run', file, '--permutations', '-3');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--permutations/);
  });

  test('repsim cka --permutations writes the test and the details into its JSON; --figure writes the heatmap as SVG or PNG', () => {
    const json = join(work, 'cka.json');
    const run = repsim(work, 'cka', 'a.npz', 'b.npz', '--batch-size', '16', '--permutations', '9', '--permutation-cells', 'diagonal', '--json', json);
    assert.equal(run.status, 0, run.stderr);
    const written = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(written.significance.permutations, 9);
    assert.equal(written.significance.pValue[0][1], null);
    assert.ok(written.significance.pValue[0][0] >= 0.1);
    assert.ok(Array.isArray(written.details.perBatch));
    assert.match(run.stderr, /permutation test \(9 permutations\)/);
    const svg = join(work, 'cka.svg');
    const png = join(work, 'cka.png');
    assert.equal(repsim(work, 'cka', 'a.npz', 'b.npz', '--batch-size', '16', '--permutations', '9', '--figure', svg, '--origin', 'top-left').status, 0);
    const svgText = readFileSync(svg, 'utf8');
    assert.match(svgText, /^(<\?xml[^>]*>\n)?<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svgText, /Linear CKA \(minibatch, batch 16, 1 pass, 320 examples\)/);
    assert.match(svgText, />a\.npz</);
    const figure = repsim(work, 'cka', 'a.npz', 'b.npz', '--figure', png);
    assert.equal(figure.status, 0, figure.stderr);
    assert.deepEqual([...readFileSync(png).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const wrong = repsim(work, 'cka', 'a.npz', 'b.npz', '--figure', join(work, 'cka.jpg'));
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /--figure .*cka\.jpg: the file name must end in \.svg or \.png/);
    const off = join(work, 'cka-off.json');
    assert.equal(repsim(work, 'cka', 'a.npz', 'b.npz', '--permutations', '0', '--json', off).status, 0);
    assert.equal(JSON.parse(readFileSync(off, 'utf8')).significance, undefined);
  });
});
