import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADHOC_FOLDER, buildAdhocExperiment, compatible, modelId, writeAdhocExperiment, type AdhocChoices } from '../../src/extension/commands/adhocExperiment.js';
import { experimentTemplate } from '../../src/extension/commands/experimentTemplate.js';
import { locateExperiments } from '../../src/extension/experimentFile/experimentLocations.js';
import { validateExperimentText } from '../../src/server/experiments/semantics.js';

const WS = join('/', 'ws');
const base: Omit<AdhocChoices, 'a' | 'b'> = { kernel: 'linear', estimator: 'minibatch', dataset: 'fashion-mnist-subset', batchSize: 256, passes: 1 };

test('two presets of one architecture: the same network from two seeds', async () => {
  const adhoc = buildAdhocExperiment({ ...base, a: { kind: 'architecture', architecture: 'resnet-20' }, b: { kind: 'architecture', architecture: 'resnet-20' } }, WS, new Date('2026-01-02T03:04:05Z'));
  assert.equal(adhoc.name, 'resnet-20-seed0-vs-resnet-20-seed1');
  assert.equal(adhoc.filePath, join(WS, ADHOC_FOLDER, 'resnet-20-seed0-vs-resnet-20-seed1.repsim.json'));
  assert.deepEqual(adhoc.experiment.models, { 'resnet-20-seed0': { architecture: 'resnet-20', seed: 0 }, 'resnet-20-seed1': { architecture: 'resnet-20', seed: 1 } });
  assert.deepEqual(adhoc.experiment.comparisons, [{ name: adhoc.name, a: 'resnet-20-seed0', b: 'resnet-20-seed1', kernel: 'linear', estimator: 'minibatch', batchSize: 256, passes: 1 }]);
  assert.deepEqual(adhoc.experiment.data, { dataset: 'fashion-mnist-subset' });
  assert.match(adhoc.text, /^\/\/ Written by "RepSim: Compare Models"/);
  assert.match(adhoc.experiment.description ?? '', /2026-01-02 03:04 UTC/);
  // Valid against the schema and the server's semantic checks.
  const { file, issues } = await validateExperimentText(adhoc.text, adhoc.filePath);
  assert.deepEqual(issues, []);
  assert.equal(file?.experiments[0].name, adhoc.name);
});

