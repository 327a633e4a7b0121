/**
 * Starts the compute server as a child process and connects to it over stdio JSON-RPC: what
 * the CLI and the extension both do. The child's stderr (its log) is passed on line by line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { bundledScript } from '../engine/packageRoot.js';
import { Exit, Initialize, PROTOCOL_VERSION, Shutdown, type InitializeParams, type InitializeResult } from '../protocol/index.js';

export interface LaunchOptions extends Omit<InitializeParams, 'protocolVersion'> {
  /** Each line the server logs on stderr. */
  readonly onLog?: (line: string) => void;
  /** Node executable (default: this one) and extra environment. */
  readonly execPath?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface LaunchedServer {
  readonly connection: MessageConnection;
  readonly info: InitializeResult;
  readonly process: ChildProcess;
  /** Exit code and signal once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Shuts the server down politely, then kills it if it lingers. */
  stop(): Promise<void>;
}

export async function launchServer(options: LaunchOptions = {}): Promise<LaunchedServer> {
  const child = spawn(options.execPath ?? process.execPath, [bundledScript('server.js')], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const recentLog: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    recentLog.push(line);
    if (recentLog.length > 20) recentLog.shift();
    options.onLog?.(line);
  });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  connection.listen();
  const failedToStart = exited.then(({ code, signal }) => {
    const tail = recentLog.filter((line) => line.trim()).slice(-5).join('\n');
    throw new Error(`the compute server exited during start-up (${signal ?? `code ${code}`})${tail ? `:\n${tail}` : ''}`);
  });
  const { onLog: _onLog, execPath: _execPath, env: _env, ...params } = options;
  const info = await Promise.race([connection.sendRequest(Initialize, { protocolVersion: PROTOCOL_VERSION, ...params }), failedToStart]);
  return {
    connection,
    info,
    process: child,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timeout = setTimeout(() => child.kill('SIGKILL'), 3000);
      try {
        await Promise.race([connection.sendRequest(Shutdown), exited]);
        await connection.sendNotification(Exit).catch(() => undefined);
        await exited;
      } catch {
        child.kill('SIGKILL');
      } finally {
        clearTimeout(timeout);
        connection.dispose();
      }
    },
  };
}
