/**
 * The compute server: a Node process that speaks JSON-RPC over stdio. stdout carries the
 * protocol only; logs go to stderr. It exits when its parent goes away.
 */
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { formatBackendReport, initBackend } from '../engine/backend/index.js';
import { Exit, Initialize, PROTOCOL_VERSION, Shutdown, type InitializeResult } from '../protocol/index.js';

const SERVER_VERSION = '0.1.0';

function log(message: string): void {
  process.stderr.write(`[repsim-server] ${message}\n`);
}

const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));

connection.onRequest(Initialize, async (params): Promise<InitializeResult> => {
  if (params.protocolVersion !== PROTOCOL_VERSION) {
    throw new Error(`protocol version ${params.protocolVersion} is not supported (server speaks ${PROTOCOL_VERSION})`);
  }
  const backend = await initBackend(params.backend ?? 'auto');
  log(formatBackendReport(backend));
  return {
    protocolVersion: PROTOCOL_VERSION,
    serverVersion: SERVER_VERSION,
    backend,
    capabilities: { measures: ['cka', 'subspace-match'], estimators: ['biased', 'debiased', 'minibatch'], kernels: ['linear', 'rbf'] },
  };
});

let shuttingDown = false;
connection.onRequest(Shutdown, () => {
  shuttingDown = true;
});
connection.onNotification(Exit, () => process.exit(shuttingDown ? 0 : 1));

// Stdio closing means the parent is gone; so does a parent pid that no longer exists.
connection.onClose(() => process.exit(0));
const parentPid = process.ppid;
setInterval(() => {
  try {
    process.kill(parentPid, 0);
  } catch {
    process.exit(0);
  }
}, 2000).unref();

connection.listen();
log(`started (pid ${process.pid})`);
