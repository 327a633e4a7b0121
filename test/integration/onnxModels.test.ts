/**
 * ONNX models in the product (issue 9 phase 2): `repsim cka` / `extract` / `layers` / `match`
 * on .onnx models with --inputs, checked against PyTorch's float64 reference; bad input with a
 * clear error naming the file and nothing written; and an experiment that compares a PyTorch
 * ResNet (exported for Fashion-MNIST, NCHW) with one of RepSim's own trained ResNet-8s, run
 * through the compute server (`repsim run`).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { parseNpz } from '../../src/engine/io/npz.js';
import { saveLayersModel } from '../../src/engine/train/index.js';
import { testBackend } from '../helpers/backend.js';
import { encodeNpy } from '../../src/engine/io/npy.js';
import { assertMatrixClose, FIXTURES, loadJson } from '../helpers/fixtures.js';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');
const ONNX = join(FIXTURES, 'onnx');
const A = join(ONNX, 'a.onnx');
const B = join(ONNX, 'b.onnx');
const X = join(ONNX, 'x.npy');
// The hooked PyTorch modules of reference.json, by their ONNX layer names.
const REFERENCE_LAYERS = '/^(stem\\.relu|blocks\\.\\d\\.relu\\d|pool|fc)$/';

function repsim(args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, '--backend', process.env.REPSIM_TEST_BACKEND ?? 'auto', ...args], { encoding: 'utf8', cwd });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Reference {
  layers: string[];
  minibatch: { batchSize: number; matrix: number[][] };
  biased: { matrix: number[][] };
}

const reference = loadJson<Reference>('onnx/reference.json');
let work: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'repsim-onnx-cli-'));
});

describe('repsim cka / extract / layers / match on .onnx models', () => {
  test('cka a.onnx b.onnx --inputs x.npy: the JSON matches the float64 PyTorch reference (minibatch and biased)', () => {
    for (const [estimator, extra, expected] of [
      ['minibatch', ['--batch-size', String(reference.minibatch.batchSize)], reference.minibatch.matrix],
      ['biased', [], reference.biased.matrix],
    ] as const) {
      const out = join(work, `${estimator}.json`);
      const run = repsim(['cka', A, B, '--inputs', X, '--layers', REFERENCE_LAYERS, '--estimator', estimator, ...extra, '--json', out, '--quiet']);
      assert.equal(run.status, 0, run.stderr);
      const json = JSON.parse(readFileSync(out, 'utf8'));
      assert.deepEqual(json.layersA, reference.layers);
      assert.deepEqual(json.layersB, reference.layers);
      assertMatrixClose(json.matrix, expected as number[][], 2e-4, estimator);
    }
  });

  test('--layers op:Relu,Add, --layers-a / --layers-b, and the README example line', () => {
    const out = join(work, 'ops.json');
    const run = repsim(['cka', A, B, '--inputs', X, '--layers', 'op:Relu,Add', '--batch-size', '32', '--json', out, '--quiet']);
    assert.equal(run.status, 0, run.stderr);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(json.layersA, ['stem.relu', 'blocks.0.relu1', 'blocks.0.add', 'blocks.0.relu2', 'blocks.1.relu1', 'blocks.1.add', 'blocks.1.relu2']);
    assert.equal(json.matrix.length, json.layersA.length);
    const sides = repsim(['cka', A, B, '--inputs', X, '--layers-a', 'pool', '--layers-b', 'op:Add', '--json', out, '--quiet']);
    assert.equal(sides.status, 0, sides.stderr);
    const two = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual([two.layersA, two.layersB], [['pool'], ['blocks.0.add', 'blocks.1.add']]);
  });

  test('extract writes one array per layer in forward order; cka of the file equals cka of the model', () => {
    const acts = join(work, 'acts.npz');
    const run = repsim(['extract', A, '--inputs', X, '--layers', REFERENCE_LAYERS, '--out', acts, '--quiet']);
    assert.equal(run.status, 0, run.stderr);
    const entries = parseNpz(readFileSync(acts), acts);
    assert.deepEqual(entries.map((e) => e.name), reference.layers);
    assert.deepEqual(entries[0].array.shape, [64, 8, 16, 16]);
    const fromFile = join(work, 'file.json');
    const fromModel = join(work, 'model.json');
    assert.equal(repsim(['cka', acts, B, '--inputs', X, '--layers-b', REFERENCE_LAYERS, '--estimator', 'biased', '--json', fromFile, '--quiet']).status, 0);
    assert.equal(repsim(['cka', A, B, '--inputs', X, '--layers', REFERENCE_LAYERS, '--estimator', 'biased', '--json', fromModel, '--quiet']).status, 0);
    assertMatrixClose(JSON.parse(readFileSync(fromFile, 'utf8')).matrix, JSON.parse(readFileSync(fromModel, 'utf8')).matrix, 1e-6, 'file vs model');
  });

  test('layers lists name, op type and shape; match runs on two models', () => {
    const run = repsim(['layers', A]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^blocks\.1\.relu2\s+Relu\s+\[n, 16, 8, 8\]$/m);
    assert.match(run.stdout, /^fc\s+Gemm\s+\[n, 10\]\s+\(model output\)$/m);
    const out = join(work, 'match.json');
    const match = repsim(['match', A, B, '--inputs', X, '--layer-a', 'blocks.1.relu2', '--layer-b', 'blocks.1.relu2', '--epsilon', '0.5', '--json', out, '--quiet']);
    assert.equal(match.status, 0, match.stderr);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(json.neurons, { a: 16, b: 16 });
  });

  test('an .onnx model against a TensorFlow.js model.json on the same inputs; layers of a model.json', async () => {
    await testBackend();
    // A TF.js model that takes the same NCHW examples, flattened.
    const input = tfl.input({ shape: [3, 16, 16] });
    const flat = tfl.layers.flatten({ name: 'flat' }).apply(input) as tfl.SymbolicTensor;
    const hidden = tfl.layers.dense({ units: 8, activation: 'relu', name: 'hidden', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(flat) as tfl.SymbolicTensor;
    const logits = tfl.layers.dense({ units: 10, name: 'logits', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(hidden) as tfl.SymbolicTensor;
    const folder = join(work, 'tfjs');
    await saveLayersModel(tfl.model({ inputs: input, outputs: logits }), folder);
    const listed = repsim(['layers', join(folder, 'model.json')]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /^hidden\s+Dense$/m);
    const out = join(work, 'mixed.json');
    const run = repsim(['cka', A, join(folder, 'model.json'), '--inputs', X, '--layers-b', 'all', '--estimator', 'debiased', '--json', out, '--quiet']);
    assert.equal(run.status, 0, run.stderr);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(json.layersA, ['stem.relu', 'blocks.0.relu2', 'blocks.1.relu2', 'pool']);
    assert.deepEqual(json.layersB, ['flat', 'hidden']);
    assert.equal(json.files.inputs, X);
  });

  test('bad input: one line naming the file, exit 1, nothing written', () => {
    const out = join(work, 'never.json');
    const notOnnx = join(work, 'not.onnx');
    writeFileSync(notOnnx, 'hello');
    const truncated = join(work, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(A).subarray(0, 4000));
    const wrongShape = join(work, 'wrong.npy');
    writeFileSync(wrongShape, encodeNpy({ shape: [4, 16, 16, 3], data: new Float32Array(4 * 16 * 16 * 3) }));
    const cases: [string[], RegExp][] = [
      [['cka', notOnnx, B, '--inputs', X], /not\.onnx/],
      [['cka', truncated, B, '--inputs', X], /truncated\.onnx/],
      [['cka', join(ONNX, 'static.onnx'), B, '--inputs', X], /static\.onnx.*(batch|dynamic)/i],
      [['cka', A, B, '--inputs', wrongShape], /wrong\.npy.*\[4, 16, 16, 3\].*a\.onnx.*channels-last/],
      [['cka', A, B, '--inputs', X, '--layers', 'nothing*'], /a\.onnx: layer pattern 'nothing\*' matches none/],
      [['cka', A, B, '--inputs', X, '--layers', 'op:Softmax'], /a\.onnx: layer selection 'op:Softmax' matches none/],
    ];
    for (const [args, message] of cases) {
      const run = repsim([...args, '--json', out]);
      assert.equal(run.status, 1, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split('\n').filter((l) => !l.startsWith('repsim: ONNX Runtime') && !l.startsWith('repsim: TensorFlow')).length, 1, run.stderr);
      assert.equal(existsSync(out), false);
    }
    const noInputs = repsim(['cka', A, B]);
    assert.equal(noInputs.status, 2);
    assert.match(noInputs.stderr, /--inputs/);
    const extract = repsim(['extract', A, '--inputs', wrongShape, '--out', join(work, 'never.npz')]);
    assert.equal(extract.status, 1);
    assert.equal(existsSync(join(work, 'never.npz')), false);
  });
});

describe('an experiment comparing a PyTorch ResNet (.onnx) with RepSim\'s own ResNet-8, through the server', () => {
  test('fashion-mnist-subset: fmnist.onnx (NCHW, dataset normalisation) vs resnet-8 trained 1 epoch: the heatmap, accuracy and agreement', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repsim-onnx-run-'));
    writeFileSync(
      join(dir, 'mixed.repsim.json'),
      JSON.stringify({
        experiments: [
          {
            name: 'pytorch-vs-repsim',
            data: { dataset: 'fashion-mnist-subset', evaluationExamples: 256 },
            models: {
              torch: { onnx: join(ONNX, 'fmnist.onnx'), layout: 'NCHW', normalize: 'dataset' },
              ours: { architecture: 'resnet-8', seed: 0, training: { epochs: 1, batchSize: 64, augment: false } },
            },
            comparisons: [{ name: 'torch-vs-ours', a: 'torch', b: 'ours', layers: 'blocks', batchSize: 64 }],
          },
        ],
      }),
    );
    const run = repsim(['run', 'mixed.repsim.json'], dir);
    assert.equal(run.status, 0, run.stderr);
    const results = JSON.parse(readFileSync(join(dir, 'repsim-results', 'pytorch-vs-repsim', 'results.json'), 'utf8'));
    const [comparison] = results.comparisons;
    assert.deepEqual(comparison.layersA, ['stem.relu', 'blocks.0.relu2', 'blocks.1.relu2', 'pool']);
    assert.ok(comparison.layersB.length >= 3, comparison.layersB.join(', '));
    assert.equal(comparison.matrix.length, comparison.layersA.length);
    for (const row of comparison.matrix) {
      assert.equal(row.length, comparison.layersB.length);
      for (const v of row) assert.ok(v === null || (v > -0.2 && v <= 1.0001), String(v));
    }
    assert.equal(comparison.examples, 256);
    assert.equal(typeof comparison.accuracy.a, 'number');
    assert.ok(comparison.accuracy.b > 0.3, `the trained ResNet-8's accuracy ${comparison.accuracy.b}`);
    assert.equal(typeof comparison.agreement.agreement, 'number');
    assert.ok(existsSync(join(dir, 'repsim-results', 'pytorch-vs-repsim', 'torch-vs-ours.png')));
  });

  test('data.inputs (+ labels) fed as they are: two PyTorch ResNets, accuracy from the labels; bad entries fail naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repsim-onnx-inputs-'));
    const labels = join(dir, 'y.npy');
    writeFileSync(labels, encodeNpy({ shape: [64], data: Float64Array.from({ length: 64 }, (_, i) => i % 10) }));
    const experiment = (name: string, models: object, data: object, extra: object = {}) => ({ name, data, models, comparisons: [{ name, a: 'a', b: 'b', layers: 'blocks', batchSize: 32, ...extra }] });
    writeFileSync(
      join(dir, 'inputs.repsim.json'),
      JSON.stringify({
        experiments: [
          experiment('own-inputs', { a: { onnx: A }, b: { onnx: B } }, { inputs: X, labels }),
          experiment('wrong-layout', { a: { onnx: join(ONNX, 'fmnist.onnx'), layout: 'NHWC' }, b: { architecture: 'resnet-8', training: { epochs: 0 } } }, { dataset: 'fashion-mnist-subset', evaluationExamples: 64 }),
        ],
      }),
    );
    // Refused when the file is checked, before anything runs.
    writeFileSync(join(dir, 'subspace.repsim.json'), JSON.stringify({ experiments: [experiment('no-subspace', { a: { onnx: A }, b: { onnx: B } }, { inputs: X }, { subspaceMatch: { epsilons: [0.5] } })] }));
    const run = repsim(['run', 'inputs.repsim.json', '--experiment', 'own-inputs'], dir);
    assert.equal(run.status, 0, run.stderr);
    const [comparison] = JSON.parse(readFileSync(join(dir, 'repsim-results', 'own-inputs', 'results.json'), 'utf8')).comparisons;
    assert.deepEqual(comparison.layersA, ['stem.relu', 'blocks.0.relu2', 'blocks.1.relu2', 'pool']);
    assert.equal(comparison.examples, 64);
    assert.equal(typeof comparison.accuracy.a, 'number');
    assert.equal(comparison.agreement.perClass.length, 10);

    const layout = repsim(['run', 'inputs.repsim.json', '--experiment', 'wrong-layout'], dir);
    assert.equal(layout.status, 1);
    assert.match(layout.stderr, /fmnist\.onnx: the input 'input' has shape \[batch, 1, 28, 28\], but fashion-mnist-subset images in layout NHWC are \[n, 28, 28, 1\] \(the model looks channels-first: say layout NCHW\)/);
    const subspace = repsim(['run', 'subspace.repsim.json'], dir);
    assert.equal(subspace.status, 1);
    assert.match(subspace.stderr, /subspace\.repsim\.json: experiments\[0\]\.comparisons\[0\]\.subspaceMatch: subspace match is not available for ONNX models/);
    assert.equal(existsSync(join(dir, 'repsim-results', 'no-subspace')), false);
  });

  test('ONNX Runtime turned off (--backend cpu): a clear error naming the model', () => {
    const run = spawnSync(process.execPath, [CLI, '--backend', 'cpu', 'cka', A, B, '--inputs', X], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /a\.onnx: ONNX models run on ONNX Runtime, which is not running here \(--backend cpu runs everything on TensorFlow\.js\)/);
  });
});
