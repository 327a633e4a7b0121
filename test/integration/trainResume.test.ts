/**
 * A compute server killed in the middle of a training: the rerun resumes from the training
 * checkpoint (not from the start), and ends with the weights an uninterrupted run gets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Done, Failed, Log, Training } from '../../src/protocol/index.js';
import { Run } from '../../src/protocol/index.js';
import { launchServer } from '../../src/server/launcher.js';

const backend = process.env.REPSIM_TEST_BACKEND as never;

function files(directory: string, name: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(name)).map((f) => join(directory, f));
}

async function runToEnd(file: string, cacheDirectory: string): Promise<{ logs: string[]; ok: boolean; error?: string }> {
  const server = await launchServer({ backend, cacheDirectory });
  const logs: string[] = [];
  try {
    server.connection.onNotification(Log, ({ message }) => logs.push(message));
    const ended = new Promise<{ ok: boolean; error?: string }>((resolve) => {
      server.connection.onNotification(Done, () => resolve({ ok: true }));
      server.connection.onNotification(Failed, ({ error }) => resolve({ ok: false, error }));
    });
    await server.connection.sendRequest(Run, { filePath: file });
    return { logs, ...(await ended) };
  } finally {
    await server.stop();
  }
}

test('a server killed mid-training resumes from its checkpoint; the weights equal an uninterrupted run’s', { timeout: 300_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'repsim-train-resume-'));
  try {
    const file = join(work, 'train.repsim.json');
    writeFileSync(file, JSON.stringify({ version: 1, experiments: [{
      name: 'train',
      data: { dataset: 'fashion-mnist-subset', evaluationExamples: 64 },
      models: { m: { architecture: 'plain-cnn-10', seed: 0, training: { epochs: 1, batchSize: 64, augment: false } } },
      comparisons: [{ name: 'self', a: 'm', b: 'm', layers: 'blocks', batchSize: 32 }],
    }] }));
    const interrupted = join(work, 'cache-interrupted');
    const first = await launchServer({ backend, cacheDirectory: interrupted });
    let killedAfter = -1;
    const killed = new Promise<void>((resolve) => {
      first.connection.onNotification(Training, ({ metrics }) => {
        // Checkpoints are saved every 10 steps: by batch 25 one is on disk.
        if (metrics.batch !== undefined && metrics.batch >= 25 && killedAfter < 0) {
          killedAfter = metrics.batch;
          first.process.kill('SIGKILL');
          resolve();
        }
      });
    });
    await first.connection.sendRequest(Run, { filePath: file });
    await killed;
    await first.exited;
    assert.equal(files(interrupted, 'training-state.json').length, 1, 'a checkpoint was left by the killed server');

    const resumed = await runToEnd(file, interrupted);
    assert.ok(resumed.ok, resumed.error);
    assert.ok(resumed.logs.some((l) => /m: resuming the interrupted training of .* from its checkpoint/.test(l)), resumed.logs.join('\n'));
    assert.equal(files(interrupted, 'training-state.json').length, 0, 'the checkpoint is removed once the model is saved');

    const uninterrupted = join(work, 'cache-uninterrupted');
    const whole = await runToEnd(file, uninterrupted);
    assert.ok(whole.ok, whole.error);
    const [weightsA] = files(interrupted, join('model', 'weights.bin'));
    const [weightsB] = files(uninterrupted, join('model', 'weights.bin'));
    assert.ok(weightsA && weightsB, 'both runs saved a model');
    assert.ok(readFileSync(weightsA).equals(readFileSync(weightsB)), 'resumed training gives the same weights, bit for bit');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
