// Findings: Kornblith et al. (2019)'s layer identification, computed from a comparison's matrix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identifyLayers, runFinding, withFindings } from '../../src/protocol/findings.js';
import type { ComparisonResult } from '../../src/protocol/results.js';

const layers = ['stem/out', 'stage1/block1/out', 'stage2/block1/out'];

function comparison(name: string, a: string, b: string, matrix: (number | null)[][], layersB = layers): ComparisonResult {
  return {
    name,
    a,
    b,
    measure: 'cka',
    settings: { kernel: 'linear', estimator: 'minibatch', batchSize: 4, passes: 1, seed: 0 },
    layersA: layers,
    layersB,
    matrix,
    stderr: matrix.map((row) => row.map(() => null)),
    batches: 1,
    examples: 4,
    accuracy: { a: null, b: null },
    warnings: [],
  };
}

test('a layer passes when its counterpart is the most similar layer of B (ties count for it)', () => {
  const result = identifyLayers(layers, layers, [
    [0.99, 0.9, 0.8],
    [0.95, 0.95, 0.9], // a tie with the counterpart passes
    [0.7, 0.9, 0.6], // peaks on its neighbour
  ])!;
  assert.equal(result.matched, 2);
  assert.equal(result.total, 3);
  // B → A, by columns: stem's and stage1's columns peak on their counterparts; stage2's on stage1 (0.9 > 0.6).
  assert.deepEqual([result.matchedReverse, result.totalReverse], [2, 3]);
  assert.ok(Math.abs(result.meanCorresponding! - (0.99 + 0.95 + 0.6) / 3) < 1e-12);
  assert.deepEqual(
    result.layers.map((l) => [l.layer, l.mostSimilar, l.matched, l.cka, l.counterpartCka]),
    [
      ['stem/out', 'stem/out', true, 0.99, 0.99],
      ['stage1/block1/out', 'stage1/block1/out', true, 0.95, 0.95],
      ['stage2/block1/out', 'stage1/block1/out', false, 0.9, 0.6],
    ],
  );
});

test('undefined cells are skipped; a row without its counterpart does not count', () => {
  const result = identifyLayers(layers, layers, [
    [null, 0.5, 0.4],
    [0.2, 0.8, null],
    [null, null, null],
  ])!;
  assert.deepEqual([result.matched, result.total], [1, 1]);
  assert.deepEqual([result.matchedReverse, result.totalReverse], [1, 1]);
  assert.deepEqual(result.layers[0], { layer: 'stem/out', mostSimilar: 'stage1/block1/out', matched: false, cka: 0.5, counterpartCka: null });
  assert.equal(result.layers[2].mostSimilar, null);
});

test('only for the same layers on both sides, and never for a model compared with itself', () => {
  assert.equal(identifyLayers(layers, ['x', 'y', 'z'], [[1, 0, 0], [0, 1, 0], [0, 0, 1]]), undefined);
  assert.equal(identifyLayers(layers, layers.slice(0, 2), [[1, 0], [0, 1], [0, 0]]), undefined);
  const self = withFindings(comparison('self', 's0', 's0', [[1, 0.9, 0.8], [0.9, 1, 0.9], [0.8, 0.9, 1]]));
  assert.equal(self.layerIdentification, undefined);
  assert.equal(self.finding, undefined);
});

test('the comparison finding and the run finding are one line each, computed from the matrices', () => {
  const seeds = withFindings(comparison('seeds', 's0', 's1', [[0.99, 0.9, 0.8], [0.9, 0.97, 0.9], [0.8, 0.9, 0.95]]));
  const untrained = withFindings(comparison('untrained', 's0', 'u0', [[0.99, 0.99, 0.9], [0.93, 0.92, 0.8], [0.88, 0.85, 0.7]]));
  assert.equal(seeds.finding, '3 of 3 layers of s0 are most similar to their counterpart in s1 (s1→s0: 3 of 3); mean CKA of counterparts 0.97');
  assert.equal(untrained.layerIdentification!.matched, 1);
  assert.equal(untrained.finding, '1 of 3 layers of s0 are most similar to their counterpart in u0 (u0→s0: 1 of 3); mean CKA of counterparts 0.87');
  assert.equal(
    runFinding([seeds, untrained]),
    's0 vs s1: 3 of 3 layers most similar to their counterpart (mean CKA 0.97); s0 vs u0: 1 of 3 (mean CKA 0.87)',
  );
  // A stale identification is recomputed, not kept.
  const stale = withFindings({ ...seeds, matrix: untrained.matrix });
  assert.equal(stale.layerIdentification!.matched, 1);
  assert.equal(runFinding([comparison('other', 'a', 'b', [[1, 0, 0], [0, 1, 0], [0, 0, 1]], ['x', 'y', 'z'])]), undefined);
});
