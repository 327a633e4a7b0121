import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { seededRandom } from '../../src/engine/random.js';
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../src/engine/errors.js';
import {
  findMaximumMatch,
  findSimpleMatches,
  maximumMatch,
  neuronGeometry,
  subspaceMatch,
  type NeuronSets,
  type SubspaceMatchResult,
} from '../../src/engine/similarity/subspaceMatch.js';
import { testBackend } from '../helpers/backend.js';

before(async () => {
  await testBackend();
});

// ---------------------------------------------------------------------------------------------
// Building activations: a layer is a list of neuron vectors (columns) of equal length

type Vector = Float64Array;

function gaussianSource(seed: number): () => number {
  const random = seededRandom(seed);
  return () => {
    const u = 1 - random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

function randomVectors(count: number, rows: number, seed: number): Vector[] {
  const gaussian = gaussianSource(seed);
  return Array.from({ length: count }, () => Float64Array.from({ length: rows }, gaussian));
}

/** Σ coefficient·vector. */
function combine(terms: [number, Vector][]): Vector {
  const out = new Float64Array(terms[0][1].length);
  for (const [coefficient, vector] of terms) vector.forEach((value, i) => (out[i] += coefficient * value));
  return out;
}

/** A [rows, channels] layer whose channel j is columns[j]. */
function layer(columns: Vector[]): tf.Tensor2D {
  const rows = columns[0].length;
  const values = new Float32Array(rows * columns.length);
  columns.forEach((column, j) => column.forEach((value, i) => (values[i * columns.length + j] = value)));
  return tf.tensor2d(values, [rows, columns.length]);
}

const zeros = (rows: number): Vector => new Float64Array(rows);

async function withLayers<T>(a: Vector[], b: Vector[], run: (a: tf.Tensor2D, b: tf.Tensor2D) => Promise<T>): Promise<T> {
  const tensorA = layer(a);
  const tensorB = layer(b);
  try {
    return await run(tensorA, tensorB);
  } finally {
    tensorA.dispose();
    tensorB.dispose();
  }
}

function matchOf(result: NeuronSets): NeuronSets {
  return { a: result.a, b: result.b };
}

function assertNoNaN(result: SubspaceMatchResult): void {
  assert.ok(Number.isFinite(result.similarity));
  for (const d of [...result.distanceToOtherLayer.a, ...result.distanceToOtherLayer.b]) assert.ok(Number.isFinite(d));
}

const ROWS = 200;

// ---------------------------------------------------------------------------------------------

describe('maximum match (Algorithm 1)', () => {
  test('a planted shared plane: exactly the neurons spanning it match, s(ε) is their fraction', async () => {
    const [u1, u2, u3, n1, n2] = randomVectors(5, ROWS, 1);
    const [m1, m2, m3, e1, e2] = randomVectors(5, ROWS, 2);
    // B mixes the shared plane invertibly, with a little independent noise
    const a = [u1, u2, u3, n1, n2];
    const b = [combine([[1, u1], [2, u2], [0.01, e1]]), combine([[-3, u1], [0.5, u2], [0.01, e2]]), m1, m2, m3];
    const result = await withLayers(a, b, (x, y) => subspaceMatch(x, y, { epsilon: 0.1 }, { a: 'net1/conv3', b: 'net2/conv3' }));
    assert.deepEqual(matchOf(result), { a: [0, 1], b: [0, 1] });
    assert.equal(result.similarity, 4 / 10);
    assert.deepEqual(result.warnings, []);
    assert.equal(result.rowsUsed, ROWS);
    // the third shared direction u3 has no counterpart in B
    assert.ok(result.distanceToOtherLayer.a[2] > 0.5);
    assert.ok(result.distanceToOtherLayer.b[0] < 0.02);
  });

  test('identical layers match completely, even with ε = 0', async () => {
    const vectors = randomVectors(12, ROWS, 3);
    for (const epsilon of [0, 0.05]) {
      const result = await withLayers(vectors, vectors, (x, y) => maximumMatch(x, y, { epsilon }));
      assert.equal(result.similarity, 1, `ε = ${epsilon}`);
      assert.equal(result.a.length, 12);
    }
  });

  test('a channel is all N·H·W values of the last axis: channel order may differ, positions may not', async () => {
    const activations = tf.randomNormal([4, 5, 5, 3], 0, 1, 'float32', 11);
    const reversedAndScaled = tf.mul(tf.reverse(activations, -1), 3);
    const spatiallyTransposed = tf.transpose(activations, [0, 2, 1, 3]);
    try {
      const same = await maximumMatch(activations, reversedAndScaled, { epsilon: 0.01 });
      assert.equal(same.similarity, 1);
      assert.equal(same.rowsUsed, 4 * 5 * 5);
      const scrambled = await maximumMatch(activations, spatiallyTransposed, { epsilon: 0.1 });
      assert.equal(scrambled.similarity, 0);
    } finally {
      tf.dispose([activations, reversedAndScaled, spatiallyTransposed]);
    }
  });

  test('independent random layers have an empty match with small ε', async () => {
    const result = await withLayers(randomVectors(20, ROWS, 4), randomVectors(20, ROWS, 5), (x, y) => subspaceMatch(x, y, { epsilon: 0.1 }));
    assert.deepEqual(matchOf(result), { a: [], b: [] });
    assert.equal(result.similarity, 0);
    assert.deepEqual(result.simpleMatches, []);
    assert.deepEqual(result.perNeuron, []);
  });

  test('Y is checked even when a round removes no x (the step the paper’s pseudo-code skips)', async () => {
    // X = {e1}, Y = {e1, e2}: e1 lies in span(Y), so no x goes, but e2 is far from span(X)
    const e1 = Float64Array.of(1, 0, 0);
    const e2 = Float64Array.of(0, 1, 0);
    const exact = await withLayers([e1], [e1, e2], (x, y) => maximumMatch(x, y, { epsilon: 0.1 }));
    assert.deepEqual(matchOf(exact), { a: [0], b: [0] });
    assert.equal(exact.similarity, 2 / 3);
    // the same with generic vectors and an approximate copy
    const [u, w, noise] = randomVectors(3, ROWS, 6);
    const generic = await withLayers([u], [w, combine([[2, u], [0.02, noise]])], (x, y) => maximumMatch(x, y, { epsilon: 0.1 }));
    assert.deepEqual(matchOf(generic), { a: [0], b: [1] });
  });

  test('rank-deficient layers (dependent and duplicate neurons) are handled without blowing up', async () => {
    const [u1, u2, n, m] = randomVectors(4, ROWS, 7);
    const a = [u1, u2, combine([[1, u1], [1, u2]]), combine([[2, u1]]), n, u1];
    const b = [combine([[1, u1], [-1, u2]]), combine([[1, u1], [2, u2]]), m, combine([[1, u1], [-1, u2]])];
    const result = await withLayers(a, b, (x, y) => subspaceMatch(x, y, { epsilon: 0.05 }));
    assertNoNaN(result);
    assert.deepEqual(matchOf(result), { a: [0, 1, 2, 3, 5], b: [0, 1, 3] });
    assert.equal(result.similarity, 8 / 10);
    for (const match of result.simpleMatches) assert.ok(match.size >= 3, 'a neuron of a plane matches no single neuron of the other side');
  });

  test('dead neurons are left out with a warning and count as unmatched; no NaN anywhere', async () => {
    const vectors = randomVectors(4, ROWS, 8);
    const result = await withLayers([vectors[0], zeros(ROWS), vectors[1]], [vectors[1], vectors[0], zeros(ROWS)], (x, y) =>
      subspaceMatch(x, y, { epsilon: 0.1 }, { a: 'left', b: 'right' }),
    );
    assertNoNaN(result);
    assert.deepEqual(matchOf(result), { a: [0, 2], b: [0, 1] });
    assert.deepEqual(result.dead, { a: [1], b: [2] });
    assert.equal(result.similarity, 4 / 6);
    assert.equal(result.distanceToOtherLayer.a[1], 0);
    assert.equal(result.warnings.length, 2);
    assert.match(result.warnings[0], /'left'.*dead/);
    assert.match(result.warnings[1], /'right'.*dead/);

    const allDead = await withLayers([zeros(ROWS), zeros(ROWS)], [vectors[2]], (x, y) => subspaceMatch(x, y, { epsilon: 0.5 }));
    assertNoNaN(allDead);
    assert.equal(allDead.similarity, 0);
    assert.deepEqual(allDead.distanceToOtherLayer, { a: [0, 0], b: [1] });
  });

  test('too few rows for the channel count is warned about', async () => {
    const result = await withLayers(randomVectors(5, 4, 9), randomVectors(5, 4, 10), (x, y) => maximumMatch(x, y, { epsilon: 0.1 }));
    assert.equal(result.similarity, 1);
    assert.ok(result.warnings.some((w) => /fill the whole space/.test(w)));
  });
});

describe('row subsampling', () => {
  const FULL_ROWS = 6000;
  const [u1, u2, e1, ...noise] = randomVectors(8, FULL_ROWS, 12);
  const a = [noise[0], u1, u2, noise[1]];
  const b = [combine([[1, u1], [1, u2], [0.01, e1]]), noise[2], noise[3], combine([[1, u1], [-1, u2]]), noise[4]];

  test('a seeded subset of rows keeps a structure that survives sampling', async () => {
    const full = await withLayers(a, b, (x, y) => subspaceMatch(x, y, { epsilon: 0.1 }));
    const sampled = await withLayers(a, b, (x, y) => subspaceMatch(x, y, { epsilon: 0.1, maxRows: 300, seed: 5 }));
    assert.deepEqual(matchOf(full), { a: [1, 2], b: [0, 3] });
    assert.deepEqual(matchOf(sampled), matchOf(full));
    assert.deepEqual(sampled.simpleMatches.map((m) => matchOf(m)), full.simpleMatches.map((m) => matchOf(m)));
    assert.equal(full.rowsUsed, FULL_ROWS);
    assert.equal(sampled.rowsUsed, 300);
    assert.equal(sampled.rowsTotal, FULL_ROWS);
  });

  test('the same seed picks the same rows; another seed other rows', async () => {
    const run = (seed: number) => withLayers(a, b, (x, y) => maximumMatch(x, y, { epsilon: 0.1, maxRows: 300, seed }));
    const [first, again, other] = [await run(5), await run(5), await run(6)];
    assert.deepEqual(again.distanceToOtherLayer, first.distanceToOtherLayer);
    assert.notDeepEqual(other.distanceToOtherLayer, first.distanceToOtherLayer);
  });

  test('maxRows at or above the row count uses every row', async () => {
    const result = await withLayers(a, b, (x, y) => maximumMatch(x, y, { epsilon: 0.1, maxRows: FULL_ROWS }));
    assert.equal(result.rowsUsed, FULL_ROWS);
  });
});

describe('simple matches (Algorithm 2)', () => {
  test('two disjoint shared subspaces give two distinct simple matches of the right sizes', async () => {
    const [u1, u2, w, n] = randomVectors(4, ROWS, 13);
    const [m] = randomVectors(1, ROWS, 14);
    const a = [u1, u2, w, n];
    const b = [combine([[1, u1], [1, u2]]), combine([[1, u1], [-1, u2]]), combine([[2, w]]), m];
    const result = await withLayers(a, b, (x, y) => subspaceMatch(x, y, { epsilon: 0.1 }));
    assert.deepEqual(matchOf(result), { a: [0, 1, 2], b: [0, 1, 2] });
    assert.deepEqual(
      result.simpleMatches.map((s) => ({ a: s.a, b: s.b, size: s.size })),
      [
        { a: [2], b: [2], size: 2 },
        { a: [0, 1], b: [0, 1], size: 4 },
      ],
    );
    // every neuron of the maximum match reports the simple match it belongs to
    assert.equal(result.perNeuron.length, 6);
    for (const { neuron, simpleMatch } of result.perNeuron) {
      assert.ok(result.simpleMatches[simpleMatch][neuron.layer].includes(neuron.index));
      assert.ok(result.simpleMatches[simpleMatch].foundFrom.some((v) => v.layer === neuron.layer && v.index === neuron.index));
    }
  });

  test('seeded: the same seed gives the same simple matches; different seeds find different v-minimal matches', async () => {
    // A = {u1, u2, u1+u2}, B = {u1, u2}: the (u1+u2)-minimal match pairs it with u1 or with u2
    const [u1, u2] = randomVectors(2, ROWS, 15);
    const a = [u1, u2, combine([[1, u1], [1, u2]])];
    const b = [u1, u2];
    const run = (seed: number) => withLayers(a, b, (x, y) => subspaceMatch(x, y, { epsilon: 0.05, seed }));
    assert.deepEqual(await run(3), await run(3));
    const partners = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const result = await run(seed);
      const forSum = result.perNeuron.find((p) => p.neuron.layer === 'a' && p.neuron.index === 2)!;
      const match = result.simpleMatches[forSum.simpleMatch];
      assert.equal(match.size, 4);
      assert.deepEqual(match.b, [0, 1]);
      partners.add(match.a.join(','));
      // u1 and u2 still match alone
      assert.deepEqual(result.simpleMatches.slice(0, 2).map((s) => matchOf(s)), [
        { a: [0], b: [0] },
        { a: [1], b: [1] },
      ]);
    }
    assert.deepEqual([...partners].sort(), ['0,2', '1,2']);
  });

  test('every simple match is a match, and minimal for each neuron it was found from', async () => {
    // shared subspaces of dimension 1, 2 and 3 under random mixes, overlapping noise, extra neurons
    const shared = randomVectors(6, ROWS, 20);
    const noise = randomVectors(8, ROWS, 21);
    const gaussian = gaussianSource(22);
    const mix = (vectors: Vector[]) => combine(vectors.map((v) => [gaussian(), v] as [number, Vector]));
    const [s1, s2, s3, s4, s5, s6] = shared;
    const a = [s1, s2, s3, mix([s2, s3]), s4, s5, s6, noise[0], mix([s1, noise[1]])];
    const b = [mix([s1]), mix([s2, s3]), mix([s2, s3]), mix([s4, s5, s6]), mix([s4, s5, s6]), mix([s4, s5, s6]), noise[2], mix([s3, noise[3]])];
    const epsilon = 0.05;
    const geometry = await withLayers(a, b, (x, y) => neuronGeometry(x, y));
    const maximum = findMaximumMatch(geometry, epsilon);
    assert.deepEqual(maximum, { a: [0, 1, 2, 3, 4, 5, 6], b: [0, 1, 2, 3, 4, 5] });
    const { simpleMatches, perNeuron } = findSimpleMatches(geometry, epsilon, maximum, seededRandom(1));
    // the plane is spanned by any two of A's three neurons in it: several (a-side) minimal choices
    assert.deepEqual(matchOf(simpleMatches[0]), { a: [0], b: [0] });
    assert.deepEqual(matchOf(simpleMatches.at(-1)!), { a: [4, 5, 6], b: [3, 4, 5] });
    for (const plane of simpleMatches.slice(1, -1)) {
      assert.deepEqual(plane.b, [1, 2]);
      assert.equal(plane.a.length, 2);
      assert.ok(plane.a.every((i) => [1, 2, 3].includes(i)));
    }
    assert.equal(perNeuron.length, 13);
    for (const match of simpleMatches) {
      assert.deepEqual(findMaximumMatch(geometry, epsilon, match), matchOf(match), 'a simple match is a match');
      for (const v of match.foundFrom) {
        for (const side of ['a', 'b'] as const) {
          for (const index of match[side]) {
            if (side === v.layer && index === v.index) continue;
            const reduced = findMaximumMatch(geometry, epsilon, { ...matchOf(match), [side]: match[side].filter((i) => i !== index) });
            assert.ok(!reduced[v.layer].includes(v.index), `deleting ${side}${index} must lose ${v.layer}${v.index}`);
          }
        }
      }
    }
  });

  test('can be turned off, and is skipped with a warning past maxSimpleMatchNeurons', async () => {
    const vectors = randomVectors(6, ROWS, 16);
    const off = await withLayers(vectors, vectors, (x, y) => subspaceMatch(x, y, { epsilon: 0.1, simpleMatches: false }));
    assert.deepEqual(off.simpleMatches, []);
    assert.deepEqual(off.warnings, []);
    const capped = await withLayers(vectors, vectors, (x, y) => subspaceMatch(x, y, { epsilon: 0.1, maxSimpleMatchNeurons: 4 }));
    assert.deepEqual(capped.simpleMatches, []);
    assert.match(capped.warnings.join('\n'), /simple matches skipped/);
  });
});

describe('float64 NumPy reference (test/fixtures/subspace/make_reference.py)', () => {
  interface ReferenceCase {
    name: string;
    epsilon: number;
    a: { shape: [number, number]; values: number[] };
    b: { shape: [number, number]; values: number[] };
    expected: { a: number[]; b: number[]; similarity: number; distanceA: number[]; distanceB: number[]; simpleMatches?: NeuronSets[] };
  }
  const fixture = JSON.parse(readFileSync(new URL('../fixtures/subspace/reference.json', import.meta.url), 'utf8')) as { cases: ReferenceCase[] };

  for (const reference of fixture.cases) {
    test(`${reference.name}: maximum match, s(ε), distances${reference.expected.simpleMatches ? ' and simple matches' : ''} agree`, async () => {
      const a = tf.tensor2d(reference.a.values, reference.a.shape, 'float32');
      const b = tf.tensor2d(reference.b.values, reference.b.shape, 'float32');
      try {
        const result = await subspaceMatch(a, b, { epsilon: reference.epsilon });
        assert.deepEqual(matchOf(result), { a: reference.expected.a, b: reference.expected.b });
        assert.ok(Math.abs(result.similarity - reference.expected.similarity) < 1e-12);
        const distances = [...result.distanceToOtherLayer.a, ...result.distanceToOtherLayer.b];
        const expected = [...reference.expected.distanceA, ...reference.expected.distanceB];
        distances.forEach((d, i) => assert.ok(Math.abs(d - expected[i]) < 1e-4, `distance ${i}: ${d} vs float64 ${expected[i]}`));
        if (reference.expected.simpleMatches) {
          assert.deepEqual(result.simpleMatches.map((s) => matchOf(s)), reference.expected.simpleMatches);
        }
      } finally {
        tf.dispose([a, b]);
      }
    });
  }
});

describe('inputs', () => {
  const [u, w] = randomVectors(2, 10, 17);

  test('epsilon outside [0, 1) is an InputError', async () => {
    for (const epsilon of [-0.1, 1, 1.5, Number.NaN]) {
      await assert.rejects(
        withLayers([u], [w], (x, y) => subspaceMatch(x, y, { epsilon })),
        (error: unknown) => error instanceof InputError && error.input === 'epsilon',
        `ε = ${epsilon}`,
      );
    }
  });

  test('a different number of values per channel is an InputError naming both layers', async () => {
    const a = tf.zeros([10, 3]);
    const b = tf.zeros([12, 3]);
    const spatial = tf.zeros([10, 2, 2, 3]);
    try {
      for (const other of [b, spatial]) {
        await assert.rejects(maximumMatch(a, other, { epsilon: 0.1 }, { a: 'model1:fc1', b: 'model2:fc1' }), (error: unknown) => {
          assert.ok(error instanceof InputError);
          assert.match(error.message, /'model1:fc1'.*'model2:fc1'/);
          return true;
        });
      }
    } finally {
      tf.dispose([a, b, spatial]);
    }
  });

  test('non-finite activations, a rank-1 layer and bad maxRows are InputErrors', async () => {
    const bad = tf.tensor2d([1, Number.NaN, 2, 3], [2, 2]);
    const fine = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const flat = tf.tensor1d([1, 2]);
    try {
      await assert.rejects(maximumMatch(fine, bad, { epsilon: 0.1 }, { a: 'p', b: 'q' }), /layer 'q' channel 1 has NaN/);
      await assert.rejects(maximumMatch(flat, fine, { epsilon: 0.1 }, { a: 'p', b: 'q' }), InputError);
      await assert.rejects(maximumMatch(fine, fine, { epsilon: 0.1, maxRows: 0 }), (e: unknown) => e instanceof InputError && e.input === 'maxRows');
    } finally {
      tf.dispose([bad, fine, flat]);
    }
  });

  test('no tensors are left behind', async () => {
    const [x, y] = [layer(randomVectors(6, 50, 18)), layer(randomVectors(5, 50, 19))];
    await subspaceMatch(x, y, { epsilon: 0.3, maxRows: 40 });
    const before = tf.memory().numTensors;
    await subspaceMatch(x, y, { epsilon: 0.3, maxRows: 40 });
    const geometry = await neuronGeometry(x, y);
    findMaximumMatch(geometry, 0.3);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, y]);
  });
});
