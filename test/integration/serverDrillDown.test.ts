/**
 * A finished run's drill-down over stdio JSON-RPC: thumbnails of its evaluation examples (PNG
 * data URLs of the dataset's images) and a cell recomputed without some examples (the models
 * from the workspace cache, not retrained), on a tiny experiment over the embedded
 * Fashion-MNIST subset; activation files have no images; bad input is refused plainly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc';
import { encodeNpz } from '../../src/engine/io/npz.js';
import { seededRandom } from '../../src/engine/random.js';
import { Done, ExampleThumbnails, Failed, INPUT_ERROR_CODE, Log, RecomputeCell, Run, type RunSnapshot } from '../../src/protocol/index.js';
import { launchServer, type LaunchedServer } from '../../src/server/launcher.js';
import { FIXTURES } from '../helpers/fixtures.js';

const EXAMPLES = 40;
const ONNX = join(FIXTURES, 'onnx');
const ARRAY_ROWS = 32;

describe('compute server: drill-down of a finished run', { timeout: 300_000 }, () => {
  let work: string;
  let server: LaunchedServer;
  let runId: string;
  let snapshot: RunSnapshot;
  let inputsRunId: string;
  let inputsSnapshot: RunSnapshot;
  const logs: string[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'repsim-drill-'));
    const random = seededRandom(5);
    const layer = (name: string, width: number) => ({ name, array: { shape: [ARRAY_ROWS, width], data: Float32Array.from({ length: ARRAY_ROWS * width }, () => random() - 0.5) } });
    writeFileSync(join(work, 'x.npz'), encodeNpz([layer('h0', 6), layer('h1', 5)]));
    writeFileSync(join(work, 'y.npz'), encodeNpz([layer('h0', 4), layer('h1', 7)]));
    const file = join(work, 'drill.repsim.json');
    const tiny = (seed: number, epochs: number) => ({ architecture: 'plain-cnn-4-w0.5', seed, training: { epochs, batchSize: 100, augment: false } });
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        experiments: [
          {
            name: 'drill',
            data: { dataset: 'fashion-mnist-subset', evaluationExamples: EXAMPLES },
            models: {
              trained: tiny(0, 1),
              untrained: tiny(1, 0),
              x: { activations: './x.npz' },
              y: { activations: './y.npz' },
              torch: { onnx: join(ONNX, 'fmnist.onnx'), layout: 'NCHW', normalize: 'dataset' },
            },
            comparisons: [
              { name: 'nets', a: 'trained', b: 'untrained', layers: 'blocks', batchSize: 16, passes: 2, seed: 3, permutations: 0 },
              { name: 'arrays', a: 'x', b: 'y', batchSize: 8, seed: 1, permutations: 0 },
              { name: 'torch', a: 'torch', b: 'untrained', layers: 'blocks', batchSize: 16, permutations: 0 },
            ],
          },
          {
            // The user's own inputs: 64 RGB images 16×16, channels first.
            name: 'own-inputs',
            data: { inputs: join(ONNX, 'x.npy') },
            models: { a: { onnx: join(ONNX, 'a.onnx') }, b: { onnx: join(ONNX, 'b.onnx') } },
            comparisons: [{ name: 'a-vs-b', a: 'a', b: 'b', layers: 'blocks', batchSize: 32, permutations: 0 }],
          },
        ],
      }),
    );
    server = await launchServer({ backend: process.env.REPSIM_TEST_BACKEND as never, cacheDirectory: join(work, 'cache') });
    server.connection.onNotification(Log, ({ message, runId: id }) => id && logs.push(message));
    const ended = new Map<string, { ok: boolean; snapshot: RunSnapshot | null; error?: string }>();
    const bothEnded = new Promise<void>((resolve) => {
      const end = (id: string, outcome: { ok: boolean; snapshot: RunSnapshot | null; error?: string }) => {
        ended.set(id, outcome);
        if (ended.size === 2) resolve();
      };
      server.connection.onNotification(Done, (p) => end(p.runId, { ok: true, snapshot: p.snapshot }));
      server.connection.onNotification(Failed, (p) => end(p.runId, { ok: false, snapshot: p.snapshot, error: p.error }));
    });
    const { runs } = await server.connection.sendRequest(Run, { filePath: file, outDir: join(work, 'out') });
    await bothEnded;
    for (const run of runs) assert.ok(ended.get(run.runId)?.ok, ended.get(run.runId)?.error);
    [runId, inputsRunId] = runs.map((r) => r.runId);
    [snapshot, inputsSnapshot] = runs.map((r) => ended.get(r.runId)!.snapshot!);
  });

  after(async () => {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const refused = async (promise: Promise<unknown>, message: RegExp) => {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof ResponseError, String(error));
      assert.equal(error.code, INPUT_ERROR_CODE);
      assert.match(error.message, message);
      return true;
    });
  };

  test('thumbnails: the dataset images of the asked examples as PNG data URLs, enlarged to at least 64 px', async () => {
    const { thumbnails } = await server.connection.sendRequest(ExampleThumbnails, { runId, comparison: 'nets', examples: [3, 0] });
    assert.deepEqual(
      thumbnails.map((t) => t.example),
      [3, 0],
    );
    const decoded = thumbnails.map((t) => {
      assert.match(t.dataUrl, /^data:image\/png;base64,/);
      return PNG.sync.read(Buffer.from(t.dataUrl.slice('data:image/png;base64,'.length), 'base64'));
    });
    for (const png of decoded) {
      assert.equal(png.width, 84); // 28 px × 3
      assert.equal(png.height, 84);
    }
    // Nearest-neighbour: each 3×3 block is one grey pixel; the two images differ.
    const grey = (png: PNG, x: number, y: number) => png.data[(y * png.width + x) * 4];
    assert.equal(grey(decoded[0], 40, 40), grey(decoded[0], 41, 41));
    assert.equal(decoded[0].data[(40 * 84 + 40) * 4 + 1], grey(decoded[0], 40, 40), 'grey: R = G');
    assert.notDeepEqual(decoded[0].data, decoded[1].data);
  });

  test('thumbnails: an example out of range, an unknown comparison, activation files, an unknown run are refused', async () => {
    await refused(server.connection.sendRequest(ExampleThumbnails, { runId, comparison: 'nets', examples: [1, EXAMPLES] }), new RegExp(`example ${EXAMPLES} is out of range: comparison 'nets' has ${EXAMPLES} evaluation examples`));
    await refused(server.connection.sendRequest(ExampleThumbnails, { runId, comparison: 'nope', examples: [0] }), /no comparison named 'nope' \(it has: nets, arrays, torch\)/);
    await refused(server.connection.sendRequest(ExampleThumbnails, { runId, comparison: 'arrays', examples: [0] }), /compares activation files: it has no images/);
    await refused(server.connection.sendRequest(ExampleThumbnails, { runId: 'run-x-1', comparison: 'nets', examples: [0] }), /knows no run run-x-1/);
  });

  const cellOf = (of: RunSnapshot, comparison: string, i: number, j: number) => {
    const result = of.comparisons.find((c) => c.name === comparison)!;
    return { result, layerA: result.layersA[i], layerB: result.layersB[j], value: result.matrix[i][j] as number };
  };

  test('recompute, nothing excluded: the run’s cell; 5 excluded: a finite value over n − 5 examples', async () => {
    const nets = snapshot.comparisons.find((c) => c.name === 'nets')!;
    assert.equal(nets.examples, EXAMPLES);
    const i = nets.layersA.length - 1;
    const { layerA, layerB, value } = cellOf(snapshot, 'nets', i, 1);
    const same = await server.connection.sendRequest(RecomputeCell, { runId, comparison: 'nets', layerA, layerB, exclude: [] });
    assert.equal(same.examples, EXAMPLES);
    assert.ok(Math.abs(same.value! - value) < 1e-6, `${same.value} vs the run's ${value}`);
    assert.ok(Math.abs(same.stderr! - (nets.stderr[i][1] as number)) < 1e-6, 'stderr');
    const fewer = await server.connection.sendRequest(RecomputeCell, { runId, comparison: 'nets', layerA, layerB, exclude: [0, 7, 13, 21, 39] });
    assert.equal(fewer.examples, EXAMPLES - 5);
    assert.ok(Number.isFinite(fewer.value), String(fewer.value));
    assert.notEqual(fewer.value, value);
    assert.deepEqual([fewer.comparison, fewer.layerA, fewer.layerB, fewer.exclude], ['nets', layerA, layerB, [0, 7, 13, 21, 39]]);
    assert.ok(logs.some((m) => /reusing the trained .* from the cache/.test(m)), 'the trained model came from the cache');
    assert.ok(!logs.slice(logs.findIndex((m) => m.startsWith('recomputing'))).some((m) => /training plain/.test(m)), 'not retrained');
  });

  test('recompute of an activation-file comparison: its kept rows', async () => {
    const { layerA, layerB, value } = cellOf(snapshot, 'arrays', 1, 0);
    const same = await server.connection.sendRequest(RecomputeCell, { runId, comparison: 'arrays', layerA, layerB, exclude: [] });
    assert.ok(Math.abs(same.value! - value) < 1e-6, `${same.value} vs the run's ${value}`);
    const fewer = await server.connection.sendRequest(RecomputeCell, { runId, comparison: 'arrays', layerA, layerB, exclude: [1, 2, 3] });
    assert.equal(fewer.examples, ARRAY_ROWS - 3);
    assert.ok(Number.isFinite(fewer.value));
  });

  test('a recompute the client cancels settles (refused, or answered when it finished first); the next is answered', async () => {
    const { layerA, layerB, value } = cellOf(snapshot, 'nets', 0, 0);
    const source = new CancellationTokenSource();
    const cancelled = server.connection.sendRequest(RecomputeCell, { runId, comparison: 'nets', layerA, layerB, exclude: [] }, source.token);
    source.cancel();
    await cancelled.then(
      (answer) => assert.ok(Math.abs(answer.value! - value) < 1e-6),
      (error: Error) => assert.match(error.message, /cancel|abort/i),
    );
    const after = await server.connection.sendRequest(RecomputeCell, { runId, comparison: 'nets', layerA, layerB, exclude: [] });
    assert.ok(Math.abs(after.value! - value) < 1e-6);
  });

  test('an ONNX model: recomputed as the run compared it', async () => {
    const { layerA, layerB, value } = cellOf(snapshot, 'torch', 1, 1);
    const same = await server.connection.sendRequest(RecomputeCell, { runId, comparison: 'torch', layerA, layerB, exclude: [] });
    assert.ok(Math.abs(same.value! - value) < 1e-6, `${same.value} vs the run's ${value}`);
    const fewer = await server.connection.sendRequest(RecomputeCell, { runId, comparison: 'torch', layerA, layerB, exclude: [5, 6, 7, 8] });
    assert.equal(fewer.examples, EXAMPLES - 4); // 2 batches of 16 and one of 4
    assert.ok(Number.isFinite(fewer.value));
  });

  test('the user’s own inputs: thumbnails of the images (channels first), and a recomputed cell', async () => {
    const { thumbnails } = await server.connection.sendRequest(ExampleThumbnails, { runId: inputsRunId, comparison: 'a-vs-b', examples: [63] });
    const png = PNG.sync.read(Buffer.from(thumbnails[0].dataUrl.split(',')[1], 'base64'));
    assert.deepEqual([png.width, png.height], [64, 64]); // 16 px × 4
    const values = [...png.data].filter((_, k) => k % 4 !== 3);
    assert.equal(Math.min(...values), 0, 'min-max scaled');
    assert.equal(Math.max(...values), 255);
    await refused(server.connection.sendRequest(ExampleThumbnails, { runId: inputsRunId, comparison: 'a-vs-b', examples: [64] }), /example 64 is out of range/);
    const { layerA, layerB, value } = cellOf(inputsSnapshot, 'a-vs-b', 2, 2);
    const same = await server.connection.sendRequest(RecomputeCell, { runId: inputsRunId, comparison: 'a-vs-b', layerA, layerB, exclude: [] });
    assert.ok(Math.abs(same.value! - value) < 1e-6, `${same.value} vs the run's ${value}`);
    const fewer = await server.connection.sendRequest(RecomputeCell, { runId: inputsRunId, comparison: 'a-vs-b', layerA, layerB, exclude: [0, 1, 2, 3, 4] });
    assert.equal(fewer.examples, 59);
    assert.ok(Number.isFinite(fewer.value));
  });

  test('recompute: a bad layer name, an example out of range are refused', async () => {
    const { layerA, layerB } = cellOf(snapshot, 'nets', 0, 0);
    await refused(server.connection.sendRequest(RecomputeCell, { runId, comparison: 'nets', layerA: 'nope', layerB, exclude: [] }), /comparison 'nets' has no layer 'nope' of model 'trained' \(it has: /);
    await refused(server.connection.sendRequest(RecomputeCell, { runId, comparison: 'nets', layerA, layerB, exclude: [2, EXAMPLES + 1] }), new RegExp(`example ${EXAMPLES + 1} is out of range: there are ${EXAMPLES} evaluation examples`));
  });
});
