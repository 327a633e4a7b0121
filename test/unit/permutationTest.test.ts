/**
 * The permutation test and the cells' drill-down data, on every similarity engine: the permuted
 * cross products against a float64 brute force, p-values of independent data spread uniformly
 * over (0, 1] (Kolmogorov–Smirnov, fixed seed), a shared signal at the floor 1/(P + 1), the
 * calibrated CKA of independent layers near 0, and per-example shares summing to the numerator.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ckaMatrix } from '../../src/engine/similarity/ckaMatrix.js';
import { LINEAR, rbf } from '../../src/engine/similarity/kernel.js';
import type { LayerActivations } from '../../src/engine/similarity/layers.js';
import type { CenteredGram } from '../../src/engine/similarity/centeredGrams.js';
import { centeredGram } from '../../src/engine/similarity/centeredGrams.js';
import { expandPermutations, permutedCross, TFJS_PERMUTATION_KERNELS } from '../../src/engine/similarity/permutedCross.js';
import { batchPermutations, permutationCellMask } from '../../src/engine/similarity/permutationTest.js';
import { CellDetailsCollector } from '../../src/engine/similarity/cellDetails.js';
import { MinibatchCkaAccumulator } from '../../src/engine/similarity/accumulator.js';
import { batchHsic, hsicNormalizer } from '../../src/engine/similarity/batchHsic.js';
import { seededRandom } from '../../src/engine/random.js';
import { gaussian } from '../helpers/random.js';
import { testBackend } from '../helpers/backend.js';
import { SIMILARITY_ENGINES } from '../helpers/engines.js';

function randomLayer(name: string, n: number, d: number, random: () => number): LayerActivations {
  return { name, shape: [n, d], data: Float32Array.from({ length: n * d }, () => gaussian(random)) };
}

/** B's layer i: A's layer i through a fixed random map, plus a little noise (a shared signal). */
function relatedLayer(source: LayerActivations, name: string, d: number, random: () => number): LayerActivations {
  const [n, dIn] = source.shape;
  const map = Float64Array.from({ length: dIn * d }, () => gaussian(random));
  const data = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) {
      let v = 0;
      for (let k = 0; k < dIn; k++) v += source.data[r * dIn + k] * map[k * d + c];
      data[r * d + c] = v + 0.5 * gaussian(random);
    }
  }
  return { name, shape: [n, d], data };
}

/** Kolmogorov–Smirnov distance of a sample from the uniform distribution on [0, 1]. */
function ksUniform(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const m = sorted.length;
  return Math.max(...sorted.map((v, k) => Math.max(Math.abs((k + 1) / m - v), Math.abs(v - k / m))));
}

/** Σ_{r,c} Ū[r, c]·V̄[π(r), π(c)]·scales / c, in float64. */
function bruteForce(a: CenteredGram, b: CenteredGram, n: number, perm: Int32Array, normalizer: number): number {
  let sum = 0;
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) sum += a.gram[r * n + c] * b.gram[perm[r] * n + perm[c]];
  return (sum * a.scale * b.scale) / normalizer;
}

