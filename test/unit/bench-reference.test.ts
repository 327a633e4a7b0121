/**
 * The benchmark's NumPy float64 baseline (bench/reference_minibatch_cka.py) must compute the
 * same estimator as RepSim: checked here on a tiny problem, through the same .npy files.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '../../src/engine/io/npy.js';
import { ckaMatrix, LINEAR, type LayerActivations } from '../../src/engine/similarity/index.js';
import { testBackend } from '../helpers/backend.js';
import { assertCkaClose, randomLatent, runPythonJson, syntheticLayer } from '../helpers/benchScripts.js';

const REFERENCE = join(__dirname, '..', '..', 'bench', 'reference_minibatch_cka.py');
const PYTHON = process.env.REPSIM_PYTHON ?? 'python3';
const EXAMPLES = 48;
const TOLERANCE = 1e-5;

const numpyMissing = spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status !== 0;

function writeProblem(directory: string, models: Record<'a' | 'b', LayerActivations[]>): void {
  const manifest: Record<string, unknown> = { spec: null };
  for (const model of ['a', 'b'] as const) {
    mkdirSync(join(directory, model));
    manifest[model] = models[model].map((layer, i) => {
      const file = `${model}/${i}.npy`;
      writeFileSync(join(directory, file), encodeNpy(layer));
      return { name: layer.name, file, shape: layer.shape };
    });
  }
  writeFileSync(join(directory, 'manifest.json'), JSON.stringify(manifest));
}

function referenceCka(directory: string, batchSize: number): { cka: (number | null)[][]; layers_a: string[]; layers_b: string[] } {
  return runPythonJson(PYTHON, REFERENCE, ['cka', '--data', directory, '--batch-size', String(batchSize)]);
}

describe('the bench NumPy reference agrees with ckaMatrix (minibatch, linear)', { skip: numpyMissing && `${PYTHON} with numpy is not available` }, () => {
  let directory = '';
  let layersA: LayerActivations[] = [];
  let layersB: LayerActivations[] = [];
  before(async () => {
    await testBackend();
    directory = mkdtempSync(join(tmpdir(), 'repsim-bench-reference-'));
    const latent = randomLatent(EXAMPLES, 7);
    layersA = [
      syntheticLayer('conv', [2, 2, 3], 1, latent),
      syntheticLayer('relu', [2, 2, 3], 2, latent, { relu: true, offset: 0.3 }),
      syntheticLayer('far-from-zero', [5], 3, latent, { offset: 40 }),
    ];
    layersB = [syntheticLayer('fc', [7], 4, latent), syntheticLayer('fc.relu', [7], 5, latent, { relu: true })];
    writeProblem(directory, { a: layersA, b: layersB });
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  for (const batchSize of [8, 16, EXAMPLES]) {
    test(`batches of ${batchSize}`, async () => {
      const expected = referenceCka(directory, batchSize);
      const actual = await ckaMatrix(layersA, layersB, { kernel: LINEAR, estimator: 'minibatch', batchSize, passes: 1, seed: 0 });
      assert.equal(actual.batches, EXAMPLES / batchSize);
      assert.deepEqual(expected.layers_a, actual.layersA);
      assert.deepEqual(expected.layers_b, actual.layersB);
      assertCkaClose(actual.matrix, expected.cka, TOLERANCE, 'NumPy');
    });
  }
});
