/**
 * The published and invariance checks of CKA, and the float32 range, held against both
 * similarity engines (TensorFlow.js and ONNX Runtime) through the all-pairs path.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ckaMatrix, LINEAR, rbf, type CkaEstimator, type KernelSpec, type LayerActivations } from '../../src/engine/similarity/index.js';
import type { GramEngine } from '../../src/engine/similarity/gramEngine.js';
import { seededRandom } from '../../src/engine/random.js';
import { SIMILARITY_ENGINES } from '../helpers/engines.js';
import { gaussian, randomOrthogonalRows } from '../helpers/random.js';
import { loadJson, loadLayers } from '../helpers/fixtures.js';

interface ColabReference {
  colab: Record<string, number> & { published: Record<string, number> };
}

/** rows × cols Gaussian activations, row-major. */
function randomRows(rows: number, cols: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  return Float64Array.from({ length: rows * cols }, () => gaussian(random));
}

function layer(name: string, rows: number, cols: number, values: ArrayLike<number>): LayerActivations {
  return { name, shape: [rows, cols], data: Float32Array.from(values) };
}

/** X·M for a cols × cols matrix M (float64, then float32). */
function transform(x: Float64Array, rows: number, cols: number, m: (i: number, j: number) => number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) {
    let sum = 0;
    for (let i = 0; i < cols; i++) sum += x[r * cols + i] * m(i, j);
    out[r * cols + j] = sum;
  }
  return out;
}

for (const engineCase of SIMILARITY_ENGINES) {
  describe(`CKA on ${engineCase.name}`, () => {
    let engine: GramEngine | undefined;
    const one = async (x: LayerActivations, y: LayerActivations, kernel: KernelSpec, estimator: CkaEstimator, batchSize?: number) => {
      const result = await ckaMatrix([x], [y], { kernel, estimator, batchSize, ...(engine ? { engine } : {}) });
      return { value: result.matrix[0][0], warnings: result.warnings };
    };
    before(async () => {
      engine = await engineCase.engine();
    });

    test("Kornblith et al.'s colab example gives the published values and the float64 reference", async () => {
      const reference = loadJson<ColabReference>('cka/reference.json').colab;
      const [x, y] = loadLayers('cka/colab.npz');
      const linear = (await one(x, y, LINEAR, 'biased')).value!;
      const rbfHalf = (await one(x, y, rbf(0.5), 'biased')).value!;
      const debiased = (await one(x, y, LINEAR, 'debiased')).value!;
      const rbfDebiased = (await one(x, y, rbf(0.5), 'debiased')).value!;
      assert.ok(Math.abs(linear - reference.published.linear) < 1e-5, `linear ${linear}`);
      assert.ok(Math.abs(rbfHalf - reference.published['rbf:0.5']) < 1e-5, `rbf ${rbfHalf}`);
      assert.ok(Math.abs(debiased - reference.published.linear_debiased) < 1e-5, `debiased ${debiased}`);
      assert.ok(Math.abs(rbfDebiased - reference['rbf:0.5_debiased']) < 1e-4, `rbf debiased ${rbfDebiased}`);
    });

    for (const [label, kernel, estimator] of [
      ['linear', LINEAR, 'biased'],
      ['linear debiased', LINEAR, 'debiased'],
      ['rbf', rbf(1), 'biased'],
      ['linear minibatch', LINEAR, 'minibatch'],
    ] as const) {
      test(`${label}: orthogonal maps, isotropic scaling and shifts give 1; a non-orthogonal map does not`, async () => {
        const rows = 64;
        const cols = 12;
        const x = randomRows(rows, cols, 1);
        const q = randomOrthogonalRows(cols, 2);
        const base = layer('x', rows, cols, x);
        const batch = estimator === 'minibatch' ? 16 : undefined;
        const value = async (values: ArrayLike<number>) => (await one(base, layer('y', rows, cols, values), kernel, estimator, batch)).value!;
        assert.ok(Math.abs((await value(transform(x, rows, cols, (i, j) => q[j][i]))) - 1) < 1e-5, 'orthogonal');
        assert.ok(Math.abs((await value(x.map((v) => v * 7.5))) - 1) < 1e-5, 'scaling');
        assert.ok(Math.abs((await value(x.map((v) => v + 3))) - 1) < 1e-5, 'shift');
        assert.ok((await value(transform(x, rows, cols, (i, j) => (i === j ? 1 + 4 * i : 0)))) < 0.99, 'a non-orthogonal map is not an invariance');
      });
    }

    test('the float32 range: activations scaled by 3e9 or 1e-30 give the unscaled CKA, not 0 or null', async () => {
      const rows = 128;
      const x = layer('x', rows, 40, randomRows(rows, 40, 5));
      const yValues = transform(randomRows(rows, 40, 6), rows, 40, (i, j) => (i === j ? 1 : 0.05));
      for (let k = 0; k < yValues.length; k++) yValues[k] += 0.5 * x.data[k];
      for (const [kernel, estimator] of [[LINEAR, 'biased'], [LINEAR, 'debiased'], [LINEAR, 'minibatch'], [rbf(1), 'biased']] as const) {
        const batch = estimator === 'minibatch' ? 32 : undefined;
        const plain = (await one(x, layer('y', rows, 40, yValues), kernel, estimator, batch)).value!;
        assert.ok(plain > 0.1 && plain < 0.99, `a value in the middle: ${plain}`);
        for (const scale of [3e9, 1e-30, 1e30]) {
          const scaled = await one(x, layer('y', rows, 40, yValues.map((v) => v * scale)), kernel, estimator, batch);
          assert.deepEqual(scaled.warnings, [], `${scale}`);
          assert.ok(Math.abs(scaled.value! - plain) < 1e-5, `${kernel.kind} ${estimator} ×${scale}: ${scaled.value} vs ${plain}`);
        }
      }
    });

    test('one huge constant feature does not make a varied layer "zero variance"', async () => {
      const rows = 64;
      const x = randomRows(rows, 6, 9);
      const withConstant = Float64Array.from({ length: rows * 7 }, (_, k) => (k % 7 === 6 ? 1e7 : x[Math.floor(k / 7) * 6 + (k % 7)]));
      const result = await one(layer('x', rows, 6, x), layer('x_and_constant', rows, 7, withConstant), LINEAR, 'biased');
      assert.deepEqual(result.warnings, []);
      assert.ok(Math.abs(result.value! - 1) < 1e-5, `${result.value}`);
      // Extreme: features varying at 1e-30 beside a constant 1e10 (the constant must not overflow once scaled).
      const tiny = Float64Array.from({ length: rows * 7 }, (_, k) => (k % 7 === 6 ? 1e10 : 1e-30 * x[Math.floor(k / 7) * 6 + (k % 7)]));
      const extreme = await one(layer('x', rows, 6, x), layer('tiny_and_constant', rows, 7, tiny), LINEAR, 'debiased');
      assert.deepEqual(extreme.warnings, []);
      assert.ok(Math.abs(extreme.value! - 1) < 1e-5, `${extreme.value}`);
    });
  });
}
