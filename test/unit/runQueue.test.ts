import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunQueue } from '../../src/server/runs/runQueue.js';
import { canonicalJson, hashKey } from '../../src/server/cache/workspaceCache.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

test('runs execute one at a time in order; cancel drops queued runs and aborts the running one', async () => {
  const events: string[] = [];
  const queue = new RunQueue<string>((run) => events.push(`${run.label}:${run.status}`));
  let releaseFirst!: () => void;
  const first = queue.enqueue('first', (signal) => new Promise((resolve, reject) => {
    releaseFirst = () => resolve('one');
    signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
  }));
  const second = queue.enqueue('second', async () => 'two');
  const third = queue.enqueue('third', async () => 'three');
  await tick();
  assert.equal(first.status, 'running');
  assert.equal(second.status, 'queued');
  assert.equal(queue.cancel(third.id), true);
  releaseFirst();
  await Promise.all([first.done, second.done, third.done]);
  assert.deepEqual([first.result, second.result, third.status], ['one', 'two', 'cancelled']);
  assert.deepEqual(events, ['first:queued', 'second:queued', 'third:queued', 'first:running', 'third:cancelled', 'first:done', 'second:running', 'second:done']);

  const long = queue.enqueue('long', (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('x'), { name: 'AbortError' })))));
  await tick();
  assert.equal(queue.cancel(long.id), true);
  await long.done;
  assert.equal(long.status, 'cancelled');
  assert.equal(queue.cancel(long.id), false);
  const failing = queue.enqueue('failing', async () => {
    throw new Error('boom');
  });
  await failing.done;
  assert.equal(failing.status, 'failed');
  assert.equal(failing.error, 'boom');
});

test('cache keys ignore property order and change with any value', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] }), '{"a":[1,{"c":3,"d":2}],"b":1}');
  assert.equal(hashKey({ x: 1, y: 2 }), hashKey({ y: 2, x: 1 }));
  assert.notEqual(hashKey({ x: 1, y: 2 }), hashKey({ x: 1, y: 3 }));
});
