import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ckaMatrix as ckaMatrixDefault, isCurrentAccumulatorState, LINEAR, rbf, MinibatchCkaAccumulator, WorkerPoolGramEngine, type KernelSpec, type LayerActivations } from '../../src/engine/similarity/index.js';
import { fullDataMemory } from '../../src/engine/similarity/fullDataMemory.js';
import { batchSchedule } from '../../src/engine/similarity/schedule.js';
import { seededRandom } from '../../src/engine/random.js';
import { gaussian } from '../helpers/random.js';
import { InputError } from '../../src/engine/errors.js';
import { testBackend } from '../helpers/backend.js';
import { SIMILARITY_ENGINES } from '../helpers/engines.js';
import type { CkaMatrixOptions } from '../../src/engine/similarity/ckaMatrix.js';
import type { GramEngine } from '../../src/engine/similarity/gramEngine.js';
import { assertMatrixClose, loadJson, loadLayers } from '../helpers/fixtures.js';

/** The accumulator tests run on the default engine. */
const ckaMatrix = ckaMatrixDefault;

interface MinibatchCase {
  matrix: number[][];
  stderr: number[][];
  batches: number;
  examples: number;
  batchSize?: number;
  passes?: number;
  seed?: number;
}

interface LayersReference {
  layers: {
    namesA: string[];
    namesB: string[];
    cases: Record<string, number[][] | MinibatchCase>;
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

    test(`${name} minibatch (batches of 64, file order): matrix and jackknife standard errors`, async () => {
      const expected = reference.cases[`${name}/minibatch64`] as MinibatchCase;
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
      assert.equal(result.examples, 320);
      assert.match(result.stderrMethod, /jackknife over 5 blocks of 64 consecutive examples/);
    });
  }

