import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ckaMatrix as ckaMatrixDefault, LINEAR, rbf, MinibatchCkaAccumulator, WorkerPoolGramEngine, type KernelSpec, type LayerActivations } from '../../src/engine/similarity/index.js';
import { batchSchedule } from '../../src/engine/similarity/schedule.js';
import { InputError } from '../../src/engine/errors.js';
import { testBackend } from '../helpers/backend.js';
import { SIMILARITY_ENGINES } from '../helpers/engines.js';
import type { CkaMatrixOptions } from '../../src/engine/similarity/ckaMatrix.js';
import type { GramEngine } from '../../src/engine/similarity/gramEngine.js';
import { assertMatrixClose, loadJson, loadLayers } from '../helpers/fixtures.js';

/** The accumulator tests run on the default engine. */
const ckaMatrix = ckaMatrixDefault;

interface LayersReference {
  layers: {
    namesA: string[];
    namesB: string[];
    cases: Record<string, number[][] | { matrix: number[][]; stderr: number[][]; batches: number }>;
  };
}

const TOLERANCE = 1e-4;
const reference = loadJson<LayersReference>('cka/reference.json').layers;
const KERNELS: [string, KernelSpec][] = [
  ['linear', LINEAR],
  ['rbf:0.5', rbf(0.5)],
  ['rbf:1.0', rbf(1.0)],
];

for (const engineCase of SIMILARITY_ENGINES) describe(`all-pairs CKA against the float64 NumPy reference (${engineCase.name})`, () => {
  let engine: GramEngine | undefined;
  const ckaMatrix = (a: LayerActivations[], b: LayerActivations[], options: CkaMatrixOptions) => ckaMatrixOn(engine, a, b, options);
  let layersA: LayerActivations[];
  let layersB: LayerActivations[];

  before(async () => {
    engine = await engineCase.engine();
    layersA = loadLayers('cka/model_a.npz');
    layersB = loadLayers('cka/model_b.npz');
  });

  test('layers come out in archive order with their names', () => {
    assert.deepEqual(layersA.map((l) => l.name), reference.namesA);
    assert.deepEqual(layersB.map((l) => l.name), reference.namesB);
  });

  for (const [name, kernel] of KERNELS) {
    for (const estimator of ['biased', 'debiased'] as const) {
      test(`${name} ${estimator}`, async () => {
        const result = await ckaMatrix(layersA, layersB, { kernel, estimator });
        assert.deepEqual(result.layersA, reference.namesA);
        assertMatrixClose(result.matrix, reference.cases[`${name}/${estimator}`] as number[][], TOLERANCE, `${name}/${estimator}`);
        assert.deepEqual(result.warnings, []);
      });
    }

    test(`${name} minibatch (batches of 64, file order): matrix and standard errors`, async () => {
      const expected = reference.cases[`${name}/minibatch64`] as { matrix: number[][]; stderr: number[][]; batches: number };
      const updates: number[] = [];
      const result = await ckaMatrix(layersA, layersB, {
        kernel,
        estimator: 'minibatch',
        batchSize: 64,
        onBatch: (u) => void updates.push(u.batchesDone),
      });
      assert.equal(result.batches, expected.batches);
      assert.deepEqual(updates, [1, 2, 3, 4, 5]);
      assertMatrixClose(result.matrix, expected.matrix, TOLERANCE, `${name}/minibatch`);
      assertMatrixClose(result.stderr, expected.stderr, TOLERANCE, `${name}/minibatch stderr`);
    });
  }

  test('minibatch CKA over one batch equals debiased CKA', async () => {
    const oneBatch = await ckaMatrix(layersA, layersB, { kernel: LINEAR, estimator: 'minibatch', batchSize: 320 });
    const debiased = await ckaMatrix(layersA, layersB, { kernel: LINEAR, estimator: 'debiased' });
    assert.equal(oneBatch.batches, 1);
    assertMatrixClose(oneBatch.matrix, debiased.matrix as number[][], 1e-6, 'one batch vs debiased');
    assert.ok(oneBatch.stderr.flat().every((v) => v === null), 'no standard error from a single batch');
  });

  test('self-comparison gives a diagonal of 1', async () => {
    const result = await ckaMatrix(layersA, layersA, { kernel: LINEAR, estimator: 'minibatch', batchSize: 64, passes: 3, seed: 1 });
    result.matrix.forEach((row, i) => assert.ok(Math.abs(row[i]! - 1) < 1e-6, `diagonal ${i}: ${row[i]}`));
    assert.ok(result.matrix.every((row, i) => row.every((v, j) => Math.abs(v! - result.matrix[j][i]!) < 1e-6)), 'symmetric');
  });

  test('several passes reshuffle per pass, reproducibly from the seed', async () => {
    const run = (seed: number) => ckaMatrix(layersA, layersB, { kernel: LINEAR, estimator: 'minibatch', batchSize: 64, passes: 3, seed });
    const [first, again, other] = await Promise.all([run(7), run(7), run(8)]);
    assert.equal(first.batches, 15);
    assert.deepEqual(first.matrix, again.matrix);
    assert.notDeepEqual(first.matrix, other.matrix);
    const plans = [...batchSchedule({ examples: 320, batchSize: 64, passes: 3, seed: 7 })];
    for (let pass = 0; pass < 3; pass++) {
      const seen = plans.filter((p) => p.pass === pass).flatMap((p) => Array.from(p.examples as Uint32Array));
      assert.equal(new Set(seen).size, 320, `pass ${pass} samples without replacement`);
    }
  });

  test('an interrupted run resumes from the accumulator state to the same result', async () => {
    const options = { kernel: LINEAR, estimator: 'minibatch' as const, batchSize: 32, passes: 2, seed: 4 };
    const whole = await ckaMatrix(layersA, layersB, options);
    const controller = new AbortController();
    let saved: unknown;
    await assert.rejects(
      ckaMatrix(layersA, layersB, {
        ...options,
        signal: controller.signal,
        onBatch: (u) => {
          saved = JSON.parse(JSON.stringify(u.state()));
          if (u.batchesDone === 7) controller.abort();
        },
      }),
      { name: 'AbortError' },
    );
    const resumed = await ckaMatrix(layersA, layersB, { ...options, resumeFrom: saved as never });
    assert.equal(resumed.batches, whole.batches);
    assertMatrixClose(resumed.matrix, whole.matrix as number[][], 1e-12, 'resumed');
    assertMatrixClose(resumed.stderr, whole.stderr as number[][], 1e-12, 'resumed stderr');
  });

  test('worker threads give the same result as the main thread', { skip: engineCase.name !== 'TensorFlow.js' && 'TensorFlow.js worker threads only' }, async () => {
    const backend = await testBackend();
    const pool = await WorkerPoolGramEngine.start(backend.name, 2);
    try {
      const threaded = await ckaMatrixOn(pool, layersA, layersB, { kernel: rbf(0.5), estimator: 'minibatch', batchSize: 64 });
      const single = await ckaMatrix(layersA, layersB, { kernel: rbf(0.5), estimator: 'minibatch', batchSize: 64 });
      assertMatrixClose(threaded.matrix, single.matrix as number[][], 1e-7, 'threaded');
    } finally {
      await pool.close();
    }
  });
});

