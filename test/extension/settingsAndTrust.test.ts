import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolveSettingPath, resolveSettings } from '../../src/extension/settings.js';
import { TrustGate, trustRefusal } from '../../src/extension/trust.js';

test('settings: defaults, cache beside the workspace, paths resolved', () => {
  assert.deepEqual(resolveSettings({}, '/ws', '/home/u'), { backend: 'auto', dataDirectory: undefined, cacheDirectory: join('/ws', '.repsim'), defaultBatchSize: 256, defaultPasses: 1 });
  assert.deepEqual(resolveSettings({ backend: 'wasm', dataDirectory: '~/data', cacheDirectory: 'cache', defaultBatchSize: 64, defaultPasses: 3 }, '/ws', '/home/u'), {
    backend: 'wasm',
    dataDirectory: join('/home/u', 'data'),
    cacheDirectory: join('/ws', 'cache'),
    defaultBatchSize: 64,
    defaultPasses: 3,
  });
  // Nonsense falls back to the defaults rather than reaching the server.
  const odd = resolveSettings({ backend: 'cuda', defaultBatchSize: 2, defaultPasses: 1.5, cacheDirectory: '   ' }, undefined, '/home/u');
  assert.deepEqual(odd, { backend: 'auto', dataDirectory: undefined, cacheDirectory: undefined, defaultBatchSize: 256, defaultPasses: 1 });
  assert.equal(resolveSettingPath('${workspaceFolder}/d', '/ws'), join('/ws', 'd'));
  assert.equal(resolveSettingPath('relative', undefined), undefined);
  assert.equal(resolveSettingPath('/abs/../x', undefined), '/x');
});

test('untrusted workspaces: every action that runs something is refused with a clear message', () => {
  assert.equal(trustRefusal(true, 'run experiments'), undefined);
  const message = trustRefusal(false, 'run experiments');
  assert.match(message ?? '', /cannot run experiments in an untrusted workspace/);
  assert.match(message ?? '', /Trust this workspace/);
  let trusted = true;
  const gate = new TrustGate(() => trusted);
  assert.equal(gate.refusal('compare models'), undefined);
  trusted = false;
  assert.match(gate.refusal('compare models') ?? '', /cannot compare models/);
  gate.setOverride(true);
  assert.equal(gate.isTrusted, true);
  gate.setOverride(undefined);
  assert.equal(gate.isTrusted, false);
});
