/**
 * One results folder given for a run of several experiments (`repsim run --out DIR`): each
 * experiment gets its own folder inside it rather than overwriting the previous one's files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpz } from '../../src/engine/io/npz.js';
import { seededRandom } from '../../src/engine/random.js';
import { Done, Failed, Run } from '../../src/protocol/index.js';
import { launchServer } from '../../src/server/launcher.js';

function layers(seed: number) {
  const random = seededRandom(seed);
  return [8, 12].map((width, i) => ({ name: `layer${i}`, array: { shape: [64, width], data: Float32Array.from({ length: 64 * width }, () => random() - 0.5) } }));
}

test('--out DIR with several experiments: DIR/<experiment> each', async () => {
  const work = mkdtempSync(join(tmpdir(), 'repsim-outdir-'));
  const server = await launchServer({ backend: process.env.REPSIM_TEST_BACKEND as never, cacheDirectory: join(work, 'cache') });
  try {
    writeFileSync(join(work, 'a.npz'), encodeNpz(layers(1)));
    writeFileSync(join(work, 'b.npz'), encodeNpz(layers(2)));
    const models = { a: { activations: './a.npz' }, b: { activations: './b.npz' } };
    const file = join(work, 'two.repsim.json');
    writeFileSync(
      file,
      JSON.stringify({
        experiments: [
          { name: 'first', models, comparisons: [{ name: 'x', a: 'a', b: 'b', batchSize: 16 }] },
          { name: 'second', models, comparisons: [{ name: 'x', a: 'b', b: 'a', batchSize: 32 }] },
        ],
      }),
    );
    const out = join(work, 'out');
    const ended = new Map<string, string>();
    const allEnded = new Promise<void>((resolve) => {
      const end = (runId: string, how: string) => {
        ended.set(runId, how);
        if (ended.size === 2) resolve();
      };
      server.connection.onNotification(Done, ({ runId }) => end(runId, 'done'));
      server.connection.onNotification(Failed, ({ runId, error }) => end(runId, error));
    });
    const { runs } = await server.connection.sendRequest(Run, { filePath: file, outDir: out });
    assert.equal(runs.length, 2);
    await allEnded;
    assert.deepEqual([...ended.values()], ['done', 'done']);
    for (const [experiment, b] of [['first', ['layer0', 'layer1']], ['second', ['layer0', 'layer1']]] as const) {
      const results = JSON.parse(readFileSync(join(out, experiment, 'results.json'), 'utf8'));
      assert.equal(results.experiment, experiment);
      const x = JSON.parse(readFileSync(join(out, experiment, 'x.json'), 'utf8'));
      assert.equal(x.a, experiment === 'first' ? 'a' : 'b');
      assert.deepEqual(x.layersB, b);
    }
    assert.equal(existsSync(join(out, 'results.json')), false, 'nothing of either run in DIR itself');
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