describe('the minibatch accumulator', () => {
  let layersA: LayerActivations[];
  let layersB: LayerActivations[];
  before(async () => {
    await testBackend();
    layersA = loadLayers('cka/model_a.npz');
    layersB = loadLayers('cka/model_b.npz');
  });

  test('merging shards equals accumulating every batch in one', async () => {
    const halves = [0, 1].map((h) => {
      const cut = (l: LayerActivations): LayerActivations => {
        const cols = l.data.length / 320;
        return { name: l.name, shape: [160, ...l.shape.slice(1)], data: l.data.slice(h * 160 * cols, (h + 1) * 160 * cols) };
      };
      return { a: layersA.map(cut), b: layersB.map(cut) };
    });
    const accumulators = await Promise.all(
      halves.map(async ({ a, b }) => {
        const acc = new MinibatchCkaAccumulator(a.map((l) => l.name), b.map((l) => l.name));
        let last = 0;
        await ckaMatrix(a, b, {
          kernel: LINEAR,
          estimator: 'minibatch',
          batchSize: 32,
          onBatch: () => void last++,
        });
        // Rebuild the shard's accumulator through its serialised form, as a cache would.
        const result = await ckaMatrix(a, b, { kernel: LINEAR, estimator: 'minibatch', batchSize: 32 });
        assert.equal(result.batches, last);
        return { acc, result };
      }),
    );
    assert.equal(accumulators.length, 2);
    const whole = await ckaMatrix(layersA, layersB, { kernel: LINEAR, estimator: 'minibatch', batchSize: 32 });
    // Merge through the public API: run each shard into its own accumulator by capturing batches.
    const merged = new MinibatchCkaAccumulator(whole.layersA, whole.layersB);
    for (const { a, b } of halves) {
      const shard = await accumulate(a, b);
      merged.merge(MinibatchCkaAccumulator.fromJSON(JSON.parse(JSON.stringify(shard.toJSON()))));
    }
    const mergedResult = merged.result();
    assert.equal(mergedResult.batches, whole.batches);
    assertMatrixClose(mergedResult.matrix, whole.matrix as number[][], 1e-9, 'merged');
    assertMatrixClose(mergedResult.stderr, whole.stderr as number[][], 1e-9, 'merged stderr');
  });

  test('refuses to merge accumulators over different layers', () => {
    const a = new MinibatchCkaAccumulator(['x'], ['y']);
    const b = new MinibatchCkaAccumulator(['x'], ['z']);
    assert.throws(() => a.merge(b), /different layers/);
  });
});

