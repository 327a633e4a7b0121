import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { Exit, Initialize, PROTOCOL_VERSION, Shutdown } from '../../src/protocol/index.js';

const SERVER = join(__dirname, '..', '..', 'dist', 'server.js');

test('the server answers initialize over stdio JSON-RPC with its backend, logs on stderr only', async () => {
  const child = spawn(process.execPath, [SERVER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.listen();
  try {
    const result = await connection.sendRequest(Initialize, { protocolVersion: PROTOCOL_VERSION, backend: 'cpu' });
    assert.equal(result.backend.name, 'cpu');
    assert.equal(result.backend.selection, 'forced');
    assert.ok(result.capabilities.estimators.includes('minibatch'));
    await assert.rejects(connection.sendRequest(Initialize, { protocolVersion: 999 }), /protocol version 999/);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await connection.sendRequest(Shutdown);
    await connection.sendNotification(Exit);
    assert.equal(await exited, 0);
    assert.match(stderr, /^\[repsim-server\] compute: TensorFlow\.js cpu — ONNX Runtime not used: --backend cpu runs everything on TensorFlow\.js$/m);
    assert.match(stderr, /^\[repsim-server\] training: TensorFlow\.js cpu .*forced/m);
  } finally {
    connection.dispose();
    child.kill();
  }
});

test('the server exits when its stdin closes (parent gone)', async () => {
  const child = spawn(process.execPath, [SERVER], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin.end();
  assert.equal(await exited, 0);
});
