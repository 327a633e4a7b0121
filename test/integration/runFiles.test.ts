/**
 * Experiment runs and the files they leave (in process, on a small saved TensorFlow.js model and
 * the Fashion-MNIST subset shipped with RepSim): subspace match of one model with itself on
 * different layers, no partial file after a failed comparison, a cache keyed by the saved model's
 * content, per-model input normalisation, and outputs that stay where they belong.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BackendReport } from '../../src/engine/backend/index.js';
import { saveLayersModel } from '../../src/engine/train/index.js';
import type { RunSnapshot } from '../../src/protocol/index.js';
import { WorkspaceCache } from '../../src/server/cache/workspaceCache.js';
import { ExperimentRun, type RunEvents } from '../../src/server/runs/experimentRunner.js';
import { testBackend } from '../helpers/backend.js';

let work: string;
let backend: BackendReport;

/** A small conv net for 28×28 grey images. */
function tinyNet(seed: number): tfl.LayersModel {
  const init = (k: number) => tfl.initializers.heNormal({ seed: seed * 10 + k });
  const input = tfl.input({ shape: [28, 28, 1] });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', name: 'conv1', kernelInitializer: init(1) }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu', name: 'relu1' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', name: 'conv2', kernelInitializer: init(2) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.activation({ activation: 'relu', name: 'relu2' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 10, activation: 'softmax', name: 'head', kernelInitializer: init(3) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

function writeExperiment(name: string, experiments: object[]): string {
  const path = join(work, `${name}.repsim.json`);
  writeFileSync(path, `// test\n${JSON.stringify({ version: 1, experiments }, null, 1)}\n`);
  return path;
}

const silent: RunEvents = { progress() {}, partial() {}, comparison() {}, training() {}, log() {} };

async function run(filePath: string, experiment: string, options: { cache?: WorkspaceCache; events?: Partial<RunEvents>; outDir?: string } = {}): Promise<{ snapshot?: RunSnapshot; error?: Error; logs: string[] }> {
  const logs: string[] = [];
  const events = { ...silent, log: (_level: string, message: string) => void logs.push(message), ...options.events };
  const runner = new ExperimentRun({
    runId: `run-${experiment}`,
    filePath,
    experiment,
    outDir: options.outDir,
    cache: options.cache ?? new WorkspaceCache(join(work, '.repsim')),
    backend,
    signal: new AbortController().signal,
    events,
  });
  try {
    return { snapshot: await runner.execute(), logs };
  } catch (error) {
    return { error: error as Error, snapshot: runner.snapshot(), logs };
  }
}

const data = { dataset: 'fashion-mnist-subset', evaluationExamples: 64 };

before(async () => {
  backend = await testBackend();
  work = mkdtempSync(join(tmpdir(), 'repsim-runfiles-'));
  await saveLayersModel(tinyNet(1), join(work, 'models', 'tiny'));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('runs of saved models', () => {
  test('subspace match of one model with itself on different layers: done, and no partial file left', async () => {
    const file = writeExperiment('self', [
      {
        name: 'self',
        data,
        models: { m: { path: './models/tiny' } },
        comparisons: [{ name: 'm-self', a: 'm', b: 'm', layersA: { pattern: 'conv1' }, layersB: { pattern: 'relu1' }, batchSize: 32, subspaceMatch: { epsilons: [0.2, 0.5], examples: 32 } }],
      },
    ]);
    const { snapshot, error } = await run(file, 'self');
    assert.equal(error, undefined, error?.message);
    const result = snapshot!.comparisons[0];
    assert.deepEqual(
      result.subspaceMatch!.map((p) => [p.layerA, p.layerB, p.results.length]),
      [['conv1', 'relu1', 2]],
    );
    const out = join(work, 'repsim-results', 'self');
    assert.ok(existsSync(join(out, 'm-self.json')));
    assert.deepEqual(readdirSync(out).filter((f) => f.endsWith('.partial.json')), []);
  });

  test('a comparison that fails after its first batches leaves no partial file', async () => {
    const file = writeExperiment('fails', [
      {
        name: 'fails',
        data,
        models: { m: { path: './models/tiny' } },
        // The pair names a layer the model lacks: CKA runs (partial files), then the subspace match fails.
        comparisons: [{ name: 'broken', a: 'm', b: 'm', layers: 'all', batchSize: 32, subspaceMatch: { epsilons: [0.2], pairs: [['conv1', 'nope']] } }],
      },
    ]);
    let partials = 0;
    const { error } = await run(file, 'fails', { events: { partial: () => void partials++ } });
    assert.match(error?.message ?? '', /model B has no layer 'nope'/);
    assert.ok(partials > 0, 'partial results were written');
    const out = join(work, 'repsim-results', 'fails');
    assert.deepEqual(existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.partial.json')) : [], []);
  });

  test('the cache follows the saved model’s content: weights rewritten in place are not the cached ones', async () => {
    const dir = join(work, 'models', 'changing');
    await saveLayersModel(tinyNet(2), dir);
    const file = writeExperiment('cached', [
      { name: 'cached', data, models: { m: { path: './models/changing' } }, comparisons: [{ name: 'c', a: 'm', b: 'm', layers: 'all', batchSize: 32 }] },
    ]);
    const first = await run(file, 'cached');
    assert.equal(first.error, undefined, first.error?.message);
    const again = await run(file, 'cached');
    assert.ok(again.logs.some((l) => /reusing the finished comparison/.test(l)), 'an unchanged model is reused');
    // New weights written over the old file; the folder's modification time stays as it was.
    const folderTimes = statSync(dir);
    const other = join(work, 'models', 'other');
    await saveLayersModel(tinyNet(3), other);
    writeFileSync(join(dir, 'weights.bin'), readFileSync(join(other, 'weights.bin')));
    utimesSync(dir, folderTimes.atime, folderTimes.mtime);
    const changed = await run(file, 'cached');
    assert.equal(changed.error, undefined, changed.error?.message);
    assert.ok(!changed.logs.some((l) => /reusing the finished comparison/.test(l)), 'new weights are compared anew');
  });

  test('"normalize" on a saved model: its images are prepared as it asks', async () => {
    const file = writeExperiment('normalize', [
      {
        name: 'normalize',
        data,
        models: { d: { path: './models/tiny' }, d2: { path: './models/tiny', normalize: 'dataset' }, raw: { path: './models/tiny', normalize: 'none' }, unit: { path: './models/tiny', normalize: { mean: 0, std: 1 } } },
        comparisons: [
          { name: 'same', a: 'd', b: 'd2', layers: 'all', batchSize: 32, firstPc: false },
          { name: 'raw', a: 'd', b: 'raw', layers: 'all', batchSize: 32, firstPc: false },
          { name: 'unit', a: 'raw', b: 'unit', layers: 'all', batchSize: 32, firstPc: false },
        ],
      },
    ]);
    const { snapshot, error } = await run(file, 'normalize');
    assert.equal(error, undefined, error?.message);
    const [same, raw, unit] = snapshot!.comparisons.map((c) => c.matrix as number[][]);
    same.forEach((row, i) => assert.ok(Math.abs(row[i] - 1) < 1e-5, `same normalisation: layer ${i} matches itself`));
    const relu2 = 3;
    assert.ok(Math.abs(raw[relu2][relu2] - 1) > 1e-3, `raw pixels give other activations after a ReLU (${raw[relu2][relu2]})`);
    // Raw 0‥255 and [0, 1] inputs differ by a factor: every layer up to the softmax scales with it (biases start at 0).
    unit.forEach((row, i) => assert.ok(Math.abs(row[i] - 1) < 1e-4, `raw vs unit: layer ${i}`));
  });
});

describe('the cache folder', () => {
  test("a folder the user names keeps its own .gitignore; RepSim's own folder ignores itself", async () => {
    const mine = join(work, 'my-cache');
    const cache = new WorkspaceCache(mine);
    // A folder of the user's with a .gitignore of their own.
    rmSync(mine, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(mine));
    writeFileSync(join(mine, '.gitignore'), 'secret.txt\n');
    await cache.ensure();
    assert.equal(readFileSync(join(mine, '.gitignore'), 'utf8'), 'secret.txt\n');
    // A folder holding other things and no .gitignore: none is added (it would hide them from git).
    const project = join(work, 'project');
    await import('node:fs/promises').then((fs) => fs.mkdir(project));
    writeFileSync(join(project, 'notes.md'), 'x');
    await new WorkspaceCache(project).ensure();
    assert.equal(existsSync(join(project, '.gitignore')), false);
    // A new folder is RepSim's: it ignores itself.
    const fresh = join(work, 'fresh', '.repsim');
    await new WorkspaceCache(fresh).ensure();
    assert.match(readFileSync(join(fresh, '.gitignore'), 'utf8'), /^# RepSim cache[^]*\n\*\n$/);
  });
});