/** Accumulates every batch of a minibatch run into a fresh accumulator via the batch callback. */
async function accumulate(a: LayerActivations[], b: LayerActivations[]): Promise<MinibatchCkaAccumulator> {
  const { batchHsic } = await import('../../src/engine/similarity/batchHsic.js');
  const { InProcessGramEngine } = await import('../../src/engine/similarity/gramEngine.js');
  const { sliceBatch } = await import('../../src/engine/similarity/layers.js');
  const engine = new InProcessGramEngine();
  const acc = new MinibatchCkaAccumulator(a.map((l) => l.name), b.map((l) => l.name));
  for (const plan of batchSchedule({ examples: a[0].shape[0], batchSize: 32, passes: 1, seed: 0 })) {
    const ga = await engine.grams(a.map((l) => sliceBatch(l, plan.examples)), LINEAR, 'unbiased');
    const gb = await engine.grams(b.map((l) => sliceBatch(l, plan.examples)), LINEAR, 'unbiased');
    acc.add(batchHsic(ga, gb, 32, 'unbiased'));
  }
  return acc;
}

for (const engineCase of SIMILARITY_ENGINES) describe(`all-pairs CKA on bad input (${engineCase.name})`, () => {
  let engine: GramEngine | undefined;
  const ckaMatrix = (a: LayerActivations[], b: LayerActivations[], options: CkaMatrixOptions) => ckaMatrixOn(engine, a, b, options);
  before(async () => {
    engine = await engineCase.engine();
  });
  const layer = (name: string, rows: number, cols: number, fill: (i: number) => number): LayerActivations => ({
    name,
    shape: [rows, cols],
    data: Float32Array.from({ length: rows * cols }, (_, i) => fill(i)),
  });

  test('a zero-variance layer gives null cells and a warning naming it, never NaN', async () => {
    const varied = layer('conv1', 64, 5, (i) => Math.sin(i * 1.7) + (i % 7));
    const dead = layer('relu_dead', 64, 4, () => 0);
    const constant = layer('bias_only', 64, 3, () => 0.1);
    for (const estimator of ['biased', 'debiased', 'minibatch'] as const) {
      for (const kernel of [LINEAR, rbf(1)]) {
        const result = await ckaMatrix([varied, dead], [constant, varied], { kernel, estimator, batchSize: 16 });
        assert.ok(result.matrix.flat().every((v) => v === null || Number.isFinite(v)), 'no NaN');
        assert.equal(result.matrix[0][0], null);
        assert.equal(result.matrix[1][1], null);
        assert.ok(Math.abs(result.matrix[0][1]! - 1) < 1e-5);
        assert.ok(result.warnings.some((w) => w.includes("'relu_dead'") && w.includes('zero variance')), result.warnings.join('\n'));
        assert.ok(result.warnings.some((w) => w.includes("'bias_only'")), result.warnings.join('\n'));
      }
    }
  });

  test('batches smaller than 4 are a clear error', async () => {
    const x = layer('x', 40, 3, (i) => Math.cos(i));
    await assert.rejects(ckaMatrix([x], [x], { kernel: LINEAR, estimator: 'minibatch', batchSize: 3 }), (e: unknown) => e instanceof InputError && /at least 4/.test(e.message));
    const tiny = layer('x', 3, 3, (i) => Math.cos(i));
    await assert.rejects(ckaMatrix([tiny], [tiny], { kernel: LINEAR, estimator: 'debiased' }), /at least 4/);
  });

  test('mismatched example counts name both layers', async () => {
    await assert.rejects(
      ckaMatrix([layer('a1', 40, 3, Math.cos)], [layer('b1', 41, 3, Math.sin)], { kernel: LINEAR, estimator: 'biased' }),
      /model B layer 'b1' has 41 examples but model A layer 'a1' has 40/,
    );
  });

  test('cancellation stops between batches', async () => {
    const x = layer('x', 64, 3, (i) => Math.cos(i * 0.3));
    const controller = new AbortController();
    let batches = 0;
    await assert.rejects(
      ckaMatrix([x], [x], {
        kernel: LINEAR,
        estimator: 'minibatch',
        batchSize: 8,
        signal: controller.signal,
        onBatch: () => {
          if (++batches === 2) controller.abort();
        },
      }),
      { name: 'AbortError' },
    );
    assert.equal(batches, 2);
  });
});

after(() => undefined);

/** ckaMatrix on an engine (undefined: the in-process TensorFlow.js default). */
function ckaMatrixOn(engine: GramEngine | undefined, a: LayerActivations[], b: LayerActivations[], options: CkaMatrixOptions) {
  return ckaMatrixDefault(a, b, engine ? { ...options, engine } : options);
}
