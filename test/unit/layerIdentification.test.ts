// Kornblith et al. (2019)'s layer-identification score, both ways, against the NumPy reference
// of test/fixtures/cka/make_layer_identification.py (argmax per row and per column, ties for the counterpart).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identifyLayers } from '../../src/protocol/findings.js';
import type { LayerIdentification, Matrix } from '../../src/protocol/results.js';
import { loadJson } from '../helpers/fixtures.js';

interface Case {
  readonly name: string;
  readonly layersA: string[];
  readonly layersB: string[];
  readonly matrix: Matrix;
  readonly expected: LayerIdentification | null;
}

const { cases } = loadJson<{ cases: Case[] }>('cka/layer_identification.json');

test('the reference covers scores both ways, ties, undefined cells and different layers', () => {
  assert.ok(cases.length >= 8);
  assert.ok(cases.some((c) => c.expected === null));
  assert.ok(cases.some((c) => c.expected !== null && c.expected.matched !== c.expected.matchedReverse), 'a case where the two directions differ');
  assert.ok(cases.some((c) => c.matrix.some((row) => row.includes(null))));
});

for (const reference of cases) {
  test(`identifyLayers equals the NumPy reference: ${reference.name}`, () => {
    const actual = identifyLayers(reference.layersA, reference.layersB, reference.matrix);
    const expected = reference.expected;
    if (expected === null) {
      assert.equal(actual, undefined);
      return;
    }
    assert.ok(actual);
    const { meanCorresponding, ...counts } = actual;
    const { meanCorresponding: expectedMean, ...expectedCounts } = expected;
    assert.deepEqual(counts, expectedCounts);
    if (expectedMean === null) assert.equal(meanCorresponding, null);
    else assert.ok(Math.abs(meanCorresponding! - expectedMean) < 1e-12, `mean ${meanCorresponding} vs ${expectedMean}`);
  });
}
