import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { cka, ckaFromGrams, linearGram, rbf, LINEAR, hsic1, centerGramUnbiased } from '../../src/engine/similarity/index.js';
import { frobeniusDot } from '../../src/engine/similarity/reduce.js';
import { InputError } from '../../src/engine/errors.js';
import { seededRandom } from '../../src/engine/random.js';
import { testBackend } from '../helpers/backend.js';
import { loadJson, loadLayers } from '../helpers/fixtures.js';
import { gaussian, randomOrthogonalRows } from '../helpers/random.js';

interface ColabReference {
  colab: Record<string, number> & { published: Record<string, number> };
}

const TOLERANCE = 1e-4;

function randomMatrix(rows: number, cols: number, seed: number): tf.Tensor2D {
  const random = seededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => gaussian(random)), [rows, cols]);
}

function randomOrthogonal(size: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(randomOrthogonalRows(size, seed));
}

describe('CKA against Kornblith et al.', () => {
  let x: tf.Tensor2D;
  let y: tf.Tensor2D;
  const reference = loadJson<ColabReference>('cka/reference.json').colab;

  before(async () => {
    await testBackend();
    const [a, b] = loadLayers('cka/colab.npz');
    x = tf.tensor2d(a.data, a.shape as [number, number]);
    y = tf.tensor2d(b.data, b.shape as [number, number]);
  });

  test('the colab example gives the published values', () => {
    const published = reference.published;
    const linear = cka(x, y, { kernel: LINEAR, debiased: false }).value!;
    const rbfHalf = cka(x, y, { kernel: rbf(0.5), debiased: false }).value!;
    const debiased = cka(x, y, { kernel: LINEAR, debiased: true }).value!;
    // Published to five decimals; the float64 reference agrees with them.
    assert.ok(Math.abs(linear - published.linear) < 1e-5, `linear ${linear}`);
    assert.ok(Math.abs(rbfHalf - published['rbf:0.5']) < 1e-5, `rbf ${rbfHalf}`);
    assert.ok(Math.abs(debiased - published.linear_debiased) < 1e-5, `debiased ${debiased}`);
  });

  test('agrees with the float64 NumPy reference within 1e-4', () => {
    const cases: [string, number | null][] = [
      ['linear', cka(x, y, { kernel: LINEAR, debiased: false }).value],
      ['rbf:0.5', cka(x, y, { kernel: rbf(0.5), debiased: false }).value],
      ['linear_debiased', cka(x, y, { kernel: LINEAR, debiased: true }).value],
      ['rbf:0.5_debiased', cka(x, y, { kernel: rbf(0.5), debiased: true }).value],
    ];
    for (const [name, value] of cases) {
      assert.ok(value !== null && Math.abs(value - reference[name]) <= TOLERANCE, `${name}: ${value} vs ${reference[name]}`);
    }
  });

  test('HSIC₁ by its formula equals the U-centred inner product and the NumPy value', () => {
    const k = linearGram(x);
    const l = linearGram(y);
    const byFormula = hsic1(k, l);
    const n = x.shape[0];
    const uk = centerGramUnbiased(k);
    const ul = centerGramUnbiased(l);
    const byCentering = frobeniusDot(uk, ul) / (n * (n - 3));
    assert.ok(Math.abs(byFormula - reference.hsic1_linear) / reference.hsic1_linear < 1e-5, `${byFormula}`);
    assert.ok(Math.abs(byCentering - byFormula) / byFormula < 1e-5, `${byCentering} vs ${byFormula}`);
    tf.dispose([k, l, uk, ul]);
  });
});

describe('CKA invariances', () => {
  before(testBackend);

  for (const [label, options] of [
    ['linear', { kernel: LINEAR, debiased: false }],
    ['linear debiased', { kernel: LINEAR, debiased: true }],
    ['rbf', { kernel: rbf(1), debiased: false }],
  ] as const) {
    test(`${label}: orthogonal transforms and isotropic scaling give 1; a non-orthogonal map does not`, () => {
      const x = randomMatrix(60, 12, 1);
      const q = randomOrthogonal(12, 2);
      const rotated = tf.matMul(x, q);
      const scaled = tf.mul(x, 7.5);
      const shifted = tf.add(x, 3); // mean shifts never matter
      const stretch = tf.diag(tf.tensor1d(Array.from({ length: 12 }, (_, i) => 1 + 4 * i)));
      const skewed = tf.matMul(x, stretch);
      assert.ok(Math.abs(cka(x, rotated, options).value! - 1) < 1e-5, 'orthogonal');
      assert.ok(Math.abs(cka(x, scaled, options).value! - 1) < 1e-5, 'scaling');
      assert.ok(Math.abs(cka(x, shifted, options).value! - 1) < 1e-5, 'shift');
      assert.ok(cka(x, skewed, options).value! < 0.99, 'an invertible non-orthogonal map is not an invariance');
      tf.dispose([x, q, rotated, scaled, shifted, stretch, skewed]);
    });
  }

  test('is symmetric and not clamped: unrelated debiased layers may go below zero', () => {
    const a = randomMatrix(40, 5, 3);
    const b = randomMatrix(40, 5, 4);
    const ab = cka(a, b, { kernel: LINEAR, debiased: true }).value!;
    const ba = cka(b, a, { kernel: LINEAR, debiased: true }).value!;
    assert.ok(Math.abs(ab - ba) < 1e-6);
    let sawNegative = false;
    for (let seed = 10; seed < 40 && !sawNegative; seed += 2) {
      const p = randomMatrix(30, 3, seed);
      const q = randomMatrix(30, 3, seed + 1);
      sawNegative = cka(p, q, { kernel: LINEAR, debiased: true }).value! < 0;
      tf.dispose([p, q]);
    }
    assert.ok(sawNegative, 'debiased CKA of independent layers should sometimes be negative (never clamped to 0)');
    tf.dispose([a, b]);
  });
});

describe('CKA on bad input', () => {
  before(testBackend);

  test('a layer with zero variance gives null with a warning naming it, never NaN', () => {
    const x = randomMatrix(20, 4, 5);
    const constant = tf.fill([20, 6], 0.1);
    for (const kernel of [LINEAR, rbf(1)]) {
      for (const debiased of [false, true]) {
        const result = cka(x, constant, { kernel, debiased }, { a: 'conv1', b: 'dead_relu' });
        assert.equal(result.value, null);
        assert.match(result.warning!, /dead_relu/);
        assert.match(result.warning!, /zero variance/);
      }
    }
    tf.dispose([x, constant]);
  });

  test('debiased CKA on fewer than 4 examples is a clear error', () => {
    const x = randomMatrix(3, 4, 6);
    assert.throws(() => cka(x, x, { kernel: LINEAR, debiased: true }), (e: unknown) => e instanceof InputError && /at least 4/.test(e.message));
    x.dispose();
  });

  test('different example counts are an error naming the layers', () => {
    const x = randomMatrix(10, 4, 7);
    const y = randomMatrix(12, 4, 8);
    assert.throws(() => cka(x, y, { kernel: LINEAR, debiased: false }, { a: 'a/conv', b: 'b/conv' }), /a\/conv has 10 examples but b\/conv has 12/);
    tf.dispose([x, y]);
  });

  test('grams with zero norm give null from ckaFromGrams', () => {
    const zero = tf.zeros([8, 8]) as tf.Tensor2D;
    const k = linearGram(randomMatrix(8, 3, 9));
    assert.equal(ckaFromGrams(zero, k, false), null);
    tf.dispose([zero, k]);
  });
});
