/**
 * Recomputing a finished run's cell takes its trained models from the workspace cache only: a
 * model that is not there is an InputError asking for the experiment to be run again, never a
 * new training. Untrained models (0 epochs) are rebuilt from their seed as the run built them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/engine/data/index.js';
import { InputError } from '../../src/engine/errors.js';
import { WorkspaceCache } from '../../src/server/cache/workspaceCache.js';
import { obtainModel, type ModelContext } from '../../src/server/runs/obtainModels.js';
import { testBackend } from '../helpers/backend.js';

test('cachedOnly: a trained model missing from the cache is refused, not trained; an untrained one is rebuilt', async () => {
  const backend = await testBackend();
  const root = mkdtempSync(join(tmpdir(), 'repsim-cached-only-'));
  try {
    const dataset = loadDataset('fashion-mnist-subset');
    const logs: string[] = [];
    const context: ModelContext = {
      filePath: join(root, 'x.repsim.json'),
      data: { dataset: 'fashion-mnist-subset' },
      dataset: () => dataset,
      cache: new WorkspaceCache(join(root, 'cache')),
      backend,
      signal: new AbortController().signal,
      cachedOnly: true,
      onTraining: () => assert.fail('no training'),
      onProgress: () => assert.fail('no training'),
      log: (message) => logs.push(message),
    };
    await assert.rejects(
      obtainModel('small', { architecture: 'plain-cnn-4-w0.5', seed: 0, training: { epochs: 1 } }, context),
      (error: unknown) => error instanceof InputError && error.message === "model 'small' is no longer in the cache: run the experiment again" && error.input === 'small',
    );
    assert.deepEqual(readdirSync(root), [], 'nothing written to the cache');
    const untrained = await obtainModel('fresh', { architecture: 'plain-cnn-4-w0.5', seed: 1, training: { epochs: 0 } }, context);
    assert.equal(untrained.kind, 'layers');
    if (untrained.kind === 'layers') untrained.model.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