test('models and activation files: relative paths, readable ids, estimators only for activations', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'repsim-adhoc-'));
  try {
    const saved = buildAdhocExperiment(
      { ...base, estimator: 'debiased', kernel: 'rbf', a: { kind: 'saved', path: join(dir, 'models', 'small', 'model.json') }, b: { kind: 'architecture', architecture: 'plain-cnn-10' } },
      dir,
    );
    assert.deepEqual(saved.experiment.models, { small: { path: '../../models/small/model.json' }, 'plain-cnn-10': { architecture: 'plain-cnn-10', seed: 0 } });
    assert.equal(saved.experiment.comparisons[0].estimator, 'minibatch', 'models stream minibatches');
    assert.equal(saved.experiment.comparisons[0].kernel, 'rbf');

    const npz = buildAdhocExperiment(
      { ...base, estimator: 'debiased', dataset: undefined, a: { kind: 'activations', path: join(dir, 'acts', 'net.npz') }, b: { kind: 'activations', path: join(dir, 'other', 'net.npz') } },
      dir,
    );
    assert.deepEqual(Object.keys(npz.experiment.models), ['net-a', 'net-b']);
    assert.equal(npz.experiment.data, undefined);
    assert.equal(npz.experiment.comparisons[0].estimator, 'debiased');
    const written = await writeAdhocExperiment(npz);
    assert.equal(readFileSync(written, 'utf8'), npz.text);
    const { issues } = await validateExperimentText(npz.text, written);
    // Schema-valid; the only complaints are the (deliberately) missing files.
    assert.deepEqual(
      issues.map((i) => i.path),
      ['experiments[0].models["net-a"].activations', 'experiments[0].models["net-b"].activations'],
    );
    // The same file twice compares it with itself.
    const self = buildAdhocExperiment({ ...base, a: { kind: 'activations', path: '/x/a.npz' }, b: { kind: 'activations', path: '/x/a.npz' } }, dir);
    assert.equal(self.name, 'a-self');
    assert.deepEqual(self.experiment.comparisons[0].a, self.experiment.comparisons[0].b);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('activation files only pair with activation files', () => {
  const npz = { kind: 'activations', path: '/a.npz' } as const;
  const arch = { kind: 'architecture', architecture: 'resnet-20' } as const;
  assert.equal(compatible(npz, npz), true);
  assert.equal(compatible(arch, arch), true);
  assert.equal(compatible(npz, arch), false);
  assert.throws(() => buildAdhocExperiment({ ...base, a: npz, b: arch }, WS), /activations file/);
  assert.equal(modelId({ kind: 'saved', path: '/m/My Model!/model.json' }), 'My-Model');
  assert.equal(modelId({ kind: 'activations', path: '/m/__x.npz' }), 'x');
});

test('the new-experiment template is commented JSONC, valid against the schema and the semantic checks', async () => {
  const text = experimentTemplate('seeds');
  assert.match(text, /^\/\/ A RepSim experiment file/);
  assert.ok(text.split('\n').filter((l) => l.trim().startsWith('//')).length >= 5);
  const { file, issues } = await validateExperimentText(text, join(WS, 'seeds.repsim.json'));
  assert.deepEqual(issues, []);
  assert.equal(file?.experiments[0].name, 'seeds');
  assert.deepEqual(locateExperiments(text).map((l) => l.name), ['seeds']);
  assert.match(experimentTemplate('bad name!'), /"name": "my-experiment"/);
});

test('two .onnx models picked in Compare Models: NCHW entries with dataset normalisation, valid against the schema', async () => {
  const onnx = join(__dirname, '..', 'fixtures', 'onnx');
  const adhoc = buildAdhocExperiment({ ...base, a: { kind: 'onnx', path: join(onnx, 'a.onnx') }, b: { kind: 'onnx', path: join(onnx, 'fmnist.onnx') } }, WS);
  assert.deepEqual(Object.keys(adhoc.experiment.models), ['a', 'fmnist']);
  const entry = adhoc.experiment.models.fmnist as { onnx: string; layout: string; normalize: string };
  assert.match(entry.onnx, /^\.\.\/.*fixtures\/onnx\/fmnist\.onnx$/);
  assert.deepEqual([entry.layout, entry.normalize], ['NCHW', 'dataset']);
  assert.equal((adhoc.experiment.models.a as { layout: string }).layout, 'NCHW');
  assert.ok(compatible({ kind: 'onnx', path: '/a.onnx' }, { kind: 'architecture', architecture: 'resnet-20' }));
  assert.ok(!compatible({ kind: 'onnx', path: '/a.onnx' }, { kind: 'activations', path: '/a.npz' }));
  const dir = mkdtempSync(join(tmpdir(), 'repsim-adhoc-onnx-'));
  try {
    const inDir = buildAdhocExperiment({ ...base, a: { kind: 'onnx', path: join(onnx, 'a.onnx') }, b: { kind: 'onnx', path: join(onnx, 'fmnist.onnx') } }, dir);
    const written = await writeAdhocExperiment(inDir);
    const { issues } = await validateExperimentText(inDir.text, written);
    assert.deepEqual(issues.filter((i) => i.severity === 'error'), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the New Experiment File template says how to add a PyTorch model', () => {
  const text = experimentTemplate('x');
  assert.match(text, /torch\.onnx\.export\(.*dynamic_axes/s);
  assert.match(text, /"onnx": "\.\/mine\.onnx", "layout": "NCHW"/);
});