  for (const [name, detail] of [
    ['linear/minibatch64x3', '3 seeded reshuffles: each block collects its examples’ shares from every pass'],
    ['rbf:0.5/minibatch64x3', 'the same with the RBF kernel'],
    ['linear/minibatch96', '320 = 3 × 96 + 32: the partial batch of 32 is used with weight 1/3'],
    ['linear/minibatch96x2', 'the partial batch of each of 2 reshuffled passes'],
    ['linear/minibatch106', '320 = 3 × 106 + 2: the last 2 examples are left out, with a warning'],
    ['linear/minibatch106x2', 'each of 2 reshuffled passes leaves out 2'],
  ] as const) {
    test(`${name} (${detail}): matrix, standard errors and examples used`, async () => {
      const expected = reference.cases[name] as MinibatchCase;
      const kernel = name.startsWith('rbf') ? rbf(0.5) : LINEAR;
      const result = await ckaMatrix(layersA, layersB, { kernel, estimator: 'minibatch', batchSize: expected.batchSize, passes: expected.passes, seed: expected.seed });
      assert.equal(result.batches, expected.batches);
      assert.equal(result.examples, expected.examples);
      assertMatrixClose(result.matrix, expected.matrix, TOLERANCE, name);
      assertMatrixClose(result.stderr, expected.stderr, TOLERANCE, `${name} stderr`);
      const leftOut = result.warnings.filter((w) => /left over/.test(w));
      if (expected.batchSize === 106) {
        assert.equal(leftOut.length, 1, result.warnings.join('\n'));
        assert.match(leftOut[0], expected.passes === 1 ? /the last 2 examples were left out, 318 used/ : /each of the 2 passes left out 2 randomly chosen examples/);
      } else {
        assert.deepEqual(result.warnings, []);
      }
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

  test('the error bar reflects the examples, not the passes: 1, 10 and 40 passes over 1,024 rows (batches of 256) keep it', async () => {
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const bars: Record<number, number[]> = { 1: [], 10: [], 40: [] };
    for (const dataSeed of [1, 2, 3]) {
      const [x, y] = relatedLayers(1024, dataSeed);
      const one = await ckaMatrix([x], [y], { kernel: LINEAR, estimator: 'minibatch', batchSize: 256 });
      for (const passes of [1, 10, 40]) {
        const result = passes === 1 ? one : await ckaMatrix([x], [y], { kernel: LINEAR, estimator: 'minibatch', batchSize: 256, passes, seed: 0 });
        assert.equal(result.batches, 4 * passes);
        assert.ok(Math.abs(result.matrix[0][0]! - one.matrix[0][0]!) < 0.02, `CKA ${result.matrix[0][0]} vs ${one.matrix[0][0]}`);
        assert.match(result.stderrMethod, /jackknife over 4 blocks of 256 consecutive examples/);
        bars[passes].push(result.stderr[0][0]!);
      }
    }
    const [one, ten, forty] = [mean(bars[1]), mean(bars[10]), mean(bars[40])];
    // The spread of per-batch CKA shrank like 1/√passes: 40 passes gave about 0.16 of one pass's.
    for (const [label, ratio] of [['10 passes / 1', ten / one], ['40 passes / 1', forty / one], ['40 passes / 10', forty / ten]] as const) {
      assert.ok(ratio > 0.75 && ratio < 1.33, `${label}: ${ratio.toFixed(3)} (error bars ${JSON.stringify(bars)})`);
    }
  });

  test('leftover examples are used: 500 rows in batches of 256 are a batch of 256 and one of 244', async () => {
    const [x, y] = relatedLayers(500, 4);
    const result = await ckaMatrix([x], [y], { kernel: LINEAR, estimator: 'minibatch', batchSize: 256 });
    assert.equal(result.batches, 2);
    assert.equal(result.examples, 500);
    assert.deepEqual(result.warnings, []);
    assert.ok(result.stderr[0][0]! > 0, 'two blocks give an error bar');
    // The partial batch counts: the result is not the first batch's alone.
    const first = await ckaMatrix([cutRows(x, 256)], [cutRows(y, 256)], { kernel: LINEAR, estimator: 'minibatch', batchSize: 256 });
    assert.ok(Math.abs(result.matrix[0][0]! - first.matrix[0][0]!) > 1e-4);
    const weighted = await ckaMatrix([x], [y], { kernel: LINEAR, estimator: 'minibatch', batchSize: 256, passes: 3, seed: 2 });
    assert.equal(weighted.batches, 6);
    assert.equal(weighted.examples, 500);
  });

  test('fewer than 4 left over are left out, and the warning and `examples` say exactly how many', async () => {
    const [x, y] = relatedLayers(259, 5);
    const result = await ckaMatrix([x], [y], { kernel: LINEAR, estimator: 'minibatch', batchSize: 64 });
    assert.equal(result.batches, 4);
    assert.equal(result.examples, 256);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0], /259 examples are 4 batches of 64 and 3 left over.*the last 3 examples were left out, 256 used/);
    const shuffled = await ckaMatrix([x], [y], { kernel: LINEAR, estimator: 'minibatch', batchSize: 64, passes: 5, seed: 1 });
    assert.equal(shuffled.batches, 20);
    assert.match(shuffled.warnings[0], /each of the 5 passes left out 3 randomly chosen examples/);
    assert.equal(shuffled.examples, 259 - Number(/(\d+) were left out of every pass/.exec(shuffled.warnings[0])?.[1] ?? 0));
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
    for (const [h, { a, b }] of halves.entries()) {
      const shard = await accumulate(a, b, h * 160);
      merged.merge(MinibatchCkaAccumulator.fromJSON(JSON.parse(JSON.stringify(shard.toJSON()))));
    }
    const mergedResult = merged.result();
    assert.equal(mergedResult.batches, whole.batches);
    assertMatrixClose(mergedResult.matrix, whole.matrix as number[][], 1e-9, 'merged');
    assertMatrixClose(mergedResult.stderr, whole.stderr as number[][], 1e-9, 'merged stderr');
  });

  test('a state saved before the jackknife (no version) is not resumed: fromJSON says why, ckaMatrix starts again and says so', async () => {
    const names = { a: layersA.map((l) => l.name), b: layersB.map((l) => l.name) };
    const cells = names.a.length * names.b.length;
    const old = { layersA: names.a, layersB: names.b, batches: 2, crossSum: new Array(cells).fill(1), selfSumA: [1, 1, 1], selfSumB: [1, 1], batchCkaSum: new Array(cells).fill(1), batchCkaSumSq: new Array(cells).fill(1), batchCkaCount: new Array(cells).fill(2) };
    assert.equal(isCurrentAccumulatorState(old), false);
    assert.throws(() => MinibatchCkaAccumulator.fromJSON(old as never), /saved by an older version of RepSim.*start the comparison again/);
    const options = { kernel: LINEAR, estimator: 'minibatch' as const, batchSize: 64 };
    const fresh = await ckaMatrix(layersA, layersB, options);
    const resumed = await ckaMatrix(layersA, layersB, { ...options, resumeFrom: old as never });
    assert.equal(resumed.batches, 5);
    assertMatrixClose(resumed.matrix, fresh.matrix as number[][], 1e-12, 'started again');
    assert.ok(resumed.warnings.some((w) => /older version of RepSim: the comparison started again/.test(w)), resumed.warnings.join('\n'));
    assert.ok(isCurrentAccumulatorState(JSON.parse(JSON.stringify(new MinibatchCkaAccumulator(['x'], ['y']).toJSON()))));
  });

  test('the full-data memory count: stored grams plus at most about one more n × n per layer computing at once', () => {
    const n = 10_000;
    const n2bytes = n * n * 4;
    const shape = { examples: n, featuresA: [64, 64], featuresB: [32], kernel: LINEAR, centering: 'unbiased' as const };
    for (const engine of [{ kind: 'tfjs', backend: 'wasm', workers: 1 }, { kind: 'onnx' }] as const) {
      const memory = fullDataMemory(shape, engine);
      assert.equal(memory.storedBytes, 3 * n2bytes);
      assert.ok(memory.gramTemporaryBytes >= n2bytes && memory.gramTemporaryBytes < 2.1 * n2bytes, `${engine.kind}: ${memory.gramTemporaryBytes / n2bytes} n² per layer`);
      assert.equal(memory.bytes, memory.storedBytes + Math.max(memory.gramTemporaryBytes, memory.hsicTemporaryBytes));
    }
    // Worker threads each compute a layer at once; RBF adds the median's pairs (n²/2).
    const workers = fullDataMemory({ ...shape, kernel: rbf(1) }, { kind: 'tfjs', backend: 'wasm', workers: 2 });
    assert.ok(workers.gramTemporaryBytes >= 3 * n2bytes, `${workers.gramTemporaryBytes / n2bytes}`);
    assert.ok(workers.wasmBytes! < 1.1 * n2bytes, 'one wasm heap holds one layer at a time');
  });

  test('refuses to merge accumulators over different layers', () => {
    const a = new MinibatchCkaAccumulator(['x'], ['y']);
    const b = new MinibatchCkaAccumulator(['x'], ['z']);
    assert.throws(() => a.merge(b), /different layers/);
  });
});