describe('permutation test', () => {
  test('the seeded permutations of a batch: permutations without a fixed point, all different, depending only on (seed, batch)', () => {
    for (const [n, count] of [[10, 3], [10, 25], [256, 100]]) {
      const perms = expandPermutations(batchPermutations(n, count, 7, 2));
      assert.equal(perms.length, n * count);
      const seen = new Set<string>();
      for (let p = 0; p < count; p++) {
        const pi = [...perms.subarray(p * n, (p + 1) * n)];
        assert.deepEqual([...pi].sort((x, y) => x - y), [...Array(n).keys()]);
        assert.ok(pi.every((target, r) => target !== r), 'no example is paired with itself');
        seen.add(pi.join(','));
      }
      assert.equal(seen.size, count, 'no permutation drawn twice');
    }
    assert.deepEqual(batchPermutations(10, 3, 7, 2), batchPermutations(10, 3, 7, 2));
    assert.notDeepEqual(batchPermutations(10, 3, 7, 3), batchPermutations(10, 3, 7, 2));
    assert.notDeepEqual(batchPermutations(10, 3, 8, 2), batchPermutations(10, 3, 7, 2));
  });

  test('cells by name: the diagonal, pairs, and an unknown layer named', () => {
    assert.deepEqual([...permutationCellMask(['a', 'b'], ['x', 'y', 'z'], 'diagonal')!], [1, 0, 0, 0, 1, 0]);
    assert.deepEqual([...permutationCellMask(['a', 'b'], ['x', 'y'], [['b', 'x']])!], [0, 0, 1, 0]);
    assert.equal(permutationCellMask(['a'], ['x'], 'all'), undefined);
    assert.throws(() => permutationCellMask(['a'], ['x'], [['a', 'nope']]), /model B has no compared layer 'nope'/);
  });

  for (const engineCase of SIMILARITY_ENGINES.slice(0, 2)) {
    describe(engineCase.name, () => {
      test('permuted cross products equal a float64 brute force, for all cells and a selection', async () => {
        const engine = await engineCase.engine();
        await testBackend();
        const random = seededRandom(11);
        const n = 12;
        const gramsA = [0, 1, 2].map((k) => centeredGram(toBatch(randomLayer(`a${k}`, n, 5 + k, random)), LINEAR, 'unbiased'));
        const gramsB = [0, 1].map((k) => centeredGram(toBatch(randomLayer(`b${k}`, n, 4 + k, random)), rbf(1), 'unbiased'));
        // More permutations than one relabelling's n − 1 shifts: two relabellings.
        const cyclic = batchPermutations(n, 15, 3, 0);
        assert.equal(cyclic.groups.length, 2);
        const perms = expandPermutations(cyclic);
        const kernels = engine?.permutationKernels ?? TFJS_PERMUTATION_KERNELS;
        const c = hsicNormalizer(n, 'unbiased');
        // By Fourier transform, and by rolled grams tiled 2 × 2 or (as above TILE_BOTH_UP_TO examples) along their columns only.
        const routes = [{ route: 'fourier' }, { route: 'rolled' }, { route: 'rolled', tileBothUpTo: 0 }] as const;
        for (const [selected, options] of routes.flatMap((options) => [[undefined, options], [Uint8Array.from([1, 0, 0, 1, 1, 1]), options]] as const)) {
          const out = await permutedCross(gramsA, gramsB, n, 'unbiased', cyclic, selected, kernels, options);
          for (let p = 0; p < 15; p++) {
            for (let i = 0; i < 3; i++) {
              for (let j = 0; j < 2; j++) {
                const got = out[p * 6 + i * 2 + j];
                if (selected && !selected[i * 2 + j]) {
                  assert.equal(got, 0);
                  continue;
                }
                const expected = bruteForce(gramsA[i], gramsB[j], n, perms.subarray(p * n, (p + 1) * n), c);
                const scale = Math.sqrt(bruteForce(gramsA[i], gramsA[i], n, Int32Array.from(Array(n).keys()), c) * bruteForce(gramsB[j], gramsB[j], n, Int32Array.from(Array(n).keys()), c));
                assert.ok(Math.abs(got - expected) <= 1e-5 * scale, `perm ${p} cell ${i},${j}: ${got} vs ${expected}`);
              }
            }
          }
        }
        await engine?.close();
      });

      test('an odd batch, and a model against itself: both routes equal the brute force', async () => {
        const engine = await engineCase.engine();
        await testBackend();
        const random = seededRandom(21);
        const n = 13;
        const grams = [0, 1, 2].map((k) => centeredGram(toBatch(randomLayer(`a${k}`, n, 3 + k, random)), LINEAR, 'biased'));
        const cyclic = batchPermutations(n, 7, 1, 4);
        const perms = expandPermutations(cyclic);
        const kernels = engine?.permutationKernels ?? TFJS_PERMUTATION_KERNELS;
        const c = hsicNormalizer(n, 'biased');
        const identity = Int32Array.from(Array(n).keys());
        for (const route of ['fourier', 'rolled'] as const) {
          const out = await permutedCross(grams, 'same', n, 'biased', cyclic, undefined, kernels, { route });
          for (let p = 0; p < 7; p++) {
            for (let i = 0; i < 3; i++) {
              for (let j = 0; j < 3; j++) {
                const expected = bruteForce(grams[i], grams[j], n, perms.subarray(p * n, (p + 1) * n), c);
                const scale = Math.sqrt(bruteForce(grams[i], grams[i], n, identity, c) * bruteForce(grams[j], grams[j], n, identity, c));
                assert.ok(Math.abs(out[p * 9 + i * 3 + j] - expected) <= 1e-5 * scale, `${route} perm ${p} cell ${i},${j}`);
              }
            }
          }
        }
        await engine?.close();
      });

      test('independent layers: p-values spread uniformly over (0, 1] (KS), calibrated CKA near 0; a shared signal: p at its floor', async () => {
        const engine = await engineCase.engine();
        const random = seededRandom(2026);
        const n = 64;
        const layers = 40;
        const a = Array.from({ length: layers }, (_, k) => randomLayer(`a${k}`, n, 16, random));
        const independent = Array.from({ length: layers }, (_, k) => randomLayer(`b${k}`, n, 16, random));
        const P = 99;
        const options = { kernel: LINEAR, estimator: 'minibatch' as const, batchSize: 32, engine, permutations: { permutations: P, seed: 5, cells: 'diagonal' as const } };
        const result = await ckaMatrix(a, independent, options);
        const significance = result.significance!;
        assert.equal(significance.permutations, P);
        const pValues = a.map((_, k) => significance.pValue[k][k]!);
        assert.ok(pValues.every((p) => p >= 1 / (P + 1) && p <= 1), 'p in [1/(P+1), 1]');
        const distance = ksUniform(pValues);
        assert.ok(distance < 1.36 / Math.sqrt(layers), `KS distance ${distance.toFixed(3)} (5% critical value ${(1.36 / Math.sqrt(layers)).toFixed(3)})`);
        assert.equal(significance.pValue[0][1], null, 'untested cells are null');
        const calibrated = a.map((_, k) => significance.calibrated[k][k]!);
        const meanCalibrated = calibrated.reduce((s, v) => s + v, 0) / layers;
        assert.ok(Math.abs(meanCalibrated) < 0.02, `mean calibrated CKA of independent layers ${meanCalibrated}`);

        const related = a.map((layer, k) => relatedLayer(layer, `b${k}`, 12, random));
        const shared = await ckaMatrix(a, related, options);
        for (let k = 0; k < layers; k++) {
          assert.equal(shared.significance!.pValue[k][k], 1 / (P + 1), `layer ${k}: p at its floor`);
          assert.ok(shared.significance!.calibrated[k][k]! > 0.5);
        }
        await engine?.close();
      });
    });
  }

  test('biased CKA of small batches of wide independent layers is inflated; the calibrated value is near 0', async () => {
    await testBackend();
    const random = seededRandom(9);
    const n = 40;
    const a = Array.from({ length: 6 }, (_, k) => randomLayer(`a${k}`, n, 300, random));
    const b = Array.from({ length: 6 }, (_, k) => randomLayer(`b${k}`, n, 300, random));
    const result = await ckaMatrix(a, b, { kernel: LINEAR, estimator: 'biased', permutations: { permutations: 200, seed: 1 } });
    const raw = result.matrix.flat() as number[];
    const calibrated = result.significance!.calibrated.flat() as number[];
    const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
    assert.ok(mean(raw) > 0.5, `biased CKA of independent wide layers is high (${mean(raw).toFixed(2)})`);
    assert.ok(Math.abs(mean(calibrated)) < 0.03, `calibrated ${mean(calibrated)}`);
    assert.ok(calibrated.every((v) => Math.abs(v) < 0.15));
  });
});

