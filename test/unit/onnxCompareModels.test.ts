/**
 * ONNX model files in `compareModels` (issue 9 phase 2): an ONNX variant of ComparedModel runs
 * on ONNX Runtime with its grams fused; the CKA matrix matches the float64 PyTorch reference;
 * an ONNX model compares with a TF.js model on the same data; a model without a classifier
 * output gets no agreement (logged); no ONNX Runtime and subspace match are clear errors.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { onnx } from 'onnx-proto';
import { compareModels, onnxComparedModel } from '../../src/engine/activations/index.js';
import { InputError } from '../../src/engine/errors.js';
import { firstPcVarianceFraction } from '../../src/engine/similarity/index.js';
import { parseNpy } from '../../src/engine/io/npy.js';
import { extractActivations, layerCandidates, loadOnnxModel, onnxInputsEvaluation, parseOnnxModel, parseOnnxLayerSelection, selectOnnxLayers, type OnnxModelFile } from '../../src/engine/onnx/import/index.js';
import type { OnnxRuntime } from '../../src/engine/onnx/runtime.js';
import { testBackend } from '../helpers/backend.js';
import { testOnnxRuntime } from '../helpers/engines.js';
import { assertMatrixClose, FIXTURES, loadJson } from '../helpers/fixtures.js';

const fixture = (name: string) => join(FIXTURES, 'onnx', name);
const REFERENCE_LAYERS = '/^(stem\\.relu|blocks\\.\\d\\.relu\\d|pool|fc)$/';

describe('compareModels with ONNX model files', () => {
  let runtime: OnnxRuntime;
  let a: OnnxModelFile;
  let b: OnnxModelFile;
  const x = () => parseNpy(readFileSync(fixture('x.npy')), 'x.npy');
  const labels = Int32Array.from({ length: 64 }, (_, i) => i % 10);

  before(async () => {
    await testBackend();
    runtime = await testOnnxRuntime();
    [a, b] = await Promise.all([loadOnnxModel(fixture('a.onnx')), loadOnnxModel(fixture('b.onnx'))]);
  });

  const select = async (file: OnnxModelFile, selection: string) => selectOnnxLayers(file.path, await layerCandidates(runtime, file), parseOnnxLayerSelection(selection));

  test('two PyTorch ResNets: minibatch CKA equals the float64 PyTorch reference; agreement and first-PC shares', async () => {
    const reference = loadJson<{ layers: string[]; minibatch: { batchSize: number; matrix: number[][] } }>('onnx/reference.json');
    const data = onnxInputsEvaluation(x(), 'x.npy', [a, b], { labels });
    const result = await compareModels(onnxComparedModel(a, await select(a, REFERENCE_LAYERS)), onnxComparedModel(b, await select(b, REFERENCE_LAYERS)), data, {
      batchSize: reference.minibatch.batchSize,
      runtime,
      firstPc: true,
      agreement: true,
    });
    assert.deepEqual(result.cka.layersA, reference.layers);
    assertMatrixClose(result.cka.matrix, reference.minibatch.matrix, 2e-4, 'minibatch');
    assert.equal(result.engines.a, `ONNX Runtime ${runtime.provider}`);
    assert.equal(result.agreement?.examples, 64);
    assert.equal(typeof result.agreement?.accuracyA, 'number');
    for (const share of [...result.firstPc!.a, ...result.firstPc!.b]) assert.ok(share === null || (share > 0 && share <= 1), String(share));
  });

  test('first-PC share of an ONNX model is pooled over batches in the activations\' own units (Σλ₁ / Σ trace)', async () => {
    const data = onnxInputsEvaluation(x(), 'x.npy', [a], { labels });
    const layers = await select(a, 'blocks');
    const result = await compareModels(onnxComparedModel(a, layers), onnxComparedModel(a, layers), data, { batchSize: 32, runtime, firstPc: true });
    const activations = await extractActivations(runtime, a, layers, data, { batchSize: 64 });
    activations.forEach((layer, i) => {
      let top = 0;
      let trace = 0;
      for (let start = 0; start < 64; start += 32) {
        const cols = layer.data.length / 64;
        const batch = tf.tensor(layer.data.slice(start * cols, (start + 32) * cols), [32, cols]);
        const total = tf.tidy(() => tf.sum(tf.square(tf.sub(batch, tf.mean(batch, 0, true)))).dataSync()[0]);
        top += firstPcVarianceFraction(batch)! * total;
        trace += total;
        batch.dispose();
      }
      assert.ok(Math.abs(result.firstPc!.a[i]! - top / trace) < 1e-4, `${layer.name}: ${result.firstPc!.a[i]} vs ${top / trace}`);
    });
  });

  test('an ONNX model and a TF.js model on the same inputs', async () => {
    // A TF.js model taking the same NCHW examples, flattened.
    const input = tfl.input({ shape: [3, 16, 16] });
    const flat = tfl.layers.flatten({ name: 'flat' }).apply(input) as tfl.SymbolicTensor;
    const dense = tfl.layers.dense({ units: 8, activation: 'relu', name: 'hidden', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(flat) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 10, name: 'logits', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(dense) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    try {
      const data = onnxInputsEvaluation(x(), 'x.npy', [a], { labels });
      const result = await compareModels(onnxComparedModel(a, await select(a, 'blocks')), { model, layers: ['flat', 'hidden'] }, data, { batchSize: 32, runtime, agreement: true });
      assert.deepEqual(result.cka.layersB, ['flat', 'hidden']);
      assert.equal(result.cka.matrix.length, 4);
      for (const row of result.cka.matrix) for (const v of row) assert.ok(v !== null && v > -0.2 && v <= 1.0001, String(v));
      assert.equal(result.agreement?.examples, 64);
    } finally {
      model.dispose();
      tf.disposeVariables();
    }
  });

  test('a model whose first output is not [n, classes]: no agreement, said in the log', async () => {
    const proto = onnx.ModelProto.decode(readFileSync(fixture('a.onnx')));
    const candidates = await select(a, 'stem.relu');
    proto.graph!.output = [onnx.ValueInfoProto.create({ name: candidates[0].value })];
    const headless = parseOnnxModel(onnx.ModelProto.encode(proto).finish(), 'headless.onnx');
    const data = onnxInputsEvaluation(x(), 'x.npy', [a, headless], { labels });
    const logs: string[] = [];
    const result = await compareModels(onnxComparedModel(a, candidates), onnxComparedModel(headless, await select(headless, 'stem.relu'), { label: 'headless' }), data, {
      batchSize: 32,
      runtime,
      agreement: true,
      log: (m) => logs.push(m),
    });
    assert.equal(result.agreement, undefined);
    assert.ok(Math.abs(result.cka.matrix[0][0]! - 1) < 1e-4, 'the same layer of the same weights');
    assert.equal(logs.filter((m) => /headless: the model's first output is not \[examples, classes\]/.test(m)).length, 1, logs.join('\n'));
  });

  test('no ONNX Runtime, or a subspace match: an InputError naming the file, before any work', async () => {
    const data = onnxInputsEvaluation(x(), 'x.npy', [a]);
    const compared = onnxComparedModel(a, await select(a, 'blocks'));
    await assert.rejects(compareModels(compared, compared, data, { runtime: null }), (e: Error) => e instanceof InputError && /a\.onnx .*ONNX models run on ONNX Runtime, which is not running here/.test(e.message));
    await assert.rejects(compareModels(compared, compared, data, { runtime, subspaceMatch: { epsilons: [0.5] } }), (e: Error) => e instanceof InputError && /a\.onnx: subspace match is not available for ONNX models/.test(e.message));
  });
});
