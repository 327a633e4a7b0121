/**
 * The compute server end to end over stdio JSON-RPC, on experiments of activation files (no
 * training, so they run in seconds): notification order, values against the engine, cancel,
 * kill and resume from the cache, invalid files, queueing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpz } from '../../src/engine/io/npz.js';
import { ckaMatrix, defaultGramEngine, LINEAR } from '../../src/engine/similarity/index.js';
import { seededRandom } from '../../src/engine/random.js';
import { ResponseError } from 'vscode-jsonrpc';
import { Cancel, ComparisonDone, Done, Failed, INPUT_ERROR_CODE, PartialResult, Progress, Run, RunStatusChanged, Validate, type RunSnapshot } from '../../src/protocol/index.js';
import { launchServer, type LaunchedServer } from '../../src/server/launcher.js';
import { testBackend } from '../helpers/backend.js';
import { assertMatrixClose } from '../helpers/fixtures.js';

const EXAMPLES = 4096;
let work: string;

function gaussianLayers(seed: number, widths: number[], shared?: Float32Array[]): { name: string; shape: number[]; data: Float32Array }[] {
  const random = seededRandom(seed);
  return widths.map((width, i) => {
    const data = Float32Array.from({ length: EXAMPLES * width }, (_, k) => (shared ? shared[i][k] * 0.7 : 0) + (random() - 0.5));
    return { name: `layer${i}`, shape: [EXAMPLES, width], data };
  });
}

function writeExperiment(name: string, body: object): string {
  const path = join(work, `${name}.repsim.json`);
  writeFileSync(path, `// test experiment\n${JSON.stringify({ version: 1, experiments: [{ name, ...body }] }, null, 1)}\n`);
  return path;
}

interface Recorded {
  readonly events: string[];
  readonly partialBatches: number[];
  done: Promise<{ ok: boolean; snapshot: RunSnapshot | null; error?: string; cancelled?: boolean }>;
}

function record(server: LaunchedServer, runId: () => string | undefined, onPartial?: (batchesDone: number) => void): Recorded {
  const recorded: Recorded = { events: [], partialBatches: [], done: Promise.resolve({ ok: false, snapshot: null }) };
  const c = server.connection;
  recorded.done = new Promise((resolve) => {
    c.onNotification(Progress, (p) => p.runId === runId() && recorded.events.push(`progress:${p.progress.phase}`));
    c.onNotification(PartialResult, (p) => {
      if (p.runId !== runId()) return;
      recorded.events.push('partial');
      recorded.partialBatches.push(p.cka.batchesDone);
      onPartial?.(p.cka.batchesDone);
    });
    c.onNotification(ComparisonDone, (p) => p.runId === runId() && recorded.events.push(`comparison:${p.result.name}`));
    c.onNotification(Done, (p) => {
      if (p.runId !== runId()) return;
      recorded.events.push('done');
      resolve({ ok: true, snapshot: p.snapshot });
    });
    c.onNotification(Failed, (p) => {
      if (p.runId !== runId()) return;
      recorded.events.push('failed');
      resolve({ ok: false, snapshot: p.snapshot, error: p.error, cancelled: p.cancelled });
    });
  });
  return recorded;
}

function collapse(events: string[]): string[] {
  return events.filter((e, i) => e !== events[i - 1]);
}

describe('compute server runs', () => {
  let pathA: string;
  let pathB: string;

  before(async () => {
    await testBackend();
    work = mkdtempSync(join(tmpdir(), 'repsim-server-'));
    const a = gaussianLayers(1, [8, 16, 32]);
    const b = gaussianLayers(2, [8, 16, 32], a.map((l) => l.data));
    pathA = join(work, 'a.npz');
    pathB = join(work, 'b.npz');
    writeFileSync(pathA, encodeNpz(a.map(({ name, shape, data }) => ({ name, array: { shape, data } }))));
    writeFileSync(pathB, encodeNpz(b.map(({ name, shape, data }) => ({ name, array: { shape, data } }))));
  });

  after(() => undefined);

  const spec = (batchSize: number, passes = 1) => ({
    models: { a: { activations: './a.npz' }, b: { activations: './b.npz' } },
    comparisons: [{ name: 'a-vs-b', a: 'a', b: 'b', batchSize, passes, seed: 3 }],
  });

  test('progress, partial results after every batch, then done; values equal the engine’s', async () => {
    const server = await launchServer({ backend: process.env.REPSIM_TEST_BACKEND as never });
    try {
      let runId: string | undefined;
      const recorded = record(server, () => runId);
      const file = writeExperiment('order', spec(512, 2));
      const { runs } = await server.connection.sendRequest(Run, { filePath: file });
      runId = runs[0].runId;
      const outcome = await recorded.done;
      assert.ok(outcome.ok, outcome.error);
      const expected = [...Array.from({ length: 16 }, () => ['progress:compare', 'partial']).flat(), 'comparison:a-vs-b', 'done'];
      assert.deepEqual(collapse(recorded.events), expected);
      assert.deepEqual(recorded.partialBatches, Array.from({ length: 16 }, (_, i) => i + 1));
      const result = outcome.snapshot!.comparisons[0];
      const { readActivationFile } = await import('../../src/engine/io/files.js');
      const load = async (p: string) => (await readActivationFile(p)).map(({ name, array }) => ({ name, shape: array.shape, data: array.data as Float32Array }));
      // The engine the server uses (ONNX Runtime where it runs), in this process.
      const direct = await ckaMatrix(await load(pathA), await load(pathB), { kernel: LINEAR, estimator: 'minibatch', batchSize: 512, passes: 2, seed: 3, engine: defaultGramEngine() });
      assertMatrixClose(result.matrix, direct.matrix as number[][], 1e-9, 'server vs engine');
      assertMatrixClose(result.stderr, direct.stderr as number[][], 1e-9, 'stderr');
      const out = join(work, 'repsim-results', 'order');
      for (const f of ['results.json', 'a-vs-b.json', 'a-vs-b.csv', 'a-vs-b.stderr.csv', 'a-vs-b.png', 'a-vs-b.svg', 'a-vs-b.layers.svg', 'a-vs-b.layers.png', 'report.html']) assert.ok(existsSync(join(out, f)), f);
      assert.ok(!existsSync(join(out, 'a-vs-b.partial.json')), 'the partial file is replaced by the result');
      const saved = JSON.parse(readFileSync(join(out, 'a-vs-b.json'), 'utf8'));
      assert.deepEqual(saved.layersA, ['layer0', 'layer1', 'layer2']);
      assert.deepEqual(saved.matrix, result.matrix);
      assert.ok(existsSync(join(work, '.repsim', '.gitignore')), 'the cache ignores itself in git');
      // Same layer names on both sides: Kornblith et al.'s layer identification, from the matrix.
      const rowPeaks = result.matrix.filter((row, i) => row.every((v) => v! <= row[i]!)).length;
      const columnPeaks = result.matrix.filter((_, j) => result.matrix.every((row) => row[j]! <= result.matrix[j][j]!)).length;
      assert.deepEqual([saved.layerIdentification.matched, saved.layerIdentification.total], [rowPeaks, 3]);
      assert.deepEqual([saved.layerIdentification.matchedReverse, saved.layerIdentification.totalReverse], [columnPeaks, 3]);
      assert.equal(saved.finding, `${rowPeaks} of 3 layers of a are most similar to their counterpart in b (b→a: ${columnPeaks} of 3); mean CKA of counterparts ${((result.matrix[0][0]! + result.matrix[1][1]! + result.matrix[2][2]!) / 3).toFixed(2)}`);
      const run = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      assert.match(run.finding, new RegExp(`^a vs b: ${rowPeaks} of 3 layers most similar to their counterpart \\(mean CKA 0\\.\\d\\d\\)$`));
      assert.equal(run.output, out);
    } finally {
      await server.stop();
    }
  });

  test('cancel takes effect within a batch and keeps what was finished', async () => {
    const server = await launchServer({ backend: process.env.REPSIM_TEST_BACKEND as never });
    try {
      let runId: string | undefined;
      const recorded = record(server, () => runId, (batchesDone) => {
        if (batchesDone === 3) void server.connection.sendRequest(Cancel, { runId: runId! });
      });
      const file = writeExperiment('cancel', spec(16, 3));
      runId = (await server.connection.sendRequest(Run, { filePath: file })).runs[0].runId;
      const outcome = await recorded.done;
      assert.equal(outcome.cancelled, true);
      assert.ok(recorded.partialBatches.length >= 3 && recorded.partialBatches.length <= 5, `stopped at ${recorded.partialBatches.length} batches`);
      assert.equal(outcome.snapshot!.status, 'cancelled');
      const partial = JSON.parse(readFileSync(join(work, 'repsim-results', 'cancel', 'a-vs-b.partial.json'), 'utf8'));
      assert.ok(partial.batchesDone >= 3, 'the partial result on disk survives the cancel');
    } finally {
      await server.stop();
    }
  });

  test('a killed server loses at most the batch in flight; a rerun resumes from the cache', async () => {
    const file = writeExperiment('resume', spec(16, 2));
    const first = await launchServer({ backend: process.env.REPSIM_TEST_BACKEND as never });
    let killedAt = 0;
    const killed = new Promise<void>((resolve) => {
      first.connection.onNotification(PartialResult, (p) => {
        if (p.cka.batchesDone === 40 && !killedAt) {
          killedAt = p.cka.batchesDone;
          first.process.kill('SIGKILL');
          resolve();
        }
      });
    });
    await first.connection.sendRequest(Run, { filePath: file });
    await killed;
    await first.exited;

    const second = await launchServer({ backend: process.env.REPSIM_TEST_BACKEND as never });
    try {
      let runId: string | undefined;
      const recorded = record(second, () => runId);
      runId = (await second.connection.sendRequest(Run, { filePath: file })).runs[0].runId;
      const outcome = await recorded.done;
      assert.ok(outcome.ok, outcome.error);
      assert.ok(recorded.partialBatches[0] >= killedAt && recorded.partialBatches[0] <= killedAt + 2, `resumed at batch ${recorded.partialBatches[0]} after a kill at ${killedAt}`);
      const { readActivationFile } = await import('../../src/engine/io/files.js');
      const load = async (p: string) => (await readActivationFile(p)).map(({ name, array }) => ({ name, shape: array.shape, data: array.data as Float32Array }));
      const direct = await ckaMatrix(await load(pathA), await load(pathB), { kernel: LINEAR, estimator: 'minibatch', batchSize: 16, passes: 2, seed: 3, engine: defaultGramEngine() });
      assertMatrixClose(outcome.snapshot!.comparisons[0].matrix, direct.matrix as number[][], 1e-9, 'resumed vs uninterrupted');
    } finally {
      await second.stop();
    }
  });

  test('invalid experiment files give errors with JSON paths; a bad run request is refused', async () => {
    const server = await launchServer({ backend: process.env.REPSIM_TEST_BACKEND as never });
    try {
      const text = JSON.stringify({ experiments: [{ name: 'x', models: { a: { activations: './missing.npz' } }, comparisons: [{ a: 'a', b: 'nope', kernel: 'cos' }] }] });
      const { issues } = await server.connection.sendRequest(Validate, { text, filePath: join(work, 'x.repsim.json') });
      assert.deepEqual(issues.map((i) => i.message), ['experiments[0].comparisons[0].kernel: expected one of "linear", "rbf"']);
      const semantic = await server.connection.sendRequest(Validate, { text: text.replace('"cos"', '"linear"'), filePath: join(work, 'x.repsim.json') });
      assert.deepEqual(semantic.issues.map((i) => i.path), ['experiments[0].models.a.activations', 'experiments[0].comparisons[0].b']);
      assert.match(semantic.issues[0].message, /no such file: .*missing\.npz/);
      assert.match(semantic.issues[1].message, /unknown model 'nope': expected one of 'a'/);
      const bad = join(work, 'bad.repsim.json');
      writeFileSync(bad, text);
      // Refused with the message alone, not "Request repsim/run failed with message: …".
      await assert.rejects(server.connection.sendRequest(Run, { filePath: bad }), (error: unknown) => {
        assert.ok(error instanceof ResponseError, String(error));
        assert.equal(error.code, INPUT_ERROR_CODE);
        assert.match(error.message, new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*kernel: expected one of`));
        return true;
      });
      await assert.rejects(server.connection.sendRequest(Run, { filePath: join(work, 'nope.repsim.json') }), (error: unknown) => {
        assert.equal((error as ResponseError<unknown>).code, INPUT_ERROR_CODE);
        assert.equal((error as Error).message, `${join(work, 'nope.repsim.json')}: no such file`);
        return true;
      });
    } finally {
      await server.stop();
    }
  });

  test('a run that fails before any result writes no results folder; one that fails later keeps what finished', async () => {
    const server = await launchServer({ backend: process.env.REPSIM_TEST_BACKEND as never });
    try {
      const failing = { name: 'no-layer', a: 'a', b: 'b', layers: { pattern: 'nothing*' }, batchSize: 256 };
      let runId: string | undefined;
      let recorded = record(server, () => runId);
      runId = (await server.connection.sendRequest(Run, { filePath: writeExperiment('early', { ...spec(256), comparisons: [failing] }) })).runs[0].runId;
      let outcome = await recorded.done;
      assert.equal(outcome.ok, false);
      assert.match(outcome.error!, /no array matches the pattern 'nothing\*'/);
      assert.equal(outcome.snapshot!.output, undefined);
      assert.ok(!existsSync(join(work, 'repsim-results', 'early')), 'no results folder for a run that produced nothing');

      recorded = record(server, () => runId);
      runId = (await server.connection.sendRequest(Run, { filePath: writeExperiment('late', { ...spec(256), comparisons: [...spec(256).comparisons, failing] }) })).runs[0].runId;
      outcome = await recorded.done;
      assert.equal(outcome.ok, false);
      const out = join(work, 'repsim-results', 'late');
      assert.equal(outcome.snapshot!.output, out);
      const saved = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      assert.equal(saved.status, 'failed');
      assert.deepEqual(saved.comparisons.map((c: { name: string }) => c.name), ['a-vs-b']);
      assert.ok(existsSync(join(out, 'report.html')));
    } finally {
      await server.stop();
    }
  });

  test('two runs queue: the second starts when the first has finished', async () => {
    const server = await launchServer({ backend: process.env.REPSIM_TEST_BACKEND as never });
    try {
      const statuses: string[] = [];
      server.connection.onNotification(RunStatusChanged, (info) => statuses.push(`${info.experiment}:${info.status}`));
      const doneIds: string[] = [];
      const bothDone = new Promise<void>((resolve) => server.connection.onNotification(Done, (p) => (doneIds.push(p.runId), doneIds.length === 2 && resolve())));
      const first = (await server.connection.sendRequest(Run, { filePath: writeExperiment('first', spec(256)) })).runs[0];
      const second = (await server.connection.sendRequest(Run, { filePath: writeExperiment('second', spec(256)) })).runs[0];
      await bothDone;
      assert.deepEqual(doneIds, [first.runId, second.runId]);
      assert.deepEqual(statuses, ['first:queued', 'first:running', 'second:queued', 'first:done', 'second:running', 'second:done']);
      assert.ok(readdirSync(join(work, 'repsim-results')).includes('second'));
    } finally {
      await server.stop();
    }
  });
});