describe('cell details', () => {
  test("per-example shares sum to the cell's numerator (several passes, a partial batch) and the top/bottom lists to its value", async () => {
    await testBackend();
    const random = seededRandom(4);
    const n = 70;
    const a = [randomLayer('a0', n, 8, random), randomLayer('a1', n, 3, random)];
    const b = [relatedLayer(a[0], 'b0', 6, random), randomLayer('b1', n, 5, random)];
    const result = await ckaMatrix(a, b, { kernel: LINEAR, estimator: 'minibatch', batchSize: 32, passes: 3, seed: 2, details: { topExamples: n }, exampleIds: Array.from({ length: n }, (_, e) => `ex${e}`) });
    const details = result.details!;
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        const all = [...details.top![i][j]];
        assert.equal(all.length, n);
        const total = all.reduce((s, e) => s + e.share, 0);
        assert.ok(Math.abs(total - result.matrix[i][j]!) < 1e-6, `cell ${i},${j}: shares sum ${total} vs CKA ${result.matrix[i][j]}`);
        assert.ok(all.every((e, k) => k === 0 || all[k - 1].share >= e.share), 'top: largest first');
        assert.equal(all[0].id, `ex${all[0].example}`);
        assert.equal(details.bottom![i][j][0].share, all[n - 1].share, 'bottom: smallest first');
      }
    }
    assert.equal(details.perBatch[0][0].length, result.batches);
  });

  test('numerator shares from the collector equal the accumulator sums exactly (float32 storage)', async () => {
    await testBackend();
    const random = seededRandom(8);
    const n = 20;
    const a = [randomLayer('a', n, 4, random)];
    const b = [randomLayer('b', n, 3, random)];
    const accumulator = new MinibatchCkaAccumulator(['a'], ['b']);
    const collector = new CellDetailsCollector(1, 1, { examples: n });
    for (const [start, end] of [[0, 10], [10, 20]]) {
      const slice = (l: LayerActivations) => ({ rows: end - start, cols: l.shape[1], data: l.data.subarray(start * l.shape[1], end * l.shape[1]) });
      const hsic = await batchHsic([centeredGram(slice(a[0]), LINEAR, 'unbiased')], [centeredGram(slice(b[0]), LINEAR, 'unbiased')], end - start, 'unbiased');
      accumulator.add(hsic, 1);
      collector.add(hsic, 1, Uint32Array.from({ length: end - start }, (_, r) => start + r));
      const perBatch = collector.toJSON().perBatch.at(-1)![0]!;
      assert.ok(Math.abs(perBatch - hsic.cross[0] / Math.sqrt(hsic.selfA[0] * hsic.selfB[0])) < 1e-12, "each batch's own CKA");
    }
    const shares = collector.numeratorShares(0, 0)!;
    const total = shares.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(total - accumulator.sums().cross[0]) <= 1e-6 * Math.sqrt(accumulator.sums().selfA[0] * accumulator.sums().selfB[0]));
  });

  test('shares too many to keep are not kept, and the method says why', () => {
    const collector = new CellDetailsCollector(10, 10, { examples: 1000, maxShareValues: 50_000 });
    const result = collector.result({ cross: new Float64Array(100), selfA: new Float64Array(10).fill(1), selfB: new Float64Array(10).fill(1) });
    assert.equal(result.top, undefined);
    assert.match(result.contributionsMethod, /not kept: 1000 examples × 100 cells/);
  });
});

function toBatch(layer: LayerActivations) {
  return { rows: layer.shape[0], cols: layer.shape[1], data: layer.data };
}

test('per-batch values too many to keep are not kept: empty lists, and the method says why', () => {
  const collector = new CellDetailsCollector(2, 2, { examples: 10, batches: 100, maxPerBatchValues: 300 });
  const batch = { layersA: 2, layersB: 2, cross: new Float64Array(4).fill(1), selfA: new Float64Array(2).fill(1), selfB: new Float64Array(2).fill(1), rowCross: new Float32Array(40), cellFactor: new Float64Array(4) };
  collector.add(batch, 1, Uint32Array.from(Array(10).keys()));
  const result = collector.result({ cross: batch.cross, selfA: batch.selfA, selfB: batch.selfB });
  assert.deepEqual(result.perBatch, [[[], []], [[], []]]);
  assert.match(result.perBatchMethod!, /not kept: 100 batches × 4 cells/);
});
