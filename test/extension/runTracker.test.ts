import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunInfo, RunSnapshot } from '../../src/protocol/index.js';
import type { HostMessage } from '../../src/protocol/webview.js';
import { formatEta, progressMessage, progressPercent, progressSummary } from '../../src/extension/runs/progressText.js';
import { placeholderSnapshot, RunTracker, type RunEnd } from '../../src/extension/runs/runTracker.js';

const info = (runId: string, status: RunInfo['status'], extra: Partial<RunInfo> = {}): RunInfo => ({ runId, experiment: `exp-${runId}`, filePath: '/w/a.repsim.json', status, ...extra });
const snapshot = (runId: string, status: RunSnapshot['status']): RunSnapshot => ({ runId, experiment: `exp-${runId}`, status, models: [], training: {}, comparisons: [] });

function record(tracker: RunTracker) {
  const messages: HostMessage[] = [];
  const ends: RunEnd[] = [];
  tracker.onHostMessage(({ message }) => messages.push(message));
  tracker.onDidEnd((end) => ends.push(end));
  return { messages, ends };
}

test('a run from queued to done: status, progress, host messages, one end', async () => {
  const tracker = new RunTracker(() => 1000);
  const { messages, ends } = record(tracker);
  tracker.register([info('r1', 'queued')]);
  assert.equal(tracker.current()?.info.runId, 'r1');
  tracker.status(info('r1', 'running', { filePath: '' }));
  assert.equal(tracker.get('r1')?.info.filePath, '/w/a.repsim.json', 'keeps the path the Run answer gave');
  const progress = { phase: 'train', label: 'training a', step: 3, total: 10, etaSeconds: 70 } as const;
  tracker.progress('r1', progress);
  assert.deepEqual(tracker.get('r1')?.progress, progress);
  tracker.comparison('r1', { name: 'a-vs-b' } as never);
  const ended = tracker.whenEnded('r1');
  tracker.done('r1', snapshot('r1', 'done'));
  tracker.status(info('r1', 'done'));
  assert.deepEqual(await ended, { runId: 'r1', status: 'done', error: undefined });
  assert.deepEqual(ends.map((e) => e.status), ['done']);
  assert.deepEqual(messages.map((m) => m.type), ['progress', 'comparison', 'done']);
  assert.equal(tracker.active().length, 0);
  assert.equal(tracker.get('r1')?.snapshot?.status, 'done');
  assert.deepEqual(await tracker.whenEnded('r1'), { runId: 'r1', status: 'done', error: undefined });
});

test('notifications that overtake the Run answer are not undone by it', () => {
  const tracker = new RunTracker();
  tracker.status(info('r1', 'queued', { filePath: '' }));
  tracker.status(info('r1', 'running', { filePath: '' }));
  tracker.register([info('r1', 'queued')]);
  assert.equal(tracker.get('r1')?.info.status, 'running');
  assert.equal(tracker.get('r1')?.info.filePath, '/w/a.repsim.json');
});

test('a finished status alone does not end a run: its Done or Failed (after it) does', () => {
  const tracker = new RunTracker();
  const { messages, ends } = record(tracker);
  tracker.register([info('r1', 'running'), info('r2', 'queued')]);
  // A queued run cancelled before it starts: status, then Failed without a snapshot.
  tracker.status(info('r2', 'cancelled', { error: 'cancelled' }));
  assert.deepEqual(ends, []);
  assert.equal(tracker.active().length, 1);
  tracker.failed('r2', 'cancelled', true, null);
  assert.deepEqual(ends, [{ runId: 'r2', status: 'cancelled', error: 'cancelled' }]);
  assert.deepEqual(messages, [{ type: 'failed', runId: 'r2', error: 'cancelled', cancelled: true }]);
  assert.equal(tracker.current()?.info.runId, 'r1');
});

test('a failure keeps the partial snapshot; losing the server fails every active run', () => {
  const tracker = new RunTracker();
  const { messages, ends } = record(tracker);
  tracker.register([info('r1', 'running'), info('r2', 'queued'), info('r3', 'running')]);
  tracker.failed('r1', 'bad file', false, snapshot('r1', 'failed'));
  assert.equal(tracker.get('r1')?.info.status, 'failed');
  assert.equal(tracker.get('r1')?.snapshot?.error, 'bad file');
  tracker.failed('r3', 'cancelled', true, null);
  assert.equal(tracker.get('r3')?.info.status, 'cancelled');
  tracker.serverLost('the compute server stopped unexpectedly (exit code 134)');
  assert.deepEqual(
    ends.map((e) => [e.runId, e.status]),
    [
      ['r1', 'failed'],
      ['r3', 'cancelled'],
      ['r2', 'failed'],
    ],
  );
  assert.equal(messages.at(-1)?.type, 'failed');
  assert.equal(tracker.get('r2')?.error, 'the compute server stopped unexpectedly (exit code 134)');
  assert.equal(tracker.active().length, 0);
});

test('a placeholder snapshot says what is known before the server reports', () => {
  assert.deepEqual(placeholderSnapshot(info('r9', 'queued')), { runId: 'r9', experiment: 'exp-r9', file: '/w/a.repsim.json', status: 'queued', error: undefined, models: [], training: {}, comparisons: [] });
});

test('progress text: percent, ETA, summary', () => {
  assert.equal(progressPercent({ phase: 'train', label: 'x', step: 1, total: 3 }), 33);
  assert.equal(progressPercent({ phase: 'train', label: 'x', step: 5, total: 0 }), undefined);
  assert.equal(progressPercent({ phase: 'train', label: 'x', step: 9, total: 3 }), 100);
  assert.equal(formatEta(75), '1:15');
  assert.equal(formatEta(3725), '1:02:05');
  assert.equal(formatEta(0.4), '0:00');
  assert.equal(formatEta(Number.NaN), undefined);
  assert.equal(formatEta(-1), undefined);
  assert.equal(progressSummary({ phase: 'compare', label: 'x', step: 42, total: 100, etaSeconds: 61 }), '42% · ETA 1:01');
  assert.equal(progressSummary(undefined), '');
  assert.equal(progressMessage({ phase: 'compare', label: 'comparing a-vs-b (1/2)', step: 1, total: 4 }), 'comparing a-vs-b (1/2) — 25%');
  assert.equal(progressMessage(undefined), 'starting…');
});
