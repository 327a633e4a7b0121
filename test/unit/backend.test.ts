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
  assert.match(line, new RegExp(`backend: ${report.name}`));
  // the choice is made once per process
  assert.equal(await initBackend('auto'), report);
  const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
  assert.deepEqual(Array.from(sum), [4, 6]);
});
