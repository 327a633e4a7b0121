/**
 * The compute server: a Node process that speaks JSON-RPC over stdio. stdout carries the
 * protocol only; logs go to stderr (and to the client as Log notifications). It exits when its
 * parent goes away.
 */
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { ComputeServer } from './computeServer.js';

function log(message: string): void {
  process.stderr.write(`[repsim-server] ${message}\n`);
}

const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
new ComputeServer(connection, log).listen();

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