/**
 * Accumulates every batch of a one-pass run (batches of 32) into a fresh accumulator, each row in
 * the jackknife block of its example in the whole set (`offset`: the shard's first example).
 */
async function accumulate(a: LayerActivations[], b: LayerActivations[], offset: number): Promise<MinibatchCkaAccumulator> {
  const { batchHsic } = await import('../../src/engine/similarity/batchHsic.js');
  const { InProcessGramEngine } = await import('../../src/engine/similarity/gramEngine.js');
  const { sliceBatch } = await import('../../src/engine/similarity/layers.js');
  const engine = new InProcessGramEngine();
  const acc = new MinibatchCkaAccumulator(a.map((l) => l.name), b.map((l) => l.name));
  for (const plan of batchSchedule({ examples: a[0].shape[0], batchSize: 32, passes: 1, seed: 0 })) {
    const ga = await engine.grams(a.map((l) => sliceBatch(l, plan.examples)), LINEAR, 'unbiased');
    const gb = await engine.grams(b.map((l) => sliceBatch(l, plan.examples)), LINEAR, 'unbiased');
    const { start } = plan.examples as { start: number };
    acc.add(await batchHsic(ga, gb, 32, 'unbiased', Int32Array.from({ length: 32 }, (_, r) => Math.floor((offset + start + r) / 32))));
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

  test('full-data CKA that does not fit fails at once, before allocating, with its size and a pointer to the minibatch estimator', async () => {
    const [x, y] = relatedLayers(10_000, 6);
    const started = performance.now();
    for (const estimator of ['biased', 'debiased'] as const) {
      await assert.rejects(
        ckaMatrix([x, x], [y, y], { kernel: LINEAR, estimator, memoryBudgetBytes: 1024 ** 3 }),
        (e: unknown) => e instanceof InputError && new RegExp(`^${estimator} CKA over 10000 examples needs about \\d\\.\\d GiB \\(4 stored 10000 × 10000 grams: 1\\.5 GiB; temporaries while computing them: 0\\.\\d GiB\\), more than the 1\\.0 GiB it may use \\(the memory budget\\): use --estimator minibatch`).test(e.message),
      );
    }
    assert.ok(performance.now() - started < 2000, 'refused before computing anything');
  });

  // Before: the cross products stacked and transposed every gram in the wasm heap (6 GB here): "memory access out of bounds".
  test('full-data debiased CKA of 5 layers against themselves over 10,000 examples runs (2 GB of grams, small temporaries)', { skip: engineCase.name.endsWith('in place') && 'the ONNX engine takes that path itself at this size' }, async () => {
    const layers = [4, 5, 6, 7, 8].map((seed) => relatedLayers(10_000, seed)[seed % 2]);
    const names = layers.map((l, i) => ({ ...l, name: `layer${i}` }));
    const result = await ckaMatrix(names, names, { kernel: LINEAR, estimator: 'debiased', memoryBudgetBytes: 3.5 * 1024 ** 3 });
    assert.equal(result.examples, 10_000);
    result.matrix.forEach((row, i) => assert.ok(Math.abs(row[i]! - 1) < 1e-5, `diagonal ${i}: ${row[i]}`));
    const minibatch = await ckaMatrix([names[0]], [names[1]], { kernel: LINEAR, estimator: 'minibatch', batchSize: 1000 });
    assert.ok(Math.abs(result.matrix[0][1]! - minibatch.matrix[0][0]!) < 0.02, `${result.matrix[0][1]} vs minibatch ${minibatch.matrix[0][0]}`);
    assert.equal(result.stderr[0][1], null);
    assert.match(result.stderrMethod, /^none/);
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

/** Two related layers over `rows` examples: a post-ReLU one (12 features) and a tanh one (10). */
function relatedLayers(rows: number, seed: number): [LayerActivations, LayerActivations] {
  const random = seededRandom(seed);
  const z = Float64Array.from({ length: rows * 4 }, () => gaussian(random));
  const wx = Array.from({ length: 4 * 12 }, () => gaussian(random));
  const wy = Array.from({ length: 2 * 10 }, () => gaussian(random));
  const x = new Float32Array(rows * 12);
  const y = new Float32Array(rows * 10);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < 12; j++) {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += z[r * 4 + k] * wx[k * 12 + j];
      x[r * 12 + j] = Math.max(sum + 1.5 * gaussian(random), 0);
    }
    for (let j = 0; j < 10; j++) {
      let sum = 0;
      for (let k = 0; k < 2; k++) sum += z[r * 4 + k] * wy[k * 10 + j];
      y[r * 10 + j] = Math.tanh(sum + gaussian(random));
    }
  }
  return [{ name: 'x', shape: [rows, 12], data: x }, { name: 'y', shape: [rows, 10], data: y }];
}

/** The first `rows` examples of a layer. */
function cutRows(layer: LayerActivations, rows: number): LayerActivations {
  const cols = layer.data.length / layer.shape[0];
  return { name: layer.name, shape: [rows, ...layer.shape.slice(1)], data: layer.data.slice(0, rows * cols) };
}

/** ckaMatrix on an engine (undefined: the in-process TensorFlow.js default). */
function ckaMatrixOn(engine: GramEngine | undefined, a: LayerActivations[], b: LayerActivations[], options: CkaMatrixOptions) {
  return ckaMatrixDefault(a, b, engine ? { ...options, engine } : options);
}
