/**
 * What the tests of the bench's Python baselines share (test/unit/bench-reference.test.ts,
 * test/unit/bench-pytorch.test.ts): small synthetic activations, running a script for its
 * last line of JSON, and comparing its CKA matrix with RepSim's cell by cell.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { seededRandom } from '../../src/engine/random.js';
import type { LayerActivations } from '../../src/engine/similarity/index.js';

/** A seeded 3-dimensional signal for `examples` examples (examples × 3, uniform in [−1, 1]), for `syntheticLayer`. */
export function randomLatent(examples: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  return Float64Array.from({ length: examples * 3 }, () => random() * 2 - 1);
}

/**
 * A shared 3-dimensional signal (`latent`: examples × 3, one row per example) through a seeded
 * random map, plus noise; optionally rectified and offset.
 */
export function syntheticLayer(name: string, featureShape: number[], seed: number, latent: Float64Array, options: { relu?: boolean; offset?: number } = {}): LayerActivations {
  const examples = latent.length / 3;
  const random = seededRandom(seed);
  const features = featureShape.reduce((a, b) => a * b, 1);
  const map = Array.from({ length: 3 * features }, () => random() * 2 - 1);
  const data = new Float32Array(examples * features);
  for (let i = 0; i < examples; i++) {
    for (let f = 0; f < features; f++) {
      let value = (options.offset ?? 0) + (random() - 0.5);
      for (let k = 0; k < 3; k++) value += latent[i * 3 + k] * map[k * features + f];
      data[i * features + f] = options.relu ? Math.max(0, value) : value;
    }
  }
  return { name, shape: [examples, ...featureShape], data };
}

/** Runs `python script ...args`, asserts it succeeded, and parses its last line of output as JSON. */
export function runPythonJson<T>(python: string, script: string, args: readonly string[]): T {
  const result = spawnSync(python, [script, ...args], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as T;
}

/** Asserts every cell of RepSim's CKA matrix is within `tolerance` of the script's (`label` names it in messages). */
export function assertCkaClose(actual: readonly (readonly (number | null)[])[], expected: readonly (readonly (number | null)[])[], tolerance: number, label: string): void {
  actual.forEach((row, i) =>
    row.forEach((value, j) => {
      const want = expected[i][j];
      assert.ok(value !== null && want !== null && Math.abs(value - want) <= tolerance, `[${i}][${j}]: RepSim ${value}, ${label} ${want}`);
    }),
  );
}
