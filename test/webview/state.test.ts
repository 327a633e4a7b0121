/** The webview's pure parts, in Node: message reducer, views, saved state, colour scale, exports. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ComparisonResult, RunSnapshot, TrainingMetrics } from '../../src/protocol/results.js';
import type { HostMessage } from '../../src/protocol/webview.js';
import { ckaDomain, rgbHex, scaleRgb, scaleStep, VIRIDIS_LUT } from '../../webview/charts/colorScale.js';
import { exportFileName, matrixCsv } from '../../webview/export/exportData.js';
import { comparisonViews, diagonal, hasCorrespondingLayers, selectedView } from '../../webview/state/comparisons.js';
import { parsePanelState, ThrottledSaver, type PanelState } from '../../webview/state/persistence.js';
import { applyHostMessage, MAX_BATCH_POINTS } from '../../webview/state/runState.js';
import { isRunSnapshot } from '../../webview/state/validate.js';
import { loadMessages } from './harness.js';

const live = loadMessages('run-live.json');
const replay = (messages: readonly HostMessage[], start?: RunSnapshot) => messages.reduce<RunSnapshot | undefined>((run, m) => applyHostMessage(run, m), start);
const initial = (live[0] as Extract<HostMessage, { type: 'snapshot' }>).snapshot;
const runId = initial.runId;
const finalResult = (live.find((m) => m.type === 'comparison') as Extract<HostMessage, { type: 'comparison' }>).result;

describe('applyHostMessage', () => {
  test('replaying the live run ends done, with both comparisons, no partial and end-of-epoch training points', () => {
    const run = replay(live)!;
    assert.equal(run.status, 'done');
    assert.deepEqual(
      run.comparisons.map((c) => c.name),
      ['small-a-vs-small-b', 'small-a-vs-wide'],
    );
    assert.equal(run.partial, undefined);
    for (const model of ['small-a', 'small-b']) {
      assert.deepEqual(
        run.training[model].map((p) => [p.epoch, p.batch]),
        [
          [1, undefined],
          [2, undefined],
          [3, undefined],
        ],
      );
    }
  });

  test('ignores messages before a snapshot, for another run, or malformed; returns the same object', () => {
    assert.equal(applyHostMessage(undefined, { type: 'done', runId }), undefined);
    const run = replay(live.slice(0, 1))!;
    const ignored: unknown[] = [
      { type: 'done', runId: 'other' },
      { type: 'progress', runId, progress: { phase: 'train' } },
      { type: 'partial', runId, comparison: 'x', a: 'a', b: 'b', cka: { layersA: ['l'], layersB: ['l'], matrix: [[1, 2]], stderr: [[null]], batchesDone: 1, totalBatches: 2 } },
      { type: 'comparison', runId, result: { ...finalResult, matrix: finalResult.matrix.slice(1) } },
      { type: 'training', runId, metrics: { model: 'a', epoch: 1, loss: 'high', accuracy: 0.5 } },
      { type: 'snapshot', snapshot: { ...run, status: 'exploded' } },
    ];
    for (const message of ignored) assert.equal(applyHostMessage(run, message as HostMessage), run, JSON.stringify(message).slice(0, 80));
  });

  test('progress starts a queued run; done and failed clear the partial; cancelled is not a failure', () => {
    const queued: RunSnapshot = { ...initial, status: 'queued' };
    assert.equal(applyHostMessage(queued, { type: 'progress', runId, progress: { phase: 'data', label: 'reading', step: 1, total: 2 } })!.status, 'running');
    const partial = live.find((m) => m.type === 'partial')!;
    const filling = applyHostMessage(initial, partial)!;
    assert.equal(filling.partial?.cka.batchesDone, 1);
    assert.equal(applyHostMessage(filling, { type: 'done', runId })!.partial, undefined);
    const cancelled = applyHostMessage(filling, { type: 'failed', runId, error: 'cancelled', cancelled: true })!;
    assert.deepEqual([cancelled.status, cancelled.partial], ['cancelled', undefined]);
    assert.equal(applyHostMessage(filling, { type: 'failed', runId, error: 'boom', cancelled: false })!.status, 'failed');
  });

  test('a finished comparison replaces its partial and a repeat replaces the earlier result', () => {
    const partial = live.find((m) => m.type === 'partial')!;
    const run = replay([partial, { type: 'comparison', runId, result: finalResult }], initial)!;
    assert.equal(run.partial, undefined);
    const again = applyHostMessage(run, { type: 'comparison', runId, result: { ...finalResult, examples: 1 } })!;
    assert.deepEqual(
      again.comparisons.map((c) => c.examples),
      [1],
    );
  });

  test('training: per-batch points only for the running epoch, capped; an epoch end replaces them', () => {
    const point = (epoch: number, batch?: number): HostMessage => ({ type: 'training', runId, metrics: { model: 'm', epoch, batch, batches: batch === undefined ? undefined : 1000, loss: 1, accuracy: 0.5 } as TrainingMetrics });
    let run = replay([point(0.5, 4), point(1, 9), point(1), point(1.5, 4)], initial)!;
    assert.deepEqual(
      run.training.m.map((p) => p.epoch),
      [1, 1.5],
    );
    run = replay(
      Array.from({ length: MAX_BATCH_POINTS + 10 }, (_, k) => point(1 + (k + 1) / 1000, k)),
      run,
    )!;
    assert.equal(run.training.m.filter((p) => p.batch !== undefined).length, MAX_BATCH_POINTS);
    assert.equal(run.training.m[0].epoch, 1, 'the epoch end stays');
  });
});

describe('comparison views', () => {
  test('follow the comparison in progress unless one was picked; corresponding layers only for equal layer lists', () => {
    const partial = live.find((m) => m.type === 'partial')!;
    const withWide = applyHostMessage(initial, { type: 'comparison', runId, result: (live.filter((m) => m.type === 'comparison')[1] as Extract<HostMessage, { type: 'comparison' }>).result })!;
    const run = applyHostMessage(withWide, partial)!;
    const views = comparisonViews(run);
    assert.deepEqual(
      views.map((v) => [v.name, v.live !== undefined]),
      [
        ['small-a-vs-wide', false],
        ['small-a-vs-small-b', true],
      ],
    );
    assert.equal(selectedView(views, undefined)?.name, 'small-a-vs-small-b');
    assert.equal(selectedView(views, 'small-a-vs-wide')?.name, 'small-a-vs-wide');
    assert.equal(selectedView(views, 'gone')?.name, 'small-a-vs-small-b');
    assert.ok(hasCorrespondingLayers(views[1]));
    assert.ok(!hasCorrespondingLayers(views[0]));
    assert.deepEqual(comparisonViews(run), views, 'stable');
    assert.equal(comparisonViews(run)[0], views[0], 'same objects for unchanged comparisons');
    assert.deepEqual(diagonal({ matrix: [[1, 2], [3, null]], stderr: [[0.1, null], [null, null]] }), { values: [1, null], stderr: [0.1, null] });
  });
});

describe('saved state', () => {
  test('parsePanelState accepts what the panel saves and rejects anything else', () => {
    const snapshot = replay(live)!;
    const state: PanelState = { version: 1, snapshot, picked: 'small-a-vs-wide', scrollY: 120 };
    assert.deepEqual(parsePanelState(JSON.parse(JSON.stringify(state))), JSON.parse(JSON.stringify(state)));
    for (const bad of [undefined, null, 'x', { version: 2 }, { version: 1, snapshot: { runId: 1 } }, { version: 1, picked: 3 }]) assert.equal(parsePanelState(bad), undefined);
  });

  test('ThrottledSaver batches live updates and saves important ones at once', async () => {
    const saved: (string | undefined)[] = [];
    const saver = new ThrottledSaver((s) => saved.push(s.picked), 20);
    saver.schedule({ version: 1, picked: 'a' });
    saver.schedule({ version: 1, picked: 'b' });
    assert.deepEqual(saved, []);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.deepEqual(saved, ['b']);
    saver.schedule({ version: 1, picked: 'c' });
    saver.schedule({ version: 1, picked: 'd' }, true);
    assert.deepEqual(saved, ['b', 'd']);
    saver.flush();
    assert.deepEqual(saved, ['b', 'd']);
  });
});

describe('colour scale and exports', () => {
  test('viridis end points and middle, within two 8-bit steps of matplotlib', () => {
    const near = (actual: number[], hex: string) => {
      const expected = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
      assert.ok(actual.every((c, i) => Math.abs(c - expected[i]) <= 4), `${rgbHex(actual as [number, number, number])} vs ${hex}`);
    };
    near(scaleRgb(0, { min: 0, max: 1 }), '#440154');
    near(scaleRgb(0.5, { min: 0, max: 1 }), '#21918c');
    near(scaleRgb(1, { min: 0, max: 1 }), '#fde725');
    assert.equal(VIRIDIS_LUT.length, 256 * 3);
    assert.equal(scaleStep(-5, { min: 0, max: 1 }), 0);
    assert.equal(scaleStep(5, { min: 0, max: 1 }), 255);
  });

  test('the domain is [0, 1] unless an estimate strays outside', () => {
    assert.deepEqual(ckaDomain([[0.2, null], [0.9, 0.5]]), { min: 0, max: 1 });
    assert.deepEqual(ckaDomain([[-0.04, 1.02]]), { min: -0.04, max: 1.02 });
  });

  test('CSV: B across, A down, undefined cells empty, names quoted when needed; safe file names', () => {
    assert.equal(matrixCsv(['a,1', 'b'], ['x', 'y"z'], [[0.5, null], [1, 0]]), 'layer,x,"y""z"\n"a,1",0.5,\nb,1,0\n');
    assert.equal(exportFileName('my exp/1', 'a vs b', 'png'), 'my_exp_1-a_vs_b-cka.png');
    assert.equal(exportFileName('e', 'c', 'json'), 'e-c.json');
  });

  test('the done-run fixture is a valid snapshot', () => {
    const [message] = loadMessages('run-done-snapshot.json') as Extract<HostMessage, { type: 'snapshot' }>[];
    assert.ok(isRunSnapshot(message.snapshot));
    assert.ok((message.snapshot.comparisons as ComparisonResult[]).every((c) => c.matrix.length === c.layersA.length));
  });
});
