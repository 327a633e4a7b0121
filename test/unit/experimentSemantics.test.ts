/** What the server checks beyond the schema: result files that would clash, outputs that would escape, normalisation per channel. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateExperimentText } from '../../src/server/experiments/semantics.js';
import { ResultWriter } from '../../src/server/output/resultFiles.js';
import type { ComparisonResult } from '../../src/protocol/index.js';

const WS = join('/', 'ws');
const FILE = join(WS, 'experiments', 'e.repsim.json');

function experimentText(extra: object): string {
  return JSON.stringify({
    experiments: [{ name: 'e', models: { m: { architecture: 'resnet-20' }, n: { architecture: 'resnet-20', seed: 1 } }, comparisons: [{ a: 'm', b: 'n' }], ...extra }],
  });
}

const errors = async (extra: object, workspaceFolder?: string) =>
  (await validateExperimentText(experimentText(extra), FILE, { workspaceFolder })).issues.filter((i) => i.severity === 'error').map((i) => i.message);

test('comparison names whose result files would be the same file are refused, naming both', async () => {
  const named = (...names: string[]) => ({ comparisons: names.map((name) => ({ name, a: 'm', b: 'n' })) });
  assert.deepEqual(await errors(named('a/b', 'a b')), [
    `experiments[0].comparisons[1].name: the results of 'a b' would be written to a_b.json, which comparison 'a/b' also writes: give this one another "name"`,
  ]);
  assert.equal((await errors(named('Seeds', 'seeds'))).length, 1, 'file systems that ignore case');
  assert.equal((await errors(named('x', 'x.stderr'))).length, 1, "x.stderr.csv is x's standard errors");
  assert.equal((await errors(named('x', 'x.layers'))).length, 1, "x.layers.svg is x's corresponding-layers plot");
  assert.match((await errors(named('results')))[0], /results\.json, which the run's own results use/);
  assert.deepEqual(await errors(named('a-b', 'a_b', 'seed 0 vs 1')), []);
});

test("a relative output stays inside the experiment file's folder, or the workspace folder the client names; an absolute one is the user's choice", async () => {
  assert.deepEqual(await errors({ output: './results/e' }), []);
  const [escaped] = await errors({ output: '../escaped' });
  assert.match(escaped, /experiments\[0\]\.output: '\.\.\/escaped' leads outside \/ws\/experiments: a relative output must stay inside the experiment file's folder; write an absolute path/);
  assert.deepEqual(await errors({ output: '../results' }, WS), [], 'inside the workspace folder');
  assert.equal((await errors({ output: '../../escaped' }, WS)).length, 1);
  assert.deepEqual(await errors({ output: join('/', 'elsewhere', 'results') }), []);
});

test('a per-channel normalisation of a saved model needs one value per channel of the dataset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'repsim-semantics-'));
  try {
    const file = join(dir, 'e.repsim.json');
    const text = (normalize: unknown, dataset = 'cifar10') =>
      JSON.stringify({ experiments: [{ name: 'e', data: { dataset }, models: { s: { path: '.', normalize } }, comparisons: [{ a: 's', b: 's' }] }] });
    const messages = async (normalize: unknown, dataset?: string) => (await validateExperimentText(text(normalize, dataset), file)).issues.map((i) => i.message).filter((m) => !/no TensorFlow\.js model/.test(m));
    assert.deepEqual(await messages('none'), []);
    assert.deepEqual(await messages({ mean: [0.5, 0.5, 0.5], std: 0.25 }), []);
    assert.deepEqual(await messages({ mean: [0.5, 0.5], std: 0.25 }), ["experiments[0].models.s.normalize.mean: 2 values for the 3 channels of cifar10: give one number, or one per channel"]);
    assert.equal((await messages({ mean: 0.5, std: 0 })).length, 1, 'std > 0');
    assert.equal((await messages('imagenet')).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the result writer refuses a second comparison that maps to the same files instead of writing over the first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'repsim-writer-'));
  try {
    const writer = new ResultWriter(dir);
    const result = (name: string) => ({ name, a: 'm', b: 'n', measure: 'cka', settings: {}, layersA: ['x'], layersB: ['y'], matrix: [[0.5]], stderr: [[null]], batches: 1, examples: 4, accuracy: { a: null, b: null }, warnings: [] }) as unknown as ComparisonResult;
    await writer.writeComparison(result('a/b'));
    await assert.rejects(writer.writeComparison(result('a b')), /comparisons 'a\/b' and 'a b' would write the same files/);
    await writer.writeComparison(result('a/b')); // the same comparison again is fine
    assert.deepEqual(readdirSync(dir).sort(), ['a_b.csv', 'a_b.json', 'a_b.layers.png', 'a_b.layers.svg', 'a_b.png', 'a_b.stderr.csv', 'a_b.svg']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a PNG that cannot be drawn is left out with a warning; the JSON, CSV and SVG files are written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'repsim-writer-'));
  try {
    const writer = new ResultWriter(dir, { rasterize: async () => Promise.reject(new Error('no rasterizer here')) });
    const result = { name: 'c', a: 'm', b: 'n', measure: 'cka', settings: {}, layersA: ['x'], layersB: ['y'], matrix: [[0.5]], stderr: [[null]], batches: 1, examples: 4, accuracy: { a: null, b: null }, warnings: [] } as unknown as ComparisonResult;
    const warnings: string[] = [];
    const files = await writer.writeComparison(result, (message) => warnings.push(message));
    assert.deepEqual(readdirSync(dir).sort(), ['c.csv', 'c.json', 'c.layers.svg', 'c.stderr.csv', 'c.svg']);
    assert.equal(files.length, 5);
    assert.deepEqual(warnings, ['c: the PNG figures could not be drawn (no rasterizer here); the SVG figures are written']);
    await assert.rejects(new ResultWriter(dir, { rasterize: async () => Promise.reject(new Error('boom')) }).writeComparison(result), /boom/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ONNX models and data.inputs: missing files, per-channel normalisation, subspace match refused, layout ignored with inputs', async () => {
  const onnxDir = join(__dirname, '..', 'fixtures', 'onnx');
  const onnxModels = (entry: object) => ({ models: { m: { onnx: join(onnxDir, 'fmnist.onnx'), ...entry }, n: { architecture: 'resnet-20' } } });
  assert.deepEqual(await errors(onnxModels({ layout: 'NCHW', normalize: 'scale' })), []);
  assert.deepEqual(await errors(onnxModels({ normalize: { mean: [0.5], std: [0.25] } })), []);
  assert.deepEqual(await errors({ models: { m: { onnx: './nowhere.onnx' }, n: { architecture: 'resnet-20' } } }), [`experiments[0].models.m.onnx: no such file: ${join(WS, 'experiments', 'nowhere.onnx')}`]);
  assert.match((await errors(onnxModels({ normalize: { mean: [0.5, 0.5, 0.5], std: 0.25 } })))[0], /models\.m\.normalize\.mean: 3 values for the 1 channel of fashion-mnist-subset/);
  assert.match((await errors({ ...onnxModels({}), comparisons: [{ a: 'm', b: 'n', subspaceMatch: { epsilons: [0.5] } }] }))[0], /comparisons\[0\]\.subspaceMatch: subspace match is not available for ONNX models/);
  const inputs = { data: { inputs: join(onnxDir, 'x.npy'), labels: './nowhere.npy' } };
  assert.deepEqual(await errors({ ...onnxModels({}), ...inputs }), [`experiments[0].data.labels: no such file: ${join(WS, 'experiments', 'nowhere.npy')}`]);
  const { issues } = await validateExperimentText(experimentText({ ...onnxModels({ layout: 'NHWC' }), data: { inputs: join(onnxDir, 'x.npy') } }), FILE);
  assert.match(issues.find((i) => i.severity === 'warning')?.message ?? '', /"layout" and "normalize" apply to the built-in datasets only/);
});

test('a list of estimators: one comparison per estimator, named after it; its names clash-checked; full-data estimators refused for models', async () => {
  const { expandedComparisons } = await import('../../src/server/experiments/semantics.js');
  assert.deepEqual(
    expandedComparisons([{ a: 'm', b: 'n', estimator: ['biased', 'minibatch'] }, { name: 'x', a: 'm', b: 'n', estimator: 'debiased' }, { a: 'n', b: 'm' }]).map((c) => [c.name, c.estimator]),
    [
      ['m-vs-n-biased', 'biased'],
      ['m-vs-n-minibatch', 'minibatch'],
      ['x', 'debiased'],
      [undefined, undefined],
    ],
  );
  assert.deepEqual(await errors({ comparisons: [{ a: 'm', b: 'n', estimator: ['minibatch', 'biased'] }] }), [
    `experiments[0].comparisons[0].estimator: comparisons of models stream minibatches: 'biased' applies to activation files only; expected "minibatch"`,
  ]);
  assert.deepEqual(await errors({ comparisons: [{ a: 'm', b: 'n', estimator: ['minibatch'] }, { name: 'm-vs-n-minibatch', a: 'm', b: 'n' }] }), [
    `experiments[0].comparisons[1].name: another comparison is already named 'm-vs-n-minibatch': give this one a "name"`,
  ]);
  assert.equal((await errors({ comparisons: [{ a: 'm', b: 'n', estimator: [] }] })).length, 1, 'an empty list is refused by the schema');
});
