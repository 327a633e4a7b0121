import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_CANDIDATES, formatBackendReport, initBackend } from '../../src/engine/backend/index.js';

test('candidates are ordered fastest first and end with the always-present cpu backend', () => {
  assert.deepEqual(BACKEND_CANDIDATES.map((c) => c.name), ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
});

test('auto picks a working backend and reports why faster ones were skipped', async () => {
  const report = await initBackend('auto');
  assert.equal(tf.getBackend(), report.tfjsName);
  const order = BACKEND_CANDIDATES.map((c) => c.name);
  const chosenAt = order.indexOf(report.name);
  assert.deepEqual(report.skipped.map((s) => s.name), order.slice(0, chosenAt));
  for (const skip of report.skipped) assert.ok(skip.reason.length > 0);
  const line = formatBackendReport(report);
  assert.match(line, new RegExp(`training: TensorFlow.js ${report.name} `));
  // ONNX Runtime computes wherever it loads (Linux x64 ships its CPU binaries); the CUDA provider is
  // skipped with the reason where it is not installed or no GPU answers.
  if (report.onnx) {
    assert.match(line, new RegExp(`^compute: ONNX Runtime [0-9.]+: ${report.onnx.provider} `));
    const providers = ['cuda', 'dml', 'coreml', 'cpu'];
    assert.deepEqual(report.onnx.skipped.map((s) => s.name), providers.slice(0, providers.indexOf(report.onnx.provider)));
    assert.ok(report.onnx.threads >= 1);
  } else {
    assert.match(line, /^compute: TensorFlow\.js .* ONNX Runtime not used: ./);
  }
  // the choice is made once per process
  assert.equal(await initBackend('auto'), report);
  const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
  assert.deepEqual(Array.from(sum), [4, 6]);
});
