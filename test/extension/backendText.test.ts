import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeBackendDescription, computeBackendLabel } from '../../src/extension/server/backendText.js';
import { resolveSettings } from '../../src/extension/settings.js';
import type { BackendReport } from '../../src/protocol/index.js';

const TFJS = { name: 'wasm', tfjsName: 'wasm', packageName: '@tensorflow/tfjs-backend-wasm', description: 'WebAssembly', selection: 'auto', skipped: [], tfjsVersion: '4.22.0' } as const;

test('the status bar names what computes: the ONNX Runtime provider, or the TensorFlow.js backend and why', () => {
  const onnx: BackendReport = { ...TFJS, onnx: { runtime: 'onnxruntime', provider: 'cuda', description: 'NVIDIA GPU', selection: 'auto', skipped: [], threads: 16, version: '1.30.0' }, onnxUnavailable: null };
  assert.equal(computeBackendLabel(onnx), 'onnx-cuda');
  assert.equal(computeBackendDescription(onnx), 'Computes on ONNX Runtime 1.30.0: cuda (NVIDIA GPU, 16 threads)\nTrains on TensorFlow.js wasm (WebAssembly)');
  const fallback: BackendReport = { ...TFJS, onnx: null, onnxUnavailable: 'ONNX Runtime cannot load here: no binary for darwin-x64' };
  assert.equal(computeBackendLabel(fallback), 'wasm');
  assert.match(computeBackendDescription(fallback), /^Computes on TensorFlow\.js wasm \(WebAssembly\); ONNX Runtime not used: ONNX Runtime cannot load here: no binary for darwin-x64\n/);
});

test('repsim.backend takes ONNX Runtime providers; an unknown value falls back to auto', () => {
  assert.equal(resolveSettings({ backend: 'onnx-cpu' }, '/ws', '/home/u').backend, 'onnx-cpu');
  assert.equal(resolveSettings({ backend: 'onnx-cuda' }, '/ws', '/home/u').backend, 'onnx-cuda');
  assert.equal(resolveSettings({ backend: 'tpu' }, '/ws', '/home/u').backend, 'auto');
});
